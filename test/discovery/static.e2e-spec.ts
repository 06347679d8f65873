import { freeTcpPort } from '@app/cluster-cache/discovery/testing/free-port';
import { waitFor } from '../utils/wait-for';
import { closeAll, expectReplicated, logs, startNode, waitForMesh } from './support';

/** The static list (libcluster's Epmd with a timeout): a node that comes back is linked again. */
describe('static discovery', () => {
  afterEach(() => closeAll());

  it('relinks a listed node that went away and came back (the cluster backs off while it is gone)', async () => {
    const port = await freeTcpPort('127.0.0.99');
    const b = await startNode({ node: { name: 'b@127.0.0.99', port } });
    const a = await startNode({ node: { name: 'a@127.0.0.98' }, discovery: [{ strategy: 'static', nodes: [`127.0.0.99:${port}`], interval: 100 }] });
    await waitForMesh([a, b]);
    await b.close();
    await waitFor(() => a.peers().length === 0, 10_000, 'b gone');

    // While b is gone the list is still reported every 100 ms, but a dials b with a growing wait: failures are logged at
    // once, then after 5 s with the count held back in between, which is a few dials, not one per report (50).
    const failures = () => logs.lines.filter((l) => l.level === 'debug' && l.message.startsWith(`could not reach 127.0.0.99:${port}`)).map((l) => l.message);
    await waitFor(() => failures().length >= 2, 15_000, 'two logged failures to reach b');
    const heldBack = Number(/\((\d+) more time\(s\) since the last line/.exec(failures()[1])?.[1] ?? 0);
    expect(heldBack).toBeLessThanOrEqual(10);

    // b comes back on the same address, knowing no one: a's static list links it again.
    const b2 = await startNode({ node: { name: 'b@127.0.0.99', port } });
    await waitForMesh([a, b2], 20_000);
    await expectReplicated(b2, [a], 'static-back');
  });
});
