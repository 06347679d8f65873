import { InvalidOptionError } from '../errors/cluster-cache.error';
import { resolveAuthOptions } from './resolve-auth-options';
import type { SessionAuthOptions } from './session-auth-options.interface';

const TTL = 30 * 60_000;
const SECRET = 'a-secret-of-24-characters';

describe('resolveAuthOptions', () => {
  it('defaults to bearer tokens only, renewal by rotation after 15 minutes, request.authSession', () => {
    expect(resolveAuthOptions({}, TTL)).toEqual({
      bearer: { renewedTokenHeader: 'X-Session-Token' },
      cookie: undefined,
      renewAfter: 15 * 60_000,
      renewal: 'rotate',
      requestProperty: 'authSession',
      rememberVerified: 10_000,
    });
  });

  it('builds the cookie attributes once: HttpOnly, SameSite=Lax and Secure by default', () => {
    expect(resolveAuthOptions({ cookie: { secret: SECRET } }, TTL).cookie).toEqual({ name: 'session', secrets: [SECRET], attributes: '; Path=/; HttpOnly; SameSite=Lax; Secure' });
    const custom = resolveAuthOptions({ bearer: false, cookie: { secret: [SECRET, `${SECRET}-old`], name: 'sid', httpOnly: false, sameSite: 'strict', secure: false, domain: 'example.com', path: '/app' } }, TTL);
    expect(custom.bearer).toBeUndefined();
    expect(custom.cookie).toEqual({ name: 'sid', secrets: [SECRET, `${SECRET}-old`], attributes: '; Path=/app; Domain=example.com; SameSite=Strict' });
    expect(resolveAuthOptions({ cookie: { secret: SECRET, sameSite: false } }, TTL).cookie!.attributes).toBe('; Path=/; HttpOnly; Secure');
    expect(resolveAuthOptions({ cookie: { secret: SECRET, sameSite: 'none' } }, TTL).cookie!.attributes).toBe('; Path=/; HttpOnly; SameSite=None; Secure');
  });

  it('renews after half a session TTL shorter than 30 minutes by default', () => {
    expect(resolveAuthOptions({}, 10 * 60_000).renewAfter).toBe(5 * 60_000);
    expect(resolveAuthOptions({}, 4 * 3600_000).renewAfter).toBe(15 * 60_000);
  });

  it('takes renewAfter false (never), 0 (every request), touch renewal, another header and property', () => {
    const options = resolveAuthOptions({ bearer: { renewedTokenHeader: 'X-New-Token' }, renewAfter: 0, renewal: 'touch', requestProperty: 'who', rememberVerified: 0 }, TTL);
    expect(options).toMatchObject({ bearer: { renewedTokenHeader: 'X-New-Token' }, renewAfter: 0, renewal: 'touch', requestProperty: 'who', rememberVerified: 0 });
    expect(resolveAuthOptions({ renewAfter: false, requestProperty: false }, TTL)).toMatchObject({ renewAfter: undefined, requestProperty: undefined });
  });

  it.each<[SessionAuthOptions | undefined, string, RegExp]>([
    [undefined, 'SessionAuthModule', /must be an object such as \{ cookie: \{ secret \} \} or \{ bearer: true \}/],
    [{ bearer: false }, 'SessionAuthModule.bearer', /the guard would find no token anywhere/],
    [{ cookie: { secret: 'short' } }, 'SessionAuthModule.cookie.secret', /must be at least 16 characters \(it signs the session cookie\), got 5$/],
    [{ cookie: { secret: [SECRET, 'short'] } }, 'SessionAuthModule.cookie.secret[1]', /at least 16 characters/],
    [{ cookie: { secret: [] } }, 'SessionAuthModule.cookie.secret', /or a non-empty list of them/],
    [{ cookie: {} as never }, 'SessionAuthModule.cookie.secret', /must be a string of at least 16 characters/],
    [{ cookie: { secret: SECRET, name: 'my session' } }, 'SessionAuthModule.cookie.name', /must be a cookie name/],
    [{ cookie: { secret: SECRET, sameSite: 'none', secure: false } }, 'SessionAuthModule.cookie.sameSite', /browsers take only with `secure: true`/],
    [{ cookie: { secret: SECRET, sameSite: 'loose' as never } }, 'SessionAuthModule.cookie.sameSite', /must be 'lax', 'strict', 'none' or false, got "loose"/],
    [{ cookie: { secret: SECRET, path: 'app' } }, 'SessionAuthModule.cookie.path', /must be a path starting with \//],
    [{ cookie: { secret: SECRET, path: '/a;b' } }, 'SessionAuthModule.cookie.path', /no ; or spaces/],
    [{ cookie: { secret: SECRET, domain: 'a.example; Secure' } }, 'SessionAuthModule.cookie.domain', /must be a host name/],
    [{ cookie: { secret: SECRET, secure: 'yes' as never } }, 'SessionAuthModule.cookie.secure', /must be true or false/],
    [{ cookie: { secret: SECRET, name: '__Host-session', secure: false } }, 'SessionAuthModule.cookie.secure', /__Host- cookie without Secure/],
    [{ cookie: { secret: SECRET, name: '__Host-session', path: '/app' } }, 'SessionAuthModule.cookie.path', /must be \/ for a cookie named __Host-session/],
    [{ cookie: { secret: SECRET, name: '__Host-session', domain: 'example.com' } }, 'SessionAuthModule.cookie.domain', /must not be set/],
    [{ cookie: { secret: SECRET, name: '__Secure-session', secure: false } }, 'SessionAuthModule.cookie.secure', /__Secure- cookie without Secure/],
    [{ cookie: { secret: SECRET, maxAge: 5 } as never }, 'SessionAuthModule.cookie.maxAge', /is not an option of SessionAuthModule cookie \(known: secret, name/],
    [{ renewafter: 5 } as never, 'SessionAuthModule.renewafter', /is not an option of SessionAuthModule \(known: bearer, cookie, renewAfter/],
    [{ renewAfter: -1 }, 'SessionAuthModule.renewAfter', /must be a number of milliseconds \(at least 0\) or false, got -1/],
    [{ renewAfter: TTL }, 'SessionAuthModule.renewAfter', /not shorter than the session TTL \(1800000 ms, ClusterCacheModule's `sessions.ttl`\)/],
    [{ renewal: 'slide' as never }, 'SessionAuthModule.renewal', /must be 'rotate' or 'touch', got "slide"/],
    [{ bearer: { renewedTokenHeader: 'X Token' } }, 'SessionAuthModule.bearer.renewedTokenHeader', /must be a header name/],
    [{ bearer: 'yes' as never }, 'SessionAuthModule.bearer', /must be true, false or \{ renewedTokenHeader \}/],
    [{ requestProperty: 'session' }, 'SessionAuthModule.requestProperty', /express-session and @fastify\/session own/],
    [{ requestProperty: 'user' }, 'SessionAuthModule.requestProperty', /the frameworks or common middleware own/],
    [{ requestProperty: 'a-b' }, 'SessionAuthModule.requestProperty', /must be a property name/],
    [{ rememberVerified: 1.5 }, 'SessionAuthModule.rememberVerified', /must be a whole number/],
  ])('refuses %j, naming %s', (options, option, message) => {
    let error: unknown;
    try {
      resolveAuthOptions(options, TTL);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
    expect((error as Error).message).toMatch(new RegExp(`^nest-cluster-cache: option \`${option.replace(/[[\]().]/g, '\\$&')}\` `));
    expect((error as Error).message).toMatch(message);
  });

  it('never shows a secret in a message', () => {
    expect(() => resolveAuthOptions({ cookie: { secret: 'too-short-secret' .slice(0, 15) } }, TTL)).toThrow(/got 15$/);
  });
});
