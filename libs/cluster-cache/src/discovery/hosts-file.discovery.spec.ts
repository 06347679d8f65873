import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionError } from '../errors/cluster-cache.error';
import { waitFor } from '../transport/testing/wait-for';
import { parseHostsFile } from './hosts-file-parser';
import { HostsFileDiscovery } from './hosts-file.discovery';
import { recordingContext } from './testing/discovery-context';
import { freeTcpPortRange } from './testing/free-port';

describe('parseHostsFile', () => {
  it("reads Erlang's .hosts.erlang syntax, comments, blank lines and plain host lines", () => {
    const text = [
      "% Erlang's hosts file",
      "'127.0.0.1'.",
      '',
      "'db1.example.com'.   % a comment after a term",
      "  'a.example'. 'b.example'.",
      '10.77.0.5',
      'localhost.',
      '::1',
      "'127.0.0.1'.",
      "'odd%host'.",
    ].join('\r\n');
    const parsed = parseHostsFile(text);
    expect(parsed.hosts).toEqual([
      { host: '127.0.0.1', line: 2 },
      { host: 'db1.example.com', line: 4 },
      { host: 'a.example', line: 5 },
      { host: 'b.example', line: 5 },
      { host: '10.77.0.5', line: 6 },
      { host: 'localhost', line: 7 },
      { host: '::1', line: 8 },
    ]);
    // '%' inside quotes is not a comment: the atom is kept whole, and is not a host.
    expect(parsed.problems).toEqual([{ line: 10, text: "'odd%host'.", problem: "'odd%host' is not a host name or IP address" }]);
  });

  it('reports malformed lines with their numbers and keeps the rest', () => {
    const text = ["'10.0.0.1'.", "'10.0.0.2'", 'two hosts here', "'10.0.0.3'. junk", '-bad-.example', "'10.0.0.4'.", "'{not, a, host}'."].join('\n');
    const parsed = parseHostsFile(text);
    expect(parsed.hosts.map((h) => h.host)).toEqual(['10.0.0.1', '10.0.0.4']);
    expect(parsed.problems.map((p) => [p.line, p.problem])).toEqual([
      [2, expect.stringMatching(/expected 'host'\. \(a host in single quotes, then a full stop\), got "'10.0.0.2'"/)],
      [3, expect.stringMatching(/expected one host per line/)],
      [4, expect.stringMatching(/got "junk"/)],
      [5, expect.stringMatching(/"-bad-.example" is not a host name or IP address/)],
      [7, expect.stringMatching(/'\{not, a, host\}' is not a host name/)],
    ]);
  });

  it('quotes a bad line escaped and cut in its problem, and keeps the line as it is in `text`', () => {
    const line = `\u001b[2J${'A'.repeat(1_000_000)}\u0008\u0007forged`;
    const [problem] = parseHostsFile(`'10.0.0.1'.\n${line}\n`).problems;
    expect(problem.line).toBe(2);
    expect(problem.text).toBe(line);
    expect(problem.problem.length).toBeLessThan(400);
    expect(problem.problem).not.toMatch(/[\u0000-\u001f]/);
    expect(problem.problem).toMatch(/is not a host name or IP address/);
  });

  it('accepts an empty file', () => {
    expect(parseHostsFile('')).toEqual({ hosts: [], problems: [] });
    expect(parseHostsFile('% nothing\n\n')).toEqual({ hosts: [], problems: [] });
  });
});

describe('HostsFileDiscovery with real TCP listeners on 127.0.0.x', () => {
  let dir: string;
  let file: string;
  const servers: Server[] = [];
  const accepted: Socket[] = [];
  let strategy: HostsFileDiscovery | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ncc-hosts-'));
    file = join(dir, 'hosts.erlang');
  });

  afterEach(async () => {
    await strategy?.stop();
    strategy = undefined;
    for (const socket of accepted.splice(0)) socket.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
    rmSync(dir, { recursive: true, force: true });
  });

  async function listen(host: string, port: number): Promise<Server> {
    const server = createServer((socket) => accepted.push(socket));
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return server;
  }

  it('probes the port range on every listed host and reports the ports that accept (not its own)', async () => {
    const base = await freeTcpPortRange(['127.0.0.51', '127.0.0.52'], 4);
    await listen('127.0.0.51', base);
    await listen('127.0.0.51', base + 2);
    await listen('127.0.0.52', base + 1);
    writeFileSync(file, "% two hosts\n'127.0.0.51'.\n127.0.0.52\n");
    // This node is 127.0.0.51:base+3 (listening too): it must not report itself.
    await listen('127.0.0.51', base + 3);
    const ctx = recordingContext({ host: '127.0.0.51', port: base + 3 });
    strategy = new HostsFileDiscovery({ path: file, ports: [base, base + 3], interval: 30 });
    strategy.start(ctx);
    await waitFor(() => ctx.addresses.size === 3, 5_000, 'three nodes');
    expect([...ctx.addresses].sort()).toEqual([`127.0.0.51:${base}`, `127.0.0.51:${base + 2}`, `127.0.0.52:${base + 1}`].sort());
    expect(ctx.logger.has('log', new RegExp(`2 host\\(s\\) from ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, probing ports ${base}-${base + 3} every 30 ms`))).toBe(true);
    // Known addresses are reported every round without being probed again.
    const reports = ctx.reports.length;
    await waitFor(() => ctx.reports.length >= reports + 3, 5_000, 'more rounds');
    expect(ctx.reports.at(-1)!.sort()).toEqual([`127.0.0.51:${base}`, `127.0.0.51:${base + 2}`, `127.0.0.52:${base + 1}`].sort());
  });

  it('reads the file again on its interval: new hosts are probed, removed ones are no longer reported', async () => {
    const base = await freeTcpPortRange(['127.0.0.53', '127.0.0.54'], 2);
    await listen('127.0.0.53', base);
    await listen('127.0.0.54', base + 1);
    writeFileSync(file, "'127.0.0.53'.\n");
    const ctx = recordingContext({ host: '127.0.0.50', port: base });
    strategy = new HostsFileDiscovery({ path: file, ports: [base, base + 1], interval: 20 });
    strategy.start(ctx);
    await waitFor(() => ctx.addresses.has(`127.0.0.53:${base}`), 5_000, 'the first host');
    writeFileSync(file, "'127.0.0.54'.\n");
    await waitFor(() => ctx.addresses.has(`127.0.0.54:${base + 1}`), 5_000, 'the added host');
    await waitFor(() => ctx.reports.at(-1)!.join() === `127.0.0.54:${base + 1}`, 5_000, 'only the listed host');
    expect(strategy.currentHosts()).toEqual(['127.0.0.54']);
  });

  it('warns about a malformed line once, with its number, and uses the other lines', async () => {
    const base = await freeTcpPortRange(['127.0.0.55'], 1);
    await listen('127.0.0.55', base);
    writeFileSync(file, "'127.0.0.55'.\n'broken\n");
    const ctx = recordingContext({ host: '127.0.0.50', port: base });
    strategy = new HostsFileDiscovery({ path: file, ports: [base, base], interval: 20 });
    strategy.start(ctx);
    await waitFor(() => ctx.reports.length >= 3, 5_000, 'three rounds');
    expect(ctx.addresses).toEqual(new Set([`127.0.0.55:${base}`]));
    const warnings = ctx.logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toMatch(new RegExp(`hosts-file discovery: .*hosts\\.erlang line 2: expected 'host'\\..*; line ignored: 'broken`));
  });

  /** The warnings logged so far. */
  const warningsOf = (ctx: ReturnType<typeof recordingContext>) => ctx.logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);

  it('logs a 1 MB line escaped and cut, and still uses the other lines', async () => {
    const base = await freeTcpPortRange(['127.0.0.58'], 1);
    await listen('127.0.0.58', base);
    writeFileSync(file, `'127.0.0.58'.\n\u001b[31m${'A'.repeat(1_000_000)}\u0008\u0007forged\u009b2J\n`);
    const ctx = recordingContext({ host: '127.0.0.50', port: base });
    strategy = new HostsFileDiscovery({ path: file, ports: [base, base], interval: 20 });
    strategy.start(ctx);
    await waitFor(() => ctx.reports.length >= 3, 5_000, 'three rounds');
    expect(ctx.addresses).toEqual(new Set([`127.0.0.58:${base}`]));
    const warnings = warningsOf(ctx);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/hosts\.erlang line 2: ".*" is not a host name or IP address .*; line ignored: /);
    expect(warnings[0].length).toBeLessThan(1000);
    expect(warnings[0]).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    // The escape character shows as an escape, and the cut says how long the line was.
    expect(warnings[0]).toMatch(/\\(u001b|x1b)\[31mAAAA/);
    expect(warnings[0]).toMatch(/…\s?\(10000\d\d (bytes|characters)\)$/);
  });

  it('logs the first malformed lines of a file and counts the rest, and rate-limits a file that keeps changing', async () => {
    const base = await freeTcpPortRange(['127.0.0.59'], 1);
    await listen('127.0.0.59', base);
    const junk = (round: number) => Array.from({ length: 50 }, (_, i) => `bad line ${round} ${i}`).join('\n');
    writeFileSync(file, `'127.0.0.59'.\n${junk(0)}\n`);
    const ctx = recordingContext({ host: '127.0.0.50', port: base });
    strategy = new HostsFileDiscovery({ path: file, ports: [base, base], interval: 20 });
    strategy.start(ctx);
    await waitFor(() => ctx.reports.length >= 2, 5_000, 'two rounds');
    const first = warningsOf(ctx);
    expect(first).toHaveLength(6);
    expect(first.slice(0, 5).map((w) => /line (\d+):/.exec(w)?.[1])).toEqual(['2', '3', '4', '5', '6']);
    expect(first[5]).toMatch(/hosts\.erlang has 45 more malformed line\(s\), not logged one by one \(lines 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, …\); they are ignored too$/);

    // The same problems in a file that changed elsewhere: nothing new to say.
    writeFileSync(file, `'127.0.0.59'. % edited\n${junk(0)}\n`);
    let reports = ctx.reports.length;
    await waitFor(() => ctx.reports.length >= reports + 2, 5_000, 'a round with the edited file');
    expect(warningsOf(ctx)).toHaveLength(6);

    // New junk every round: at most 5 lines of each kind a minute.
    for (let round = 1; round <= 8; round++) {
      writeFileSync(file, `'127.0.0.59'.\n${junk(round)}\n`);
      reports = ctx.reports.length;
      await waitFor(() => ctx.reports.length >= reports + 2, 5_000, `round ${round}`);
    }
    const all = warningsOf(ctx);
    expect(all.filter((w) => / line \d+: /.test(w))).toHaveLength(5);
    expect(all.filter((w) => /more malformed line/.test(w))).toHaveLength(5);
    expect(ctx.addresses).toEqual(new Set([`127.0.0.59:${base}`]));
  });

  it('rate-limits warnings about hosts that do not resolve', async () => {
    const base = await freeTcpPortRange(['127.0.0.62'], 1);
    await listen('127.0.0.62', base);
    writeFileSync(file, ["'127.0.0.62'.", ...Array.from({ length: 8 }, (_, i) => `'no-such-host-${i}.invalid'.`)].join('\n'));
    const ctx = recordingContext({ host: '127.0.0.50', port: base });
    strategy = new HostsFileDiscovery({ path: file, ports: [base, base], interval: 20 });
    strategy.start(ctx);
    await waitFor(() => ctx.logger.lines.filter((l) => l.level === 'warn').length >= 5, 15_000, 'the warnings');
    const reports = ctx.reports.length;
    await waitFor(() => ctx.reports.length >= reports + 2, 15_000, 'two more rounds');
    expect(warningsOf(ctx)).toHaveLength(5);
    expect(warningsOf(ctx).every((w) => /cannot resolve no-such-host-\d+\.invalid/.test(w))).toBe(true);
  }, 30_000);

  it('refuses a file over MAX_FILE_BYTES, and one that is not a regular file (a FIFO), without waiting', async () => {
    writeFileSync(file, `'127.0.0.1'.\n%${'x'.repeat(HostsFileDiscovery.MAX_FILE_BYTES)}\n`);
    strategy = new HostsFileDiscovery({ path: file });
    expect(() => strategy!.start(recordingContext({ port: 14000 }))).toThrow(
      `hosts-file discovery: cannot read the hosts file ${file}: ${file} is larger than ${HostsFileDiscovery.MAX_FILE_BYTES} bytes`,
    );
    const fifo = join(dir, 'fifo.hosts');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    strategy = new HostsFileDiscovery({ path: fifo });
    expect(() => strategy!.start(recordingContext({ port: 14000 }))).toThrow(`${fifo} is not a regular file`);
    strategy = undefined;

    // Later, a file grown too big is not read: the last hosts stay.
    const base = await freeTcpPortRange(['127.0.0.60'], 1);
    await listen('127.0.0.60', base);
    writeFileSync(file, "'127.0.0.60'.\n");
    const ctx = recordingContext({ host: '127.0.0.50', port: base });
    strategy = new HostsFileDiscovery({ path: file, ports: [base, base], interval: 20 });
    strategy.start(ctx);
    await waitFor(() => ctx.reports.length >= 1, 5_000, 'the first round');
    writeFileSync(file, `'127.0.0.61'.\n%${'x'.repeat(HostsFileDiscovery.MAX_FILE_BYTES)}\n`);
    await waitFor(() => warningsOf(ctx).length > 0, 5_000, 'the warning');
    const reports = ctx.reports.length;
    await waitFor(() => ctx.reports.length >= reports + 3, 5_000, 'more rounds');
    expect(warningsOf(ctx)).toEqual([
      `hosts-file discovery: cannot read the hosts file ${file} (${file} is larger than ${HostsFileDiscovery.MAX_FILE_BYTES} bytes); using its last 1 host(s)`,
    ]);
    expect(ctx.reports.at(-1)).toEqual([`127.0.0.60:${base}`]);
    expect(strategy.currentHosts()).toEqual(['127.0.0.60']);
  });

  it('uses the first hosts of a file that lists more than MAX_ADDRESSES / ports, and says so', async () => {
    const hosts = Array.from({ length: 5000 }, (_, i) => `127.1.${i >> 8}.${i & 255}`);
    writeFileSync(file, hosts.map((h) => `'${h}'.`).join('\n'));
    const ctx = recordingContext({ host: '127.0.0.50', port: 14000 });
    strategy = new HostsFileDiscovery({ path: file, ports: [14000, 14001], interval: 60_000 });
    strategy.start(ctx);
    await strategy.stop();
    const most = HostsFileDiscovery.MAX_ADDRESSES / 2;
    expect(strategy.currentHosts()).toEqual(hosts.slice(0, most));
    expect(warningsOf(ctx)).toEqual([
      `hosts-file discovery: ${file} lists 5000 hosts; using the first ${most} (at most ${HostsFileDiscovery.MAX_ADDRESSES} addresses: hosts × ports 14000-14001)`,
    ]);
  });

  it('fails to start, naming the path, when the file does not exist', () => {
    strategy = new HostsFileDiscovery({ path: join(dir, 'missing.hosts') });
    expect(() => strategy!.start(recordingContext({ port: 14000 }))).toThrow(
      `hosts-file discovery: the hosts file ${join(dir, 'missing.hosts')} does not exist; create it with one host per line (e.g. '10.0.0.5'.) or set the strategy's path`,
    );
  });

  it('keeps its hosts and warns once when the file disappears later, and says when it is back', async () => {
    const base = await freeTcpPortRange(['127.0.0.56'], 1);
    await listen('127.0.0.56', base);
    writeFileSync(file, "'127.0.0.56'.\n");
    const ctx = recordingContext({ host: '127.0.0.50', port: base });
    strategy = new HostsFileDiscovery({ path: file, ports: [base, base], interval: 20 });
    strategy.start(ctx);
    await waitFor(() => ctx.reports.length >= 1, 5_000, 'the first round');
    rmSync(file);
    await waitFor(() => ctx.logger.has('warn', /cannot read the hosts file .* \(ENOENT\); using its last 1 host\(s\)/), 5_000, 'the warning');
    const reports = ctx.reports.length;
    await waitFor(() => ctx.reports.length >= reports + 3, 5_000, 'rounds without the file');
    expect(ctx.reports.at(-1)).toEqual([`127.0.0.56:${base}`]);
    expect(ctx.logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    writeFileSync(file, "'127.0.0.56'.\n");
    await waitFor(() => ctx.logger.has('log', /can be read again/), 5_000, 'the recovery');
  });

  it('resolves host names and warns once about one that does not resolve', async () => {
    const base = await freeTcpPortRange(['127.0.0.1'], 1);
    await listen('127.0.0.1', base);
    writeFileSync(file, "'localhost'.\n'no-such-host.invalid'.\n");
    const ctx = recordingContext({ host: '127.0.0.50', port: base });
    strategy = new HostsFileDiscovery({ path: file, ports: [base, base], interval: 20 });
    strategy.start(ctx);
    await waitFor(() => ctx.addresses.has(`127.0.0.1:${base}`), 5_000, 'localhost');
    await waitFor(() => ctx.logger.has('warn', /cannot resolve no-such-host\.invalid/), 5_000, 'the warning');
    await waitFor(() => ctx.reports.length >= 3, 5_000, 'more rounds');
    expect(ctx.logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('probes with bounded concurrency, and stops probing on stop()', async () => {
    const base = await freeTcpPortRange(['127.0.0.57'], 40);
    await listen('127.0.0.57', base + 39);
    writeFileSync(file, "'127.0.0.57'.\n");
    let inFlight = 0;
    let most = 0;
    let probes = 0;
    // The module object itself (an `import * as` namespace would be a copy the strategy does not use).
    const net = require('node:net') as typeof import('node:net');
    const realConnect = net.connect;
    const spy = jest.spyOn(net, 'connect').mockImplementation(((...args: Parameters<typeof net.connect>) => {
      const socket = realConnect(...args);
      probes++;
      most = Math.max(most, ++inFlight);
      // A probe is over once it connected or failed (the socket may close a tick later).
      let over = false;
      const end = () => {
        if (!over) inFlight--;
        over = true;
      };
      socket.once('connect', end).once('error', end).once('close', end);
      return socket;
    }) as typeof net.connect);
    try {
      const ctx = recordingContext({ host: '127.0.0.50', port: base });
      strategy = new HostsFileDiscovery({ path: file, ports: [base, base + 39], interval: 20, concurrency: 3, connectTimeout: 200 });
      strategy.start(ctx);
      await waitFor(() => ctx.addresses.size === 1 && probes >= 80, 5_000, 'the listening port, and a second round');
      await strategy.stop();
      strategy = undefined;
      const after = probes;
      expect(most).toBeLessThanOrEqual(3);
      expect(inFlight).toBe(0);
      expect([...ctx.addresses]).toEqual([`127.0.0.57:${base + 39}`]);
      expect(probes).toBe(after);
    } finally {
      spy.mockRestore();
    }
  });

  it('checks its options when constructed', () => {
    expect(() => new HostsFileDiscovery({ ports: [14010, 14000] })).toThrow(InvalidOptionError);
    expect(() => new HostsFileDiscovery({ ports: [14010, 14000] })).toThrow(/from <= to/);
    expect(() => new HostsFileDiscovery({ ports: [1, 5000] })).toThrow(/spans 5000 ports; at most 1024/);
    expect(() => new HostsFileDiscovery({ ports: [0, 10] })).toThrow(/`hosts-file.ports\[0\]` must be an integer from 1 to 65535/);
    expect(new HostsFileDiscovery().path).toBe(join(process.cwd(), '.hosts.erlang'));
  });
});
