import { createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { deriveClusterKey } from '../transport/cluster-key';
import { decodeBody, encodeBody, GossipCodec, gossipMacKey, gossipSealKey, Heartbeat } from './gossip-packet';

const COOKIE = 'cookie-0123456789abcdef';
const CLUSTER = 'spec-cluster';
const SECRET = 'gossip-secret-0123456789';

function heartbeat(overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    cluster: CLUSTER,
    node: 'a@10.77.0.1',
    host: '10.77.0.1',
    port: 14000,
    incarnation: '0123456789abcdef',
    timestamp: 1_790_000_000_123,
    sequence: 7,
    ...overrides,
  };
}

describe('gossip heartbeat body', () => {
  it('round-trips every field', () => {
    const h = heartbeat({ node: 'ünï@host', sequence: 0xffffffff });
    expect(decodeBody(encodeBody(h))).toEqual(h);
  });

  it('refuses to encode values that do not fit the format', () => {
    expect(() => encodeBody(heartbeat({ node: 'x'.repeat(256) }))).toThrow(/longer than 255 bytes/);
    expect(() => encodeBody(heartbeat({ port: 0 }))).toThrow(/port/);
    expect(() => encodeBody(heartbeat({ sequence: 2 ** 32 }))).toThrow(/sequence/);
  });

  it('rejects every truncation and trailing bytes', () => {
    const body = encodeBody(heartbeat());
    for (let length = 0; length < body.length; length++) expect(decodeBody(body.subarray(0, length))).toBeUndefined();
    expect(decodeBody(Buffer.concat([body, Buffer.from([0])]))).toBeUndefined();
  });
});

/** The codec of a node with `cookie` in `cluster` (the cluster key is scrypt's: derived once per cookie and cluster). */
const codecFor = (cookie: string, cluster: string, secret?: string) => GossipCodec.forCookie(cookie, cluster, secret);

describe('GossipCodec, signed (no secret)', () => {
  let codec: GossipCodec;
  beforeAll(async () => {
    codec = await codecFor(COOKIE, CLUSTER);
  });

  it('round-trips a heartbeat', () => {
    expect(codec.sealed).toBe(false);
    expect(codec.decode(codec.encode(heartbeat()))).toEqual({ ok: true, heartbeat: heartbeat() });
  });

  it('is HMAC-SHA256 over header and body, keyed by HKDF of the cluster key (scrypt of the cookie, salted with the cluster name)', async () => {
    const packet = codec.encode(heartbeat());
    const clusterKey = await deriveClusterKey(COOKIE, CLUSTER);
    const key = Buffer.from(hkdfSync('sha256', clusterKey, Buffer.alloc(0), 'nest-cluster-cache gossip hmac-sha256 v2', 32));
    expect(gossipMacKey(clusterKey)).toEqual(key);
    expect(packet.subarray(0, 6)).toEqual(Buffer.from([...Buffer.from('NCCG'), 2, 1]));
    const mac = createHmac('sha256', key).update(packet.subarray(0, -32)).digest();
    expect(packet.subarray(-32)).toEqual(mac);
    // Signed packets are readable by anyone on the segment (authenticated, not confidential).
    expect(packet.includes(Buffer.from('a@10.77.0.1'))).toBe(true);
  });

  it('drops a packet with any single byte changed (tampered)', () => {
    const packet = codec.encode(heartbeat());
    for (let i = 0; i < packet.length; i++) {
      const tampered = Buffer.from(packet);
      tampered[i] ^= 0x01;
      const result = codec.decode(tampered);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(['malformed', 'unauthenticated', 'foreign']).toContain(result.reason);
    }
    const port = Buffer.from(packet);
    port.writeUInt16BE(14001, 6 + 1 + CLUSTER.length + 1 + 'a@10.77.0.1'.length + 1 + '10.77.0.1'.length);
    expect(codec.decode(port)).toMatchObject({ ok: false, reason: 'unauthenticated' });
  });

  it('drops a packet signed with another cookie (unauthenticated) or of another cluster (foreign)', async () => {
    const otherCookie = await codecFor('another-cookie-0123456', CLUSTER);
    expect(codec.decode(otherCookie.encode(heartbeat()))).toMatchObject({ ok: false, reason: 'unauthenticated' });
    const otherCluster = await codecFor(COOKIE, 'other-cluster');
    expect(codec.decode(otherCluster.encode(heartbeat({ cluster: 'other-cluster' })))).toMatchObject({ ok: false, reason: 'foreign' });
  });

  it('drops packets of version 1 (keyed with HKDF of the cookie alone), and says why', () => {
    const v1 = Buffer.from(codec.encode(heartbeat()));
    v1[4] = 1;
    expect(codec.decode(v1)).toMatchObject({ ok: false, reason: 'malformed', detail: 'unknown version 1' });
  });

  it('quotes another cluster\'s name escaped (it is unauthenticated when dropped)', async () => {
    const otherCluster = await codecFor(COOKIE, 'other\ncluster');
    expect(codec.decode(otherCluster.encode(heartbeat({ cluster: 'other\ncluster' })))).toMatchObject({ detail: 'cluster "other\\ncluster"' });
  });

  it('drops sealed packets (this node has no secret)', async () => {
    const sealed = await codecFor(COOKIE, CLUSTER, SECRET);
    expect(codec.decode(sealed.encode(heartbeat()))).toMatchObject({ ok: false, reason: 'unauthenticated' });
  });

  it('drops every truncation, garbage, other versions and kinds without throwing', () => {
    const packet = codec.encode(heartbeat());
    for (let length = 0; length < packet.length; length++) expect(codec.decode(packet.subarray(0, length)).ok).toBe(false);
    for (let i = 0; i < 2_000; i++) {
      const garbage = randomBytes(Math.floor(Math.random() * 300));
      if (i % 2 === 0 && garbage.length >= 6) garbage.write('NCCG\x02', 0, 'latin1');
      expect(codec.decode(garbage).ok).toBe(false);
    }
    const v3 = Buffer.from(packet);
    v3[4] = 3;
    expect(codec.decode(v3)).toMatchObject({ ok: false, reason: 'malformed', detail: 'unknown version 3' });
    const kind = Buffer.from(packet);
    kind[5] = 9;
    expect(codec.decode(kind)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(codec.decode(Buffer.from('heartbeat::garbage'))).toMatchObject({ ok: false, reason: 'malformed' });
    expect(codec.decode(Buffer.alloc(70_000))).toMatchObject({ ok: false, reason: 'malformed' });
  });
});

describe('GossipCodec, sealed (with a secret)', () => {
  let codec: GossipCodec;
  beforeAll(async () => {
    codec = await codecFor(COOKIE, CLUSTER, SECRET);
  });

  it('round-trips a heartbeat, with a fresh nonce per packet', () => {
    expect(codec.sealed).toBe(true);
    const a = codec.encode(heartbeat());
    const b = codec.encode(heartbeat());
    expect(a.equals(b)).toBe(false);
    expect(codec.decode(a)).toEqual({ ok: true, heartbeat: heartbeat() });
    expect(codec.decode(b)).toEqual({ ok: true, heartbeat: heartbeat() });
  });

  it('is AES-256-GCM with a 96-bit nonce, the header as AAD, and a key from HKDF(secret, salt = MAC key)', async () => {
    const packet = codec.encode(heartbeat());
    expect(packet.subarray(0, 6)).toEqual(Buffer.from([...Buffer.from('NCCG'), 2, 2]));
    expect(packet.includes(Buffer.from('a@10.77.0.1'))).toBe(false);
    expect(packet.includes(Buffer.from(CLUSTER))).toBe(false);
    const macKey = gossipMacKey(await deriveClusterKey(COOKIE, CLUSTER));
    const key = Buffer.from(hkdfSync('sha256', SECRET, macKey, 'nest-cluster-cache gossip aes-256-gcm v1', 32));
    expect(gossipSealKey(SECRET, macKey)).toEqual(key);
    const decipher = createDecipheriv('aes-256-gcm', key, packet.subarray(6, 18));
    decipher.setAAD(packet.subarray(0, 6));
    decipher.setAuthTag(packet.subarray(-16));
    const body = Buffer.concat([decipher.update(packet.subarray(18, -16)), decipher.final()]);
    expect(decodeBody(body)).toEqual(heartbeat());
  });

  it('drops tampered packets, other secrets, other cookies and unencrypted packets as unauthenticated', async () => {
    const packet = codec.encode(heartbeat());
    for (let i = 0; i < packet.length; i++) {
      const tampered = Buffer.from(packet);
      tampered[i] ^= 0x80;
      expect(codec.decode(tampered).ok).toBe(false);
    }
    expect(codec.decode((await codecFor(COOKIE, CLUSTER, 'another-secret-0123456')).encode(heartbeat()))).toMatchObject({ ok: false, reason: 'unauthenticated' });
    expect(codec.decode((await codecFor('another-cookie-0123456', CLUSTER, SECRET)).encode(heartbeat()))).toMatchObject({ ok: false, reason: 'unauthenticated' });
    // A signed packet of the same cluster is refused: a secret means every heartbeat is encrypted.
    expect(codec.decode((await codecFor(COOKIE, CLUSTER)).encode(heartbeat()))).toMatchObject({ ok: false, reason: 'unauthenticated' });
  });
});
