import { hasUnsafeCharacters, logSafe } from './log-safe';

describe('logSafe', () => {
  it('leaves plain short text as it is', () => {
    expect(logSafe('10.0.0.5:14000')).toBe('10.0.0.5:14000');
    expect(logSafe("'db1.example.com'. % ok")).toBe("'db1.example.com'. % ok");
    expect(logSafe('héllo wörld ✓ 😀')).toBe('héllo wörld ✓ 😀');
    expect(logSafe('')).toBe('');
  });

  it('escapes control characters, the backslash, separators, bidi and zero-width controls, and lone surrogates', () => {
    expect(logSafe('a\nb\r\nc\td')).toBe('a\\nb\\r\\nc\\td');
    expect(logSafe('\x1b[31mred\x1b[0m')).toBe('\\x1b[31mred\\x1b[0m');
    expect(logSafe('nul\x00 del\x7f c1\x85')).toBe('nul\\x00 del\\x7f c1\\x85');
    expect(logSafe('back\\slash')).toBe('back\\\\slash');
    expect(logSafe('line\u2028sep\u2029')).toBe('line\\u2028sep\\u2029');
    expect(logSafe('user\u202egnp.exe')).toBe('user\\u202egnp.exe');
    expect(logSafe('zero\u200bwidth\ufeff')).toBe('zero\\u200bwidth\\ufeff');
    expect(logSafe('lone \ud800 and \udc00')).toBe('lone \\ud800 and \\udc00');
    // A forged second log line stays on the first.
    expect(logSafe('ok\n[Nest] 1 - ERROR forged')).not.toContain('\n');
  });

  it('cuts long text to `max` characters (escapes included) and says how long it was', () => {
    const line = 'x'.repeat(1_000_000);
    const safe = logSafe(line);
    expect(safe).toBe(`${'x'.repeat(200)}… (1000000 bytes)`);
    expect(logSafe(line, 10)).toBe('xxxxxxxxxx… (1000000 bytes)');
    expect(logSafe('abc', 3)).toBe('abc');
    expect(logSafe('abcd', 3)).toBe('abc… (4 bytes)');
    // The byte count is UTF-8's; an escape is never cut in two, nor a surrogate pair.
    expect(logSafe('é'.repeat(300), 5)).toBe('ééééé… (600 bytes)');
    expect(logSafe('ab\ncd', 3)).toBe('ab… (5 bytes)');
    expect(logSafe('ab\ncd', 4)).toBe('ab\\n… (5 bytes)');
    expect(logSafe('a😀b', 2)).toBe('a… (6 bytes)');
    expect(logSafe('abc', 0)).toBe('… (3 bytes)');
  });

  it('takes errors as their message, objects as JSON, and anything else as a string, without throwing', () => {
    expect(logSafe(new Error('bad\nthing'))).toBe('bad\\nthing');
    expect(logSafe({ a: 'x\ny' })).toBe('{"a":"x\\\\ny"}');
    expect(logSafe(42)).toBe('42');
    expect(logSafe(undefined)).toBe('undefined');
    expect(logSafe(null)).toBe('null');
    expect(logSafe(Symbol('s'))).toBe('Symbol(s)');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(logSafe(cyclic)).toBe('[object Object]');
    expect(logSafe(123n)).toBe('123');
  });
});

describe('hasUnsafeCharacters', () => {
  it('tells a name with a newline, ESC or a bidi control from a plain one (a backslash alone is plain)', () => {
    expect(hasUnsafeCharacters('a@127.0.0.1')).toBe(false);
    expect(hasUnsafeCharacters('a\\b')).toBe(false);
    expect(hasUnsafeCharacters('a\nb')).toBe(true);
    expect(hasUnsafeCharacters('a\x1b[2Jb')).toBe(true);
    expect(hasUnsafeCharacters('user\u202egnp')).toBe(true);
    expect(hasUnsafeCharacters('lone \ud800')).toBe(true);
  });
});
