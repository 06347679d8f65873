import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import { adminToken, allowedOrigins, DEMO_SESSION_SECRET, sessionAuthOptions, signInLimit } from './demo-config';

// sessionAuthOptions warns when SESSION_SECRET is missing: not in the spec's output.
beforeAll(() => Logger.overrideLogger(false));

/** The settings as ConfigService gives them, without process.env (PORT may be set where the specs run). */
const config = (env: Record<string, string>) => ({ get: (key: string) => env[key] }) as unknown as ConfigService;

describe('allowedOrigins (DEMO_ALLOWED_ORIGINS)', () => {
  it('takes the listed origins, as browsers send them', () => {
    expect(allowedOrigins(config({ DEMO_ALLOWED_ORIGINS: 'https://demo.example, http://10.0.0.5:8080/,HTTP://Demo.Example:443' }))).toEqual([
      'https://demo.example',
      'http://10.0.0.5:8080',
      'http://demo.example:443',
    ]);
  });

  it('defaults to the origins the demo serves: this node and npm run demo, on the loopback names', () => {
    const origins = allowedOrigins(config({ HOST: '127.0.0.1', PORT: '4002' }));
    expect(origins).toEqual(expect.arrayContaining(['http://127.0.0.1:4002', 'http://127.0.0.1:4000', 'http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:4000']));
    expect(allowedOrigins(config({ HOST: '10.0.0.5', PORT: '4000' }))).toEqual(['http://10.0.0.5:4000', 'http://10.0.0.5:4002', 'http://10.0.0.5:8080']);
  });

  it('refuses what is not an origin, naming the setting', () => {
    for (const bad of ['evil.example', 'http://a.example/path', 'ftp://a.example', 'http://user@a.example']) {
      expect(() => allowedOrigins(config({ DEMO_ALLOWED_ORIGINS: bad }))).toThrow(/^DEMO_ALLOWED_ORIGINS must be a comma-separated list of origins such as http:\/\/127\.0\.0\.1:8080/);
    }
  });
});

describe('adminToken and signInLimit', () => {
  it('read DEMO_ADMIN_TOKEN (at least 16 characters) and DEMO_SIGNIN_LIMIT (default 10)', () => {
    expect(adminToken(config({}))).toBeUndefined();
    expect(adminToken(config({ DEMO_ADMIN_TOKEN: 'a-long-enough-token' }))).toBe('a-long-enough-token');
    expect(() => adminToken(config({ DEMO_ADMIN_TOKEN: 'short' }))).toThrow(/at least 16 characters/);
    expect(signInLimit(config({}))).toBe(10);
    expect(signInLimit(config({ DEMO_SIGNIN_LIMIT: '25' }))).toBe(25);
    expect(() => signInLimit(config({ DEMO_SIGNIN_LIMIT: '0' }))).toThrow(/DEMO_SIGNIN_LIMIT must be a whole number/);
    expect(() => signInLimit(config({ DEMO_SIGNIN_LIMIT: 'many' }))).toThrow(/DEMO_SIGNIN_LIMIT must be a whole number/);
  });
});

describe('sessionAuthOptions (the auth kit)', () => {
  it('signs the demo_session cookie with SESSION_SECRET (or the demo secret), Secure with COOKIE_SECURE, no bearer tokens', () => {
    expect(sessionAuthOptions(config({ SESSION_SECRET: 'a-secret-for-the-specs', COOKIE_SECURE: 'true', SESSION_RENEW_AFTER: '60000' }))).toEqual({
      bearer: false,
      cookie: { name: 'demo_session', secret: 'a-secret-for-the-specs', secure: true },
      renewAfter: 60_000,
    });
    expect(sessionAuthOptions(config({}))).toEqual({ bearer: false, cookie: { name: 'demo_session', secret: DEMO_SESSION_SECRET, secure: false }, renewAfter: undefined });
    expect(() => sessionAuthOptions(config({ SESSION_RENEW_AFTER: 'soon' }))).toThrow(/SESSION_RENEW_AFTER must be a whole number of milliseconds/);
  });
});
