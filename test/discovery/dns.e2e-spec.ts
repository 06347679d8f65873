import { freeTcpPort, freeTcpPortRange } from '@app/cluster-cache/discovery/testing/free-port';
import { TestDnsServer } from '@app/cluster-cache/discovery/testing/test-dns-server';
import { waitFor } from '../utils/wait-for';
import { closeAll, expectReplicated, startNode, waitForMesh } from './support';

/** DNS discovery between real nodes, against a real DNS server (dns2) started by the spec. */
describe('dns discovery against a dns2 server', () => {
  let dns: TestDnsServer;

  beforeAll(async () => {
    dns = await TestDnsServer.start();
  });

  afterEach(() => closeAll());
  afterAll(() => dns.close());

  it('A records: the nodes behind a name link, follow a record change, and keep a node the name no longer lists', async () => {
    const port = await freeTcpPortRange(['127.0.0.71', '127.0.0.72', '127.0.0.73'], 1);
    dns.set('nodes.a.e2e.test', { A: ['127.0.0.71', '127.0.0.72'] });
    const discovery = [{ strategy: 'dns' as const, name: 'nodes.a.e2e.test', port, interval: 100, servers: [dns.address] }];
    const [a, b] = await Promise.all([
      startNode({ node: { name: 'a@127.0.0.71', port }, discovery }),
      startNode({ node: { name: 'b@127.0.0.72', port }, discovery }),
    ]);
    await waitForMesh([a, b]);
    await expectReplicated(a, [b], 'dns-a');

    // c runs without discovery; once the name lists it, a and b find it.
    const c = await startNode({ node: { name: 'c@127.0.0.73', port } });
    expect(c.peers()).toEqual([]);
    dns.set('nodes.a.e2e.test', { A: ['127.0.0.71', '127.0.0.72', '127.0.0.73'] });
    await waitForMesh([a, b, c]);
    await expectReplicated(c, [a, b], 'dns-c');

    // b leaves the answer (e.g. a pod that is not ready): it stays linked while connected.
    dns.set('nodes.a.e2e.test', { A: ['127.0.0.71', '127.0.0.73'] });
    const asked = dns.queries.length;
    await waitFor(() => dns.queries.length >= asked + 6, 10_000, 'several polls without b');
    expect(a.peers()).toEqual(['b@127.0.0.72', 'c@127.0.0.73']);
    await expectReplicated(b, [a, c], 'dns-b-still-linked');
  });

  it('SRV records: nodes on different ports find each other through host and port of the records', async () => {
    const [p1, p2] = await Promise.all([freeTcpPort('127.0.0.74'), freeTcpPort('127.0.0.75')]);
    dns.set('_cluster._tcp.nodes.srv.e2e.test', {
      SRV: [
        { target: 'n1.nodes.srv.e2e.test', port: p1 },
        { target: 'n2.nodes.srv.e2e.test', port: p2 },
      ],
    });
    dns.set('n1.nodes.srv.e2e.test', { A: ['127.0.0.74'] });
    dns.set('n2.nodes.srv.e2e.test', { A: ['127.0.0.75'] });
    const discovery = [{ strategy: 'dns' as const, name: '_cluster._tcp.nodes.srv.e2e.test', type: 'SRV' as const, interval: 100, servers: [dns.address] }];
    const [n1, n2] = await Promise.all([
      startNode({ node: { name: 'n1@127.0.0.74', port: p1 }, discovery }),
      startNode({ node: { name: 'n2@127.0.0.75', port: p2 }, discovery }),
    ]);
    await waitForMesh([n1, n2]);
    await expectReplicated(n2, [n1], 'dns-srv');
    expect(dns.queries).toEqual(expect.arrayContaining(['SRV _cluster._tcp.nodes.srv.e2e.test', 'A n1.nodes.srv.e2e.test']));
  });
});
