import { InvalidOptionError } from '../errors/cluster-cache.error';
import { ManualClock } from '../store/clock';
import { isAddress, resolveOptions, resolveTableOptions } from './resolve-options';

describe('resolveOptions', () => {
  it('fills in defaults for an empty config (a lone node)', () => {
    const o = resolveOptions({});
    expect(o).toMatchObject({
      node: { name: 'nonode@127.0.0.1', host: '127.0.0.1', port: 0 },
      cookie: undefined,
      writes: 'sync',
      autoInitialize: 'merge',
      sessionTtl: 30 * 60_000,
      timing: { heartbeatInterval: 1000, deadPeerTimeout: 5000, ackTimeout: 5000, sweepInterval: 1000 },
    });
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
    [{ extraNodes: ['127.0.0.1'] }, 'extraNodes', /host:port/],
    [{ unsplit: { strategy: 'coin-flip' } }, 'unsplit.strategy', /"merge", "oldest-wins"/],
    [{ unsplit: { flushTables: 'some' } }, 'unsplit.flushTables', /false, "all"/],
    [{ timing: { deadPeerTimeout: 0 } }, 'timing.deadPeerTimeout', /integer from 1/],
    [{ clock: {} }, 'clock', /now\(\)/],
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
    const o = resolveOptions({ clock, extraNodes: fn, discovery: [{ strategy: 'static', nodes: ['127.0.0.1:14000', '[::1]:14001'] }] });
    expect(o.clock).toBe(clock);
    expect(o.extraNodes).toBe(fn);
    expect(o.discovery).toHaveLength(1);
  });

  it('checks forFeature tables', () => {
    expect(resolveTableOptions({ name: 'jobs', mode: 'local' })).toEqual({ name: 'jobs', mode: 'local', ttl: undefined });
    expect(() => resolveTableOptions({ name: '' })).toThrow(/forFeature.name/);
    expect(() => resolveTableOptions({ name: 'x', mode: 'everywhere' as never })).toThrow(/forFeature.mode/);
  });

  it('recognises host:port addresses', () => {
    expect(['127.0.0.1:14000', 'node-a.svc:80', '[::1]:5'].every(isAddress)).toBe(true);
    expect(['127.0.0.1', ':80', 'a:99999', 5].some(isAddress)).toBe(false);
  });
});
