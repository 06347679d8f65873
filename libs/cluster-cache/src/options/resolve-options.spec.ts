import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionError } from '../errors/cluster-cache.error';
import { ManualClock } from '../store/clock';
import type { ClusterCacheOptions } from './cluster-cache-options.interface';
import { isAddress, resolveOptions, resolveTableOptions } from './resolve-options';

/** The InvalidOptionError that `options` get from resolveOptions (fails if they are accepted). */
function refusal(options: object): InvalidOptionError {
  try {
    resolveOptions(options as never);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

describe('resolveOptions', () => {
  it('fills in defaults for an empty config (a lone node)', () => {
    const o = resolveOptions({});
    expect(o).toMatchObject({
      node: { name: 'nonode@127.0.0.1', host: '127.0.0.1', port: 0 },
      cookie: undefined,
      writes: 'sync',
      autoInitialize: 'merge',
      sessionTtl: 30 * 60_000,
      timing: { heartbeatInterval: 250, deadPeerTimeout: 1000, ackTimeout: 5000, sweepInterval: 1000 },
      encryptFrames: true,
      connections: { maxUnauthenticated: 128, maxUnauthenticatedPerAddress: 16 },
    });
  });

  it('takes frame encryption off only with TLS, and connection limits (from strings too)', () => {
    const tls = { key: 'k', cert: 'c', ca: 'a' };
    expect(resolveOptions({ tls, encryptFrames: false }).encryptFrames).toBe(false);
    const limits = { maxUnauthenticated: '8' as never, maxUnauthenticatedPerAddress: 2 };
    expect(resolveOptions({ connections: limits }).connections).toEqual({ maxUnauthenticated: 8, maxUnauthenticatedPerAddress: 2 });
    // A total below the default per-address limit lowers that too.
    expect(resolveOptions({ connections: { maxUnauthenticated: 4 } }).connections).toEqual({ maxUnauthenticated: 4, maxUnauthenticatedPerAddress: 4 });
  });

  it('takes the listen host from the node name and numbers from strings (env vars)', () => {
    const o = resolveOptions({ node: { name: 'a@127.0.0.5', port: '14000' as never }, cookie: 'a-long-enough-cookie' });
    expect(o.node).toEqual({ name: 'a@127.0.0.5', host: '127.0.0.5', port: 14000 });
  });

  it.each([
    [{ node: { name: 'no-at-sign' } }, 'node.name', /name@host/],
    [{ node: { name: 'a@127.0.0.1', host: '127.0.0.2' } }, 'node.name', /names host 127.0.0.1 but node.host is 127.0.0.2/],
    [{ node: { port: 70000 } }, 'node.port', /integer from 0 to 65535/],
    [{ node: { port: 'abc' } }, 'node.port', /"abc"/],
    [{ cookie: 42 }, 'cookie', /string/],
    [{ cookie: 'short' }, 'cookie', /16 characters/],
    [{ writes: 'eventually' }, 'writes', /"sync", "async"/],
    [{ ttl: 0 }, 'ttl', /integer from 1/],
    [{ sessions: { ttl: -1 } }, 'sessions.ttl', /integer from 1/],
    [{ persistence: {} }, 'persistence.dir', /required/],
    [{ persistence: { dir: '/tmp/x', fsync: 'yes' } }, 'persistence.fsync', /boolean/],
    [{ discovery: [{ strategy: 'carrier-pigeon' }] }, 'discovery[0].strategy', /"gossip"/],
    [{ discovery: [{ strategy: 'static', nodes: ['nohost'] }] }, 'discovery[0].nodes', /host:port/],
    [{ discovery: [{ strategy: 'dns' }] }, 'discovery[0].name', /DNS name/],
    [{ cookie: 'a-long-enough-cookie', extraNodes: ['127.0.0.1'] }, 'extraNodes', /host:port/],
    [{ unsplit: { strategy: 'coin-flip' } }, 'unsplit.strategy', /"merge", "oldest-wins"/],
    [{ unsplit: { flushTables: 'some' } }, 'unsplit.flushTables', /false, "all"/],
    [{ timing: { deadPeerTimeout: 0 } }, 'timing.deadPeerTimeout', /integer from 1/],
    [{ timing: { heartbeatInterval: 2000, deadPeerTimeout: 1500 } }, 'timing.deadPeerTimeout', /longer than timing.heartbeatInterval/],
    [{ tls: { key: 'k', cert: 'c' } }, 'tls.ca', /CA/],
    [{ tls: { ca: 'x' } }, 'tls.key', /tls.pfx/],
    [{ clock: {} }, 'clock', /now\(\)/],
    [{ encryptFrames: 'no' }, 'encryptFrames', /boolean/],
    [{ encryptFrames: false }, 'encryptFrames', /only be false with tls/],
    [{ connections: 5 }, 'connections', /object/],
    [{ connections: { maxUnauthenticated: 0 } }, 'connections.maxUnauthenticated', /integer from 1/],
    [{ connections: { maxUnauthenticatedPerAddress: 'many' } }, 'connections.maxUnauthenticatedPerAddress', /"many"/],
    [{ connections: { maxUnauthenticated: 4, maxUnauthenticatedPerAddress: 8 } }, 'connections.maxUnauthenticatedPerAddress', /not be more than connections.maxUnauthenticated \(4\)/],
  ])('refuses %j naming the option', (options, option, message) => {
    let error: unknown;
    try {
      resolveOptions(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
    expect((error as Error).message).toContain(`\`${option}\``);
    expect((error as Error).message).toMatch(message);
  });

  it('keeps a given clock, extra nodes and discovery entries', () => {
    const clock = new ManualClock();
    const fn = () => ['127.0.0.1:1'];
    const o = resolveOptions({ clock, cookie: 'a-long-enough-cookie', extraNodes: fn, discovery: [{ strategy: 'static', nodes: ['127.0.0.1:14000', '[::1]:14001'] }] });
    expect(o.clock).toBe(clock);
    expect(o.extraNodes).toBe(fn);
    expect(o.discovery).toHaveLength(1);
  });

  it('checks forFeature tables', () => {
    expect(resolveTableOptions({ name: 'jobs', mode: 'local' })).toEqual({ name: 'jobs', mode: 'local', ttl: undefined });
    expect(() => resolveTableOptions({ name: '' })).toThrow(/forFeature.name/);
    expect(() => resolveTableOptions({ name: 'sessions' })).toThrow(/default table/);
    expect(() => resolveTableOptions({ name: 'x', mode: 'everywhere' as never })).toThrow(/forFeature.mode/);
  });

  it('recognises host:port addresses', () => {
    expect(['127.0.0.1:14000', 'node-a.svc:80', '[::1]:5'].every(isAddress)).toBe(true);
    expect(['127.0.0.1', ':80', 'a:99999', 5].some(isAddress)).toBe(false);
  });
});

describe('resolveOptions: fail fast when a cluster cannot form', () => {
  const COOKIE = 'a-long-enough-cookie';

  it.each([
    [{ node: { port: 14000 } }, /`cookie` is not set, but node\.port is 14000: without a cookie this node runs alone \(no cluster port, no peers\)/],
    [{ node: { port: '14000' } }, /but node\.port is 14000:/],
    [{ extraNodes: ['127.0.0.1:14002'] }, /but extraNodes names 127\.0\.0\.1:14002:/],
    [{ extraNodes: '127.0.0.1:14002, 127.0.0.1:14004' }, /but extraNodes names 127\.0\.0\.1:14002, 127\.0\.0\.1:14004:/],
    [{ extraNodes: () => ['127.0.0.1:14002'] }, /but extraNodes is a function:/],
    [{ discovery: [{ strategy: 'static', nodes: ['127.0.0.1:14002'] }] }, /but discovery has 1 strategy:/],
    [{ minPeers: 1 }, /but minPeers is 1:/],
    [{ node: { name: 'a@127.0.0.1', port: 14000 }, extraNodes: '127.0.0.1:14002' }, /but node\.port is 14000 and extraNodes names 127\.0\.0\.1:14002: .*Give every node the same cookie \(at least 16 characters\), or remove node\.port, extraNodes, discovery and minPeers to run it alone/],
  ])('refuses %j without a cookie: the node would run alone while the others answer 401', (options, message) => {
    const error = refusal(options);
    expect(error.option).toBe('cookie');
    expect(error.message).toMatch(message);
  });

  it('lets a node without a cookie run alone when nothing asks for a cluster (port 0, no seeds)', () => {
    for (const options of [{}, { node: { name: 'a@127.0.0.1', port: 0 } }, { extraNodes: '' }, { extraNodes: ' , ' }, { extraNodes: [] }, { discovery: [] }, { minPeers: 0 }]) {
      expect(resolveOptions(options).cookie).toBeUndefined();
    }
  });

  it.each([
    ['', /`cookie` is empty: set the cluster secret/],
    [' '.repeat(20), /`cookie` is only whitespace: set the cluster secret \(at least 16 characters, the same on every node\), or leave cookie unset/],
    ['\t\n  \r\n        \t   ', /is only whitespace/],
    [`${COOKIE}\n`, /`cookie` starts or ends with whitespace \(a copied space or newline\?\): remove it/],
    [`  ${COOKIE}`, /starts or ends with whitespace/],
  ])('refuses the cookie %j', (cookie, message) => {
    const error = refusal({ cookie, node: { port: 14000 } });
    expect(error.option).toBe('cookie');
    expect(error.message).toMatch(message);
  });

  it('keeps spaces inside a cookie (a passphrase)', () => {
    expect(resolveOptions({ cookie: 'correct horse battery staple' }).cookie).toBe('correct horse battery staple');
  });

  it('takes extraNodes as one comma-separated string (an environment variable as it is): trimmed, empty entries dropped', () => {
    expect(resolveOptions({ cookie: COOKIE, extraNodes: ' 127.0.0.1:14002 , ,[::1]:14004,node-c.svc:80 ,' }).extraNodes).toEqual(['127.0.0.1:14002', '[::1]:14004', 'node-c.svc:80']);
    expect(resolveOptions({ cookie: COOKIE, extraNodes: '127.0.0.1:14002' }).extraNodes).toEqual(['127.0.0.1:14002']);
    expect(resolveOptions({ cookie: COOKIE, extraNodes: '' }).extraNodes).toEqual([]);
    // A list is trimmed the same way (e.g. CLUSTER_SEEDS.split(',') with a trailing comma).
    expect(resolveOptions({ cookie: COOKIE, extraNodes: ['127.0.0.1:14002 ', ''] }).extraNodes).toEqual(['127.0.0.1:14002']);
  });

  it.each([
    ['127.0.0.1:14002,127.0.0.1', /`extraNodes` has "127\.0\.0\.1", which is not a "host:port" address \(e\.g\. "10\.0\.0\.6:14000", "\[::1\]:14000"\)/],
    ['127.0.0.1:14002;127.0.0.1:14004', /has "127\.0\.0\.1:14002;127\.0\.0\.1:14004", which is not a "host:port" address/],
    ['127.0.0.1:99999', /has "127\.0\.0\.1:99999", which is not/],
    [['127.0.0.1:14002', 14004], /has 14004, which is not a "host:port" address/],
    [['127.0.0.1:14002', null], /has null, which is not/],
    [{ nodes: ['127.0.0.1:14002'] }, /`extraNodes` must be "host:port" addresses \(a list, or one comma-separated string\) or a function returning a list, got an object/],
    [14002, /got 14002/],
  ])('reports the bad entry of extraNodes %j with its value', (extraNodes, message) => {
    const error = refusal({ cookie: COOKIE, extraNodes });
    expect(error.option).toBe('extraNodes');
    expect(error.message).toMatch(message);
  });

  it('takes minPeers (from a string too), default 0, and refuses what is not a count', () => {
    expect(resolveOptions({}).minPeers).toBe(0);
    expect(resolveOptions({ cookie: COOKIE, minPeers: 2 }).minPeers).toBe(2);
    expect(resolveOptions({ cookie: COOKIE, minPeers: '1' as never }).minPeers).toBe(1);
    expect(refusal({ cookie: COOKIE, minPeers: -1 }).message).toMatch(/`minPeers` must be an integer from 0 to 1000, got -1/);
    expect(refusal({ cookie: COOKIE, minPeers: 1.5 }).option).toBe('minPeers');
    expect(refusal({ backend: 'redis', redis: { url: 'redis://127.0.0.1:6379' }, minPeers: 1 }).message).toMatch(/`minPeers` is a mesh option/);
  });
});

describe('resolveOptions: the discovery option', () => {
  const COOKIE = 'a-long-enough-cookie';
  let dir: string;
  let hostsFile: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ncc-options-'));
    hostsFile = join(dir, 'hosts.erlang');
    writeFileSync(hostsFile, "'127.0.0.1'.\n");
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [{ strategy: 'gossip', interface: 'eth0' }, 'discovery[0].interface', /must be the IPv4 address of the network interface to gossip on, not an interface name .* got "eth0"/],
    [{ strategy: 'gossip', interface: '192.0.2.77' }, 'discovery[0].interface', /is 192\.0\.2\.77, which is not an address of this host \(its IPv4 addresses: .*127\.0\.0\.1/],
    [{ strategy: 'gossip', port: 0 }, 'discovery[0].port', /integer from 1 to 65535, got 0/],
    [{ strategy: 'gossip', port: 65536 }, 'discovery[0].port', /integer from 1 to 65535/],
    [{ strategy: 'gossip', group: '10.0.0.1' }, 'discovery[0].group', /IPv4 multicast address \(224\.0\.0\.0 to 239\.255\.255\.255; default 233\.252\.1\.32\)/],
    [{ strategy: 'gossip', ttl: 256 }, 'discovery[0].ttl', /integer from 0 to 255/],
    [{ strategy: 'gossip', broadcastOnly: 'yes' }, 'discovery[0].broadcastOnly', /true or false/],
    [{ strategy: 'gossip', broadcastAddress: '10.77.0.255' }, 'discovery[0].broadcastAddress', /only used with broadcastOnly: true/],
    [{ strategy: 'gossip', broadcastOnly: true, broadcastAddress: 'everyone' }, 'discovery[0].broadcastAddress', /IPv4 broadcast address/],
    [{ strategy: 'gossip', secret: 'short' }, 'discovery[0].secret', /at least 16 characters/],
    [{ strategy: 'gossip', intreval: 100 }, 'discovery[0].intreval', /is not an option of the "gossip" strategy \(its options: port, group, ttl, interface/],
    [{ strategy: 'static', nodes: ['127.0.0.1:0'] }, 'discovery[0].nodes', /"host:port"/],
    [{ strategy: 'hosts-file', path: '/nonexistent/dir/hosts.erlang', ports: [14000, 14010] }, 'discovery[0].path', /names the hosts file \/nonexistent\/dir\/hosts\.erlang, which does not exist; create it with one host per line/],
    [{ strategy: 'hosts-file', path: '/', ports: [14000, 14010] }, 'discovery[0].path', /names \/, which is not a file/],
    [{ strategy: 'hosts-file', ports: [14000, 99999] }, 'discovery[0].ports[1]', /integer from 1 to 65535/],
    [{ strategy: 'hosts-file', ports: [14000] }, 'discovery[0].ports', /\[from, to\]/],
    [{ strategy: 'dns', name: 'nodes.test' }, 'discovery[0].port', /is required with type "A": A records carry no port, so give the cluster port of the nodes behind nodes\.test \(or use type "SRV"\)/],
    [{ strategy: 'dns', name: 'nodes.test', type: 'AAAA' }, 'discovery[0].port', /required with type "AAAA"/],
    [{ strategy: 'dns', name: 'nodes.test', type: 'SRV', port: 14000 }, 'discovery[0].port', /not used with type "SRV"/],
    [{ strategy: 'dns', name: 'nodes.test', type: 'MX', port: 1 }, 'discovery[0].type', /"A", "AAAA" or "SRV"/],
    [{ strategy: 'dns', name: 'nodes.test', port: 70000 }, 'discovery[0].port', /integer from 1 to 65535/],
    [{ strategy: 'dns', name: 'nodes.test', port: 1, servers: ['ns1.example'] }, 'discovery[0].servers', /DNS server IP addresses/],
    [{ strategy: 'custom' }, 'discovery[0].use', /must be an object implementing DiscoveryStrategy, with start\(context\) and stop\(\) methods .* got nothing/],
    [{ strategy: 'custom', use: { start() {} } }, 'discovery[0].use', /without stop\(\)/],
    [{ strategy: 'custom', use: class Mine {} }, 'discovery[0].use', /got a function/],
  ])('refuses the discovery entry %j with a message that explains', (entry, option, message) => {
    const error = refusal({ cookie: COOKIE, node: { port: 14005 }, discovery: [entry] });
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });

  it('refuses a discovery option that is not a list, and entries that are not objects', () => {
    expect(refusal({ discovery: { strategy: 'gossip' } }).option).toBe('discovery');
    expect(refusal({ discovery: ['gossip'] }).message).toMatch(/`discovery\[0\]` must be an object like \{ strategy: 'gossip' \}, got "gossip"/);
  });

  it('fails fast when the default hosts file (.hosts.erlang in the working directory) is missing', () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const error = refusal({ discovery: [{ strategy: 'hosts-file' }] });
      expect(error.option).toBe('discovery[0].path');
      expect(error.message).toContain(`${join(realpathSync(dir), '.hosts.erlang')}, which does not exist`);
      expect(error.message).toContain('the default is .hosts.erlang in the working directory');
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses a clustered node whose port is outside the hosts-file port range (no one would find it)', () => {
    const error = refusal({ cookie: COOKIE, node: { port: 0 }, discovery: [{ strategy: 'hosts-file', path: hostsFile, ports: [14000, 14010] }] });
    expect(error.option).toBe('node.port');
    expect(error.message).toMatch(/is 0 \(any free port\), outside discovery\[0\]\.ports 14000-14010: the other nodes probe only that range/);
    expect(refusal({ cookie: COOKIE, node: { port: 15000 }, discovery: [{ strategy: 'hosts-file', path: hostsFile }] }).message).toMatch(/is 15000, outside discovery\[0\]\.ports 14000-14010/);
    // A node without a cookie runs alone: discovery is refused, naming the missing cookie rather than the port.
    expect(refusal({ discovery: [{ strategy: 'hosts-file', path: hostsFile }] }).option).toBe('cookie');
  });

  it('accepts every strategy, several at once, and normalizes numbers given as strings', () => {
    const custom = { start: () => undefined, stop: () => undefined };
    const o = resolveOptions({
      cookie: COOKIE,
      node: { name: 'a@127.0.0.1', port: 14003 },
      discovery: [
        { strategy: 'static', nodes: ['127.0.0.2:14000'], interval: '500' as never },
        { strategy: 'gossip', interface: '127.0.0.1', port: '45900' as never, ttl: 0, broadcastOnly: false, secret: 'a-gossip-secret-of-16+' },
        { strategy: 'gossip', broadcastOnly: true, broadcastAddress: '127.255.255.255' },
        { strategy: 'hosts-file', path: hostsFile, ports: ['14000', '14010'] as never, interval: 1000 },
        { strategy: 'dns', name: 'nodes.test', port: 14000, servers: ['127.0.0.1:5353', '[::1]:53'] },
        { strategy: 'dns', name: '_c._tcp.nodes.test', type: 'SRV' },
        { strategy: 'custom', use: custom },
      ],
    });
    expect(o.discovery).toEqual([
      { strategy: 'static', nodes: ['127.0.0.2:14000'], interval: 500 },
      { strategy: 'gossip', interface: '127.0.0.1', port: 45900, ttl: 0, broadcastOnly: false, secret: 'a-gossip-secret-of-16+' },
      { strategy: 'gossip', broadcastOnly: true, broadcastAddress: '127.255.255.255' },
      { strategy: 'hosts-file', path: hostsFile, ports: [14000, 14010], interval: 1000 },
      { strategy: 'dns', name: 'nodes.test', type: 'A', port: 14000, servers: ['127.0.0.1:5353', '[::1]:53'] },
      { strategy: 'dns', name: '_c._tcp.nodes.test', type: 'SRV' },
      { strategy: 'custom', use: custom },
    ]);
    expect((o.discovery[6] as { use: unknown }).use).toBe(custom);
  });
});

describe('resolveOptions: the Redis backend', () => {
  const fails = (options: ClusterCacheOptions, option: string) => {
    expect(() => resolveOptions(options)).toThrow(InvalidOptionError);
    try {
      resolveOptions(options);
    } catch (error) {
      expect((error as InvalidOptionError).option).toBe(option);
    }
  };

  it('takes one server or a Redis Cluster, with defaults', () => {
    expect(resolveOptions({ backend: 'redis', redis: { url: 'redis://127.0.0.1:6379' } }).redis).toEqual({
      target: { url: 'redis://127.0.0.1:6379' },
      username: undefined,
      password: undefined,
      tls: undefined,
      keyPrefix: 'ncc:',
      commandTimeout: 1000,
      connectTimeout: 2000,
    });
    const cluster = resolveOptions({ backend: 'redis', redis: { cluster: ['10.0.0.1:7000', '[::1]:7001'], keyPrefix: 'app:', commandTimeout: '250' as never } });
    expect(cluster.redis).toMatchObject({ target: { cluster: [{ host: '10.0.0.1', port: 7000 }, { host: '::1', port: 7001 }] }, keyPrefix: 'app:', commandTimeout: 250 });
    expect(resolveOptions({}).backend).toBe('mesh');
  });

  it('names the option that is wrong', () => {
    fails({ backend: 'memcached' as never }, 'backend');
    fails({ backend: 'redis' }, 'redis');
    fails({ backend: 'redis', redis: {} }, 'redis');
    fails({ backend: 'redis', redis: { url: 'redis://a:1', cluster: ['a:1'] } }, 'redis');
    fails({ backend: 'redis', redis: { url: 'http://a:1' } }, 'redis.url');
    fails({ backend: 'redis', redis: { cluster: [] } }, 'redis.cluster');
    fails({ backend: 'redis', redis: { cluster: ['no-port'] } }, 'redis.cluster');
    fails({ backend: 'redis', redis: { url: 'redis://a:1', commandTimeout: 0 } }, 'redis.commandTimeout');
    fails({ redis: { url: 'redis://a:1' } }, 'redis');
  });

  it('refuses mesh options that would silently do nothing on Redis', () => {
    const redis = { url: 'redis://127.0.0.1:6379' };
    fails({ backend: 'redis', redis, cookie: 'a-cookie-of-16-chars' }, 'cookie');
    fails({ backend: 'redis', redis, persistence: { dir: '/tmp/x' } }, 'persistence');
    fails({ backend: 'redis', redis, unsplit: { strategy: 'merge' } }, 'unsplit');
    fails({ backend: 'redis', redis, discovery: [] }, 'discovery');
    fails({ backend: 'redis', redis, connections: { maxUnauthenticated: 8 } }, 'connections');
  });

  it('takes a clock on Redis too (the times the app reads; Redis counts TTLs by its own)', () => {
    const clock = new ManualClock();
    expect(resolveOptions({ backend: 'redis', redis: { url: 'redis://127.0.0.1:6379' }, clock }).clock).toBe(clock);
  });
});
