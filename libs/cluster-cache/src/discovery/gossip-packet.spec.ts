import { createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
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

describe('GossipCodec, signed (no secret)', () => {
  const codec = new GossipCodec(COOKIE, CLUSTER);

  it('round-trips a heartbeat', () => {
    expect(codec.sealed).toBe(false);
    expect(codec.decode(codec.encode(heartbeat()))).toEqual({ ok: true, heartbeat: heartbeat() });
  });

  it('is HMAC-SHA256 over header and body, keyed by HKDF(cookie, salt = cluster name)', () => {
    const packet = codec.encode(heartbeat());
    const key = Buffer.from(hkdfSync('sha256', COOKIE, CLUSTER, 'nest-cluster-cache gossip hmac-sha256 v1', 32));
    expect(gossipMacKey(COOKIE, CLUSTER)).toEqual(key);
    expect(packet.subarray(0, 6)).toEqual(Buffer.from([...Buffer.from('NCCG'), 1, 1]));
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

  it('drops a packet signed with another cookie (unauthenticated) or of another cluster (foreign)', () => {
    const otherCookie = new GossipCodec('another-cookie-0123456', CLUSTER);
    expect(codec.decode(otherCookie.encode(heartbeat()))).toMatchObject({ ok: false, reason: 'unauthenticated' });
    const otherCluster = new GossipCodec(COOKIE, 'other-cluster');
    expect(codec.decode(otherCluster.encode(heartbeat({ cluster: 'other-cluster' })))).toMatchObject({ ok: false, reason: 'foreign' });
  });

  it('drops sealed packets (this node has no secret)', () => {
    const sealed = new GossipCodec(COOKIE, CLUSTER, SECRET);
    expect(codec.decode(sealed.encode(heartbeat()))).toMatchObject({ ok: false, reason: 'unauthenticated' });
  });

  it('drops every truncation, garbage, other versions and kinds without throwing', () => {
    const packet = codec.encode(heartbeat());
    for (let length = 0; length < packet.length; length++) expect(codec.decode(packet.subarray(0, length)).ok).toBe(false);
    for (let i = 0; i < 2_000; i++) {
      const garbage = randomBytes(Math.floor(Math.random() * 300));
      if (i % 2 === 0 && garbage.length >= 6) garbage.write('NCCG\x01', 0, 'latin1');
      expect(codec.decode(garbage).ok).toBe(false);
    }
    const v2 = Buffer.from(packet);
    v2[4] = 2;
    expect(codec.decode(v2)).toMatchObject({ ok: false, reason: 'malformed', detail: 'unknown version 2' });
    const kind = Buffer.from(packet);
    kind[5] = 9;
    expect(codec.decode(kind)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(codec.decode(Buffer.from('heartbeat::garbage'))).toMatchObject({ ok: false, reason: 'malformed' });
    expect(codec.decode(Buffer.alloc(70_000))).toMatchObject({ ok: false, reason: 'malformed' });
  });
});

describe('GossipCodec, sealed (with a secret)', () => {
  const codec = new GossipCodec(COOKIE, CLUSTER, SECRET);

  it('round-trips a heartbeat, with a fresh nonce per packet', () => {
    expect(codec.sealed).toBe(true);
    const a = codec.encode(heartbeat());
    const b = codec.encode(heartbeat());
    expect(a.equals(b)).toBe(false);
    expect(codec.decode(a)).toEqual({ ok: true, heartbeat: heartbeat() });
    expect(codec.decode(b)).toEqual({ ok: true, heartbeat: heartbeat() });
  });

  it('is AES-256-GCM with a 96-bit nonce, the header as AAD, and a key from HKDF(secret, salt = MAC key)', () => {
    const packet = codec.encode(heartbeat());
    expect(packet.subarray(0, 6)).toEqual(Buffer.from([...Buffer.from('NCCG'), 1, 2]));
    expect(packet.includes(Buffer.from('a@10.77.0.1'))).toBe(false);
    expect(packet.includes(Buffer.from(CLUSTER))).toBe(false);
    const key = Buffer.from(hkdfSync('sha256', SECRET, gossipMacKey(COOKIE, CLUSTER), 'nest-cluster-cache gossip aes-256-gcm v1', 32));
    expect(gossipSealKey(SECRET, gossipMacKey(COOKIE, CLUSTER))).toEqual(key);
    const decipher = createDecipheriv('aes-256-gcm', key, packet.subarray(6, 18));
    decipher.setAAD(packet.subarray(0, 6));
    decipher.setAuthTag(packet.subarray(-16));
    const body = Buffer.concat([decipher.update(packet.subarray(18, -16)), decipher.final()]);
    expect(decodeBody(body)).toEqual(heartbeat());
  });

  it('drops tampered packets, other secrets, other cookies and unencrypted packets as unauthenticated', () => {
    const packet = codec.encode(heartbeat());
    for (let i = 0; i < packet.length; i++) {
      const tampered = Buffer.from(packet);
      tampered[i] ^= 0x80;
      expect(codec.decode(tampered).ok).toBe(false);
    }
    expect(codec.decode(new GossipCodec(COOKIE, CLUSTER, 'another-secret-0123456').encode(heartbeat()))).toMatchObject({ ok: false, reason: 'unauthenticated' });
    expect(codec.decode(new GossipCodec('another-cookie-0123456', CLUSTER, SECRET).encode(heartbeat()))).toMatchObject({ ok: false, reason: 'unauthenticated' });
    // A signed packet of the same cluster is refused: a secret means every heartbeat is encrypted.
    expect(codec.decode(new GossipCodec(COOKIE, CLUSTER).encode(heartbeat()))).toMatchObject({ ok: false, reason: 'unauthenticated' });
  });
});
