import { hkdfSync, scryptSync } from 'node:crypto';
import { CLUSTER_KEY_SCRYPT, clusterKeySalt, deriveClusterKey } from './cluster-key';
import { deriveHandshakeKey, handshakeKeyFor } from './handshake';

const COOKIE = 'cookie-of-cluster-key-spec';

describe('deriveClusterKey', () => {
  it('is scrypt of the cookie (N = 2^15, r = 8, p = 1), salted with the cluster name', async () => {
    expect(CLUSTER_KEY_SCRYPT).toMatchObject({ N: 2 ** 15, r: 8, p: 1 });
    const expected = scryptSync(COOKIE, Buffer.from('nest-cluster-cache/cluster-key/v1\0prod'), 32, CLUSTER_KEY_SCRYPT);
    expect((await deriveClusterKey(COOKIE, 'prod')).equals(expected)).toBe(true);
    expect(clusterKeySalt('prod').toString()).toBe('nest-cluster-cache/cluster-key/v1\0prod');
  });

  it('derives once per cookie and cluster in a process', async () => {
    const first = deriveClusterKey(COOKIE, 'prod');
    expect(deriveClusterKey(COOKIE, 'prod')).toBe(first);
    expect(deriveClusterKey(Buffer.from(COOKIE), 'prod')).toBe(first);
    const [other, otherCluster] = await Promise.all([deriveClusterKey(`${COOKIE}!`, 'prod'), deriveClusterKey(COOKIE, 'staging')]);
    expect(other.equals(await first)).toBe(false);
    expect(otherCluster.equals(await first)).toBe(false);
  });

  it('is where the handshake key comes from (HKDF-SHA256), not the cookie itself', async () => {
    const clusterKey = await deriveClusterKey(COOKIE, 'prod');
    const expected = Buffer.from(hkdfSync('sha256', clusterKey, Buffer.alloc(0), 'nest-cluster-cache/handshake/v2', 32));
    expect(deriveHandshakeKey(clusterKey).equals(expected)).toBe(true);
    expect((await handshakeKeyFor(COOKIE, 'prod')).equals(expected)).toBe(true);
  });
});
