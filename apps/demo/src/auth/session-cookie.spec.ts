import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { SessionCache } from '@app/cluster-cache';
import { readCookie, SessionCookies, sign, unsign } from './session-cookie';

const SECRET = 'test-secret-test-secret';
const newToken = () => randomBytes(32).toString('base64url');
const requestWith = (cookie?: string) => ({ headers: cookie === undefined ? {} : { cookie } }) as IncomingMessage;

describe('readCookie', () => {
  it.each([
    ['demo_session=abc', 'abc'],
    ['a=1; demo_session=abc; b=2', 'abc'],
    ['a=1;demo_session=abc', 'abc'],
    ['a=1; \tdemo_session= abc ;b=2', 'abc'],
    ['demo_session=first; demo_session=second', 'first'],
    ['xdemo_session=no; demo_session=yes', 'yes'],
    ['a=demo_session=no; demo_session=yes', 'yes'],
    ['a="x demo_session=no"; demo_session=yes', 'yes'],
    ['demo_sessions=no; demo_session=yes', 'yes'],
    ['demo_session=', ''],
  ])('reads %j as %j', (header, value) => {
    expect(readCookie(header, 'demo_session')).toBe(value);
  });

  it.each([[undefined], [''], ['a=1; b=2'], ['xdemo_session=no'], ['demo_session'], ['a=demo_session=no']])('finds nothing in %j', (header) => {
    expect(readCookie(header, 'demo_session')).toBeUndefined();
  });

  it('returns the value as sent (no URL-decoding or unquoting)', () => {
    expect(readCookie('demo_session=%41', 'demo_session')).toBe('%41');
    expect(readCookie('demo_session="abc"', 'demo_session')).toBe('"abc"');
  });
});

describe('sign / unsign', () => {
  it('round-trips and refuses a changed token or MAC', () => {
    const token = newToken();
    const value = sign(token, SECRET);
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    expect(unsign(value, SECRET)).toBe(token);
    expect(unsign(value, 'another-secret-another')).toBeUndefined();
    // Another character than the one there (a random token may start or end with any).
    const other = (c: string) => (c === 'x' ? 'y' : 'x');
    expect(unsign(`${other(value[0])}${value.slice(1)}`, SECRET)).toBeUndefined();
    expect(unsign(`${value.slice(0, -1)}${other(value.at(-1)!)}`, SECRET)).toBeUndefined();
    expect(unsign(token, SECRET)).toBeUndefined();
  });
});

describe('SessionCookies', () => {
  it('reads a correctly signed cookie, with its handle', () => {
    const cookies = new SessionCookies({ secret: SECRET, secure: false });
    const token = newToken();
    const cookie = cookies.read(requestWith(`theme=dark; demo_session=${sign(token, SECRET)}`));
    expect(cookie).toEqual({ value: sign(token, SECRET), token, handle: SessionCache.handleOf(token) });
    expect(cookies.read(requestWith())).toBeUndefined();
    expect(cookies.read(requestWith('theme=dark'))).toBeUndefined();
  });

  it('refuses a bad signature every time, and another secret', () => {
    const cookies = new SessionCookies({ secret: SECRET, secure: false });
    const value = sign(newToken(), 'another-secret-another');
    expect(cookies.read(requestWith(`demo_session=${value}`))).toBeUndefined();
    expect(cookies.read(requestWith(`demo_session=${value}`))).toBeUndefined();
    expect(new SessionCookies({ secret: 'another-secret-another', secure: false }).read(requestWith(`demo_session=${value}`))).toBeDefined();
  });

  it('remembers a verified value (no second HMAC), forgets it on request, and keeps at most `capacity`', () => {
    const cookies = new SessionCookies({ secret: SECRET, secure: false }, 2);
    const [a, b, c] = [newToken(), newToken(), newToken()].map((t) => requestWith(`demo_session=${sign(t, SECRET)}`));
    const first = cookies.read(a)!;
    expect(cookies.read(a)).toBe(first);
    cookies.forget(first);
    const again = cookies.read(a)!;
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    cookies.read(b);
    cookies.read(c); // drops a, the oldest
    expect(cookies.read(a)).not.toBe(again);
  });

  it('sets and clears an HttpOnly, SameSite=Lax cookie, Secure when asked', () => {
    const headers: string[] = [];
    const response = { appendHeader: (_name: string, value: string) => headers.push(value) } as unknown as ServerResponse;
    const token = newToken();
    new SessionCookies({ secret: SECRET, secure: false }).set(response, token, Date.now() + 60_000);
    new SessionCookies({ secret: SECRET, secure: true }).set(response, token, Date.now() + 60_000);
    new SessionCookies({ secret: SECRET, secure: true }).clear(response);
    expect(headers).toEqual([
      `demo_session=${sign(token, SECRET)}; Max-Age=60; Path=/; HttpOnly; SameSite=Lax`,
      `demo_session=${sign(token, SECRET)}; Max-Age=60; Path=/; HttpOnly; SameSite=Lax; Secure`,
      'demo_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax; Secure',
    ]);
  });
});
