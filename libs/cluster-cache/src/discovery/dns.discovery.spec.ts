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

  it('checks its options when constructed', () => {
    expect(() => new DnsDiscovery({ name: 'x.test' })).toThrow(InvalidOptionError);
    expect(() => new DnsDiscovery({ name: 'x.test' })).toThrow(/`dns.port` is required with type "A"/);
    expect(() => new DnsDiscovery({ name: 'x.test', type: 'SRV', port: 1 })).toThrow(/not used with type "SRV"/);
    expect(() => new DnsDiscovery({ name: 'x.test', port: 1, servers: ['dns.example'] })).toThrow(/`dns.servers` must be DNS server IP addresses/);
  });
});
