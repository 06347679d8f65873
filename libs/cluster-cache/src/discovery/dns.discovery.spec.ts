import { InvalidOptionError } from '../errors/cluster-cache.error';
import { waitFor } from '../transport/testing/wait-for';
import { DnsDiscovery } from './dns.discovery';
import { recordingContext } from './testing/discovery-context';
import { TestDnsServer } from './testing/test-dns-server';

describe('DnsDiscovery against a real DNS server (dns2 on 127.0.0.1)', () => {
  let dns: TestDnsServer;
  let strategy: DnsDiscovery | undefined;

  beforeAll(async () => {
    dns = await TestDnsServer.start();
  });

  afterEach(async () => {
    await strategy?.stop();
    strategy = undefined;
    dns.failWith(undefined);
  });

  afterAll(() => dns.close());

  const lastReport = (ctx: { reports: string[][] }) => ctx.reports.at(-1) ?? [];

  it('reports the A records of a name with the given port, and follows record changes', async () => {
    dns.set('nodes.a.test', { A: ['127.0.0.11', '127.0.0.12'] });
    const ctx = recordingContext({ port: 14000 });
    strategy = new DnsDiscovery({ name: 'nodes.a.test', port: 14000, interval: 50, servers: [dns.address] });
    strategy.start(ctx);
    await waitFor(() => lastReport(ctx).length === 2, 5_000, 'the first answer');
    expect(lastReport(ctx)).toEqual(['127.0.0.11:14000', '127.0.0.12:14000']);

    dns.set('nodes.a.test', { A: ['127.0.0.12', '127.0.0.13'] });
    await waitFor(() => lastReport(ctx).includes('127.0.0.13:14000'), 5_000, 'the changed answer');
    // A node no longer in the answer is simply not reported any more.
    expect(lastReport(ctx)).toEqual(['127.0.0.12:14000', '127.0.0.13:14000']);
    expect(strategy.lastAnswer()).toEqual(['127.0.0.12:14000', '127.0.0.13:14000']);
    expect(dns.queries).toContain('A nodes.a.test');
  });

  it('reports AAAA records as [ip]:port', async () => {
    dns.set('nodes.aaaa.test', { AAAA: ['::1'] });
    const ctx = recordingContext({ port: 14000 });
    strategy = new DnsDiscovery({ name: 'nodes.aaaa.test', type: 'AAAA', port: 14001, interval: 50, servers: [dns.address] });
    strategy.start(ctx);
    await waitFor(() => lastReport(ctx).length === 1, 5_000, 'the AAAA answer');
    expect(lastReport(ctx)).toEqual(['[::1]:14001']);
  });

  it('reports SRV records with their ports, resolving the targets with the same server', async () => {
    dns.set('_cluster._tcp.nodes.srv.test', {
      SRV: [
        { target: 'n1.nodes.srv.test', port: 15001 },
        { target: 'n2.nodes.srv.test', port: 15002 },
        { target: 'unresolvable.nodes.srv.test', port: 15003 },
      ],
    });
    dns.set('n1.nodes.srv.test', { A: ['127.0.0.21'] });
    dns.set('n2.nodes.srv.test', { A: ['127.0.0.22'] });
    const ctx = recordingContext({ port: 14000 });
    strategy = new DnsDiscovery({ name: '_cluster._tcp.nodes.srv.test', type: 'SRV', interval: 50, servers: [dns.address] });
    strategy.start(ctx);
    await waitFor(() => lastReport(ctx).length === 3, 5_000, 'the SRV answer');
    // A target without address records is reported by name (the system resolver may know it).
    expect(lastReport(ctx)).toEqual(['127.0.0.21:15001', '127.0.0.22:15002', 'unresolvable.nodes.srv.test:15003']);
  });

  it('logs a resolver error once while it lasts, keeps polling, and recovers', async () => {
    dns.set('nodes.flaky.test', { A: ['127.0.0.31'] });
    dns.failWith('SERVFAIL');
    const ctx = recordingContext({ port: 14000 });
    strategy = new DnsDiscovery({ name: 'nodes.flaky.test', port: 14000, interval: 20, timeout: 500, servers: [dns.address] });
    strategy.start(ctx);
    const failures = () => dns.queries.filter((q) => q === 'A nodes.flaky.test').length;
    await waitFor(() => failures() >= 4, 5_000, 'several failed polls');
    const warnings = ctx.logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toMatch(/dns discovery: resolving A nodes\.flaky\.test \(port 14000\) failed: .*ESERVFAIL.*retrying every 20 ms/);
    expect(ctx.reports).toEqual([]);

    dns.failWith(undefined);
    await waitFor(() => ctx.reports.length > 0, 5_000, 'a report after recovery');
    expect(lastReport(ctx)).toEqual(['127.0.0.31:14000']);
    expect(ctx.logger.has('log', /resolving A nodes\.flaky\.test \(port 14000\) works again/)).toBe(true);

    // A different error is logged again (NXDOMAIN once the name is gone).
    dns.remove('nodes.flaky.test');
    await waitFor(() => ctx.logger.lines.filter((l) => l.level === 'warn').length === 2, 5_000, 'the NXDOMAIN warning');
    expect(ctx.logger.lines.filter((l) => l.level === 'warn')[1].message).toMatch(/ENOTFOUND/);
  });

  it('stops polling on stop()', async () => {
    dns.set('nodes.stop.test', { A: ['127.0.0.41'] });
    const ctx = recordingContext({ port: 14000 });
    strategy = new DnsDiscovery({ name: 'nodes.stop.test', port: 14000, interval: 20, servers: [dns.address] });
    strategy.start(ctx);
    await waitFor(() => ctx.reports.length >= 2, 5_000, 'two polls');
    await strategy.stop();
    const asked = dns.queries.length;
    const reported = ctx.reports.length;
    // A poll that was due after stop would have been sent within a few intervals; wait for a
    // later query of another strategy to show time passed, then compare.
    const other = new DnsDiscovery({ name: 'nodes.stop.test', port: 14000, interval: 20, servers: [dns.address] });
    const otherCtx = recordingContext({ port: 14001 });
    other.start(otherCtx);
    await waitFor(() => otherCtx.reports.length >= 5, 5_000, 'the other strategy polling');
    await other.stop();
    expect(ctx.reports.length).toBe(reported);
    expect(dns.queries.length - asked).toBeGreaterThanOrEqual(5);
  });

  it('keeps bounded state when every answer brings fresh addresses: at most MAX_ADDRESSES per answer, one warning a minute', async () => {
    const max = DnsDiscovery.MAX_ADDRESSES;
    let answers = 0;
    const fresh = () => Array.from({ length: max + 72 }, () => `10.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}`);
    dns.set('junk.a.test', () => ((answers += 1), { A: fresh() }));
    const ctx = recordingContext({ port: 14000 });
    strategy = new DnsDiscovery({ name: 'junk.a.test', port: 14000, interval: 10, servers: [dns.address] });
    strategy.start(ctx);
    await waitFor(() => ctx.reports.length >= 10, 20_000, 'ten answers');
    // Far more addresses went by than the strategy ever holds.
    expect(ctx.addresses.size).toBeGreaterThan(5 * max);
    for (const report of ctx.reports) {
      expect(report).toHaveLength(max);
      expect(new Set(report).size).toBe(max);
    }
    expect(strategy.lastAnswer().length).toBeLessThanOrEqual(max);
    expect(largestCollection(strategy)).toBeLessThanOrEqual(max);
    const warnings = ctx.logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toBe(
      `dns discovery: A junk.a.test (port 14000) answered ${max + 72} addresses; using ${max} of them (at most ${max} per answer: the ones of the previous answer, then a random choice)`,
    );
    expect(answers).toBeGreaterThanOrEqual(10);
    // The debug line names a few addresses, not all of them.
    const debug = ctx.logger.lines.filter((l) => l.level === 'debug').at(-1)!.message;
    expect(debug).toMatch(new RegExp(`^dns discovery: A junk\\.a\\.test \\(port 14000\\) → (10\\.[0-9.]+:14000, ){9}10\\.[0-9.]+:14000 … \\(${max} in all\\)$`));
  }, 60_000);

  it('keeps the addresses of the previous answer while the answer stays too big', async () => {
    const max = DnsDiscovery.MAX_ADDRESSES;
    const all = Array.from({ length: max + 20 }, (_, i) => `10.9.${i >> 8}.${i & 255}`);
    dns.set('big.a.test', { A: all });
    const ctx = recordingContext({ port: 14000 });
    strategy = new DnsDiscovery({ name: 'big.a.test', port: 14000, interval: 10, servers: [dns.address] });
    strategy.start(ctx);
    await waitFor(() => ctx.reports.length >= 3, 20_000, 'three answers');
    expect(ctx.reports[0]).toHaveLength(max);
    expect(ctx.reports.every((r) => r.join() === ctx.reports[0].join())).toBe(true);
    expect(ctx.reports[0].every((a) => all.includes(a.replace(/:14000$/, '')))).toBe(true);
  }, 60_000);

  it('resolves at most MAX_ADDRESSES records of an SRV answer', async () => {
    const max = DnsDiscovery.MAX_ADDRESSES;
    dns.set('_cluster._tcp.big.srv.test', { SRV: Array.from({ length: max + 40 }, (_, i) => ({ target: `10.8.0.${i}`, port: 15000 })) });
    const ctx = recordingContext({ port: 14000 });
    strategy = new DnsDiscovery({ name: '_cluster._tcp.big.srv.test', type: 'SRV', interval: 50, servers: [dns.address] });
    strategy.start(ctx);
    await waitFor(() => ctx.reports.length >= 2, 20_000, 'two answers');
    expect(ctx.reports[0]).toHaveLength(max);
    expect(ctx.reports[0].every((a) => /^10\.8\.0\.\d+:15000$/.test(a))).toBe(true);
    expect(ctx.logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      `dns discovery: SRV _cluster._tcp.big.srv.test answered ${max + 40} SRV records; resolving ${max} of them (a random choice, at most ${max} per answer)`,
    ]);
  }, 60_000);

  it('checks its options when constructed', () => {
    expect(() => new DnsDiscovery({ name: 'x.test' })).toThrow(InvalidOptionError);
    expect(() => new DnsDiscovery({ name: 'x.test' })).toThrow(/`dns.port` is required with type "A"/);
    expect(() => new DnsDiscovery({ name: 'x.test', type: 'SRV', port: 1 })).toThrow(/not used with type "SRV"/);
    expect(() => new DnsDiscovery({ name: 'x.test', port: 1, servers: ['dns.example'] })).toThrow(/`dns.servers` must be DNS server IP addresses/);
  });
});

/**
 * The size of the largest Map, Set or array a strategy holds (its own fields
 * and what they hold, a few levels down), leaving out the context it reports to.
 */
function largestCollection(strategy: object): number {
  let most = 0;
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || seen.has(value) || depth > 4) return;
    seen.add(value);
    if (value instanceof Map || value instanceof Set) {
      most = Math.max(most, value.size);
      for (const entry of value.entries()) visit(entry, depth + 1);
    } else if (Array.isArray(value)) {
      most = Math.max(most, value.length);
      for (const item of value) visit(item, depth + 1);
    } else {
      for (const [key, item] of Object.entries(value)) if (key !== 'context') visit(item, depth + 1);
    }
  };
  visit(strategy, 0);
  return most;
}
