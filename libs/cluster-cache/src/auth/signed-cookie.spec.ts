import { randomBytes } from 'node:crypto';
import { readCookie, setCookieValue, signToken, verifySigned } from './signed-cookie';

const SECRET = 'test-secret-test-secret';
const OTHER = 'another-secret-another';
const newToken = () => randomBytes(32).toString('base64url');

describe('readCookie', () => {
  it.each([
    ['session=abc', 'abc'],
    ['a=1; session=abc; b=2', 'abc'],
    ['a=1;session=abc', 'abc'],
    ['a=1; \tsession= abc ;b=2', 'abc'],
    ['session=first; session=second', 'first'],
    ['xsession=no; session=yes', 'yes'],
    ['a=session=no; session=yes', 'yes'],
    ['a="x session=no"; session=yes', 'yes'],
    ['sessions=no; session=yes', 'yes'],
    ['session=', ''],
  ])('reads %j as %j', (header, value) => {
    expect(readCookie(header, 'session')).toBe(value);
  });

  it.each([[undefined], [''], ['a=1; b=2'], ['xsession=no'], ['session'], ['a=session=no']])('finds nothing in %j', (header) => {
    expect(readCookie(header, 'session')).toBeUndefined();
  });

  it('returns the value as sent (no URL-decoding or unquoting)', () => {
    expect(readCookie('session=%41', 'session')).toBe('%41');
    expect(readCookie('session="abc"', 'session')).toBe('"abc"');
  });
});

describe('signToken / verifySigned', () => {
  it('round-trips and refuses a changed token or MAC, another secret, or no MAC', () => {
    const token = newToken();
    const value = signToken(token, SECRET);
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    expect(verifySigned(value, [SECRET])).toBe(token);
    expect(verifySigned(value, [OTHER])).toBeUndefined();
    // Another character than the one there (a random token may start or end with any).
    const other = (c: string) => (c === 'x' ? 'y' : 'x');
    expect(verifySigned(`${other(value[0])}${value.slice(1)}`, [SECRET])).toBeUndefined();
    expect(verifySigned(`${value.slice(0, -1)}${other(value.at(-1)!)}`, [SECRET])).toBeUndefined();
    expect(verifySigned(value.slice(0, -1), [SECRET])).toBeUndefined();
    expect(verifySigned(token, [SECRET])).toBeUndefined();
    expect(verifySigned(`.${value.split('.')[1]}`, [SECRET])).toBeUndefined();
  });

  it('verifies with any of several secrets (the first signs, the old ones still verify)', () => {
    const token = newToken();
    expect(verifySigned(signToken(token, OTHER), [SECRET, OTHER])).toBe(token);
    expect(verifySigned(signToken(token, SECRET), [SECRET, OTHER])).toBe(token);
    expect(verifySigned(signToken(token, 'a-third-secret-here'), [SECRET, OTHER])).toBeUndefined();
  });

  it('refuses a MAC with non-ASCII characters of the same length', () => {
    const value = signToken(newToken(), SECRET);
    expect(verifySigned(`${value.slice(0, -1)}é`, [SECRET])).toBeUndefined();
    // U+0100 + c has the low byte of c (U+0178 is 'x' in latin1): it must not pass for c.
    const folded = String.fromCharCode(0x100 + value.charCodeAt(value.length - 1));
    expect(verifySigned(`${value.slice(0, -1)}${folded}`, [SECRET])).toBeUndefined();
  });
});

describe('setCookieValue', () => {
  it('writes Max-Age in whole seconds (rounded up, never negative) before the attributes', () => {
    expect(setCookieValue('session', 'v', 60_000, '; Path=/; HttpOnly')).toBe('session=v; Max-Age=60; Path=/; HttpOnly');
    expect(setCookieValue('session', 'v', 1, '; Path=/')).toBe('session=v; Max-Age=1; Path=/');
    expect(setCookieValue('session', '', -5, '; Path=/')).toBe('session=; Max-Age=0; Path=/');
  });
});
