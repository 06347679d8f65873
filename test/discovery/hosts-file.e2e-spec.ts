import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionError } from '@app/cluster-cache';
import { freeTcpPortRange } from '@app/cluster-cache/discovery/testing/free-port';
import { closeAll, expectReplicated, logs, startNode, waitForMesh } from './support';

/** Hosts-file discovery: 3 real nodes on 2 hosts (127.0.0.81 and 127.0.0.82), found by probing a port range. */
describe('hosts-file discovery', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ncc-hosts-e2e-'));
    file = join(dir, '.hosts.erlang');
  });

  afterEach(async () => {
    await closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds 3 nodes on 2 hosts listed in Erlang syntax, despite a malformed line', async () => {
    const base = await freeTcpPortRange(['127.0.0.81', '127.0.0.82'], 4);
    writeFileSync(file, ["% the cluster's hosts", "'127.0.0.81'.", 'not a host line', '127.0.0.82', ''].join('\n'));
    const discovery = [{ strategy: 'hosts-file' as const, path: file, ports: [base, base + 3] as [number, number], interval: 200 }];
    const nodes = await Promise.all([
      startNode({ node: { name: 'a@127.0.0.81', port: base }, discovery }),
      startNode({ node: { name: 'b@127.0.0.81', port: base + 1 }, discovery }),
      startNode({ node: { name: 'c@127.0.0.82', port: base + 2 }, discovery }),
    ]);
    await waitForMesh(nodes);
    await expectReplicated(nodes[2], [nodes[0], nodes[1]], 'hosts-file');
    expect(logs.has('warn', new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} line 3: expected one host per line`))).toBe(true);
  });

  it('refuses to start when the hosts file is missing, naming it', async () => {
    const missing = join(dir, 'nowhere.hosts');
    const start = startNode({ node: { name: 'a@127.0.0.81', port: 14000 }, discovery: [{ strategy: 'hosts-file', path: missing }] });
    await expect(start).rejects.toThrow(InvalidOptionError);
    await expect(start).rejects.toThrow(`option \`discovery[0].path\` names the hosts file ${missing}, which does not exist`);
  });
});
