import { Credential, VerifiedCredentials } from './verified-credentials';

const credential = (n: number): Credential => ({ source: 'cookie', sent: `token-${n}.mac`, token: `token-${n}`, handle: `handle-${n}`, remembered: false });

describe('VerifiedCredentials', () => {
  it('keeps at most `capacity` credentials, dropping the oldest first', () => {
    const known = new VerifiedCredentials(3);
    for (let n = 1; n <= 5; n++) known.remember(credential(n));
    expect(known.size).toBe(3);
    expect([1, 2, 3, 4, 5].map((n) => known.get(`token-${n}.mac`)?.token)).toEqual([undefined, undefined, 'token-3', 'token-4', 'token-5']);
  });

  it('returns the kept copy, marked remembered, and keeps it once however often it is remembered', () => {
    const known = new VerifiedCredentials(2);
    const kept = known.remember(credential(1));
    expect(kept).toMatchObject({ sent: 'token-1.mac', token: 'token-1', handle: 'handle-1', remembered: true });
    expect(known.remember(credential(1))).toBe(kept);
    known.remember(credential(2));
    expect(known.get('token-1.mac')).toBe(kept);
  });

  it('forgets a credential at once; the slot it held is reused without dropping a live one', () => {
    const known = new VerifiedCredentials(2);
    known.remember(credential(1));
    known.remember(credential(2));
    known.forget(credential(1));
    expect(known.get('token-1.mac')).toBeUndefined();
    known.remember(credential(3)); // into the slot 1 had
    expect([2, 3].map((n) => known.get(`token-${n}.mac`)?.token)).toEqual(['token-2', 'token-3']);
    known.remember(credential(1)); // drops 2, the oldest kept
    expect([1, 2, 3].map((n) => known.get(`token-${n}.mac`)?.token)).toEqual(['token-1', undefined, 'token-3']);
    expect(known.size).toBe(2);
  });

  it('remembers nothing with a capacity of 0', () => {
    const known = new VerifiedCredentials(0);
    const given = credential(1);
    expect(known.remember(given)).toBe(given);
    expect(known.size).toBe(0);
  });
});
