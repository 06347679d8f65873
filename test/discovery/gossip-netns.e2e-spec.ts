import { waitFor } from '../utils/wait-for';
import { hosts, ip, NsNode, requireNetns } from './netns';

const HOSTS = hosts.count;
const COOKIE = 'netns-discovery-cookie-0123';

/**
 * Gossip between separate hosts: three network namespaces on one bridge
 * (10.77.0.1-3/24), one node process per namespace. Needs root: without it the
 * spec fails (it does not skip).
 */
describe('gossip discovery between hosts (network namespaces on a bridge)', () => {
  const nodes: NsNode[] = [];

  beforeAll(() => {
    requireNetns();
    hosts.remove(); // what a failed run may have left
    hosts.create();
  });

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  afterAll(() => {
    if (process.getuid?.() === 0) hosts.remove();
  });

  function start(n: number, gossip: object): NsNode {
    const { ns, address } = hosts.host(n);
    const node = new NsNode(ns, { NODE_NAME: `n${n}@${address}`, NODE_PORT: 14000, COOKIE, DISCOVERY: [{ strategy: 'gossip', interface: address, interval: 200, ...gossip }] });
    nodes.push(node);
    return node;
  }

  async function expectCluster(started: NsNode[]): Promise<void> {
    await Promise.all(started.map((n) => n.next((e) => e.event === 'ready', 30_000, 'ready')));
    const names = started.map((_, i) => `n${i + 1}@${hosts.host(i + 1).address}`);
    await waitFor(
      async () => {
        const peers = await Promise.all(started.map((n) => n.ask({ cmd: 'peers' }, 'peers')));
        if (peers.every((p, i) => JSON.stringify(p.peers) === JSON.stringify(names.filter((_, j) => j !== i)))) return true;
        throw new Error(`peers: ${JSON.stringify(peers.map((p) => p.peers))}`);
      },
      20_000,
      'a full mesh of the three hosts',
    );
    await started[0].ask({ cmd: 'put', key: 'across-hosts', value: { from: names[0] } }, 'put');
    for (const node of started.slice(1)) {
      const answer = await node.ask({ cmd: 'get', key: 'across-hosts' }, 'value');
      expect(answer.value).toEqual({ from: names[0] });
    }
  }

  it('multicast (libcluster defaults: group 233.252.1.32, port 45892, TTL 1) links the three hosts', async () => {
    const started = [1, 2, 3].map((n) => start(n, {}));
    await expectCluster(started);
    const stats = (await started[0].ask({ cmd: 'stats' }, 'stats')).stats as Record<string, number>;
    expect(stats.accepted).toBeGreaterThan(0);
    expect(stats.unauthenticated + stats.malformed + stats.replayed + stats.foreign).toBe(0);
  });

  it('broadcastOnly (to 10.77.0.255) links the three hosts without any multicast route', async () => {
    for (let n = 1; n <= HOSTS; n++) ip('-n', hosts.host(n).ns, 'route', 'del', '224.0.0.0/4', 'dev', 'eth0');
    try {
      const started = [1, 2, 3].map((n) => start(n, { broadcastOnly: true, broadcastAddress: '10.77.0.255', secret: 'netns-gossip-secret-0123' }));
      await expectCluster(started);
      const stats = (await started[2].ask({ cmd: 'stats' }, 'stats')).stats as Record<string, number>;
      expect(stats.accepted).toBeGreaterThan(0);
    } finally {
      for (let n = 1; n <= HOSTS; n++) ip('-n', hosts.host(n).ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0');
    }
  });
});
