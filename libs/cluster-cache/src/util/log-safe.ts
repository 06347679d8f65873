/**
 * Characters that must not reach a log line as they are: C0 and C1 controls
 * (a newline forges a log line, ESC drives the terminal), DEL, the backslash
 * (escaped so that the escapes below stay unambiguous), Unicode line and
 * paragraph separators, zero-width and bidirectional controls (they reorder or
 * hide what is displayed), the BOM, interlinear annotation controls, and lone
 * surrogates (they are not text).
 */
const UNSAFE =
  /[\x00-\x1f\x7f-\x9f\\\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** {@link UNSAFE} but the backslash: what a peer's node name must not hold. */
const UNSAFE_EXCEPT_BACKSLASH =
  /[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const NAMED: Record<number, string> = { 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r', 0x5c: '\\\\' };

/**
 * `value` as text that is safe to put in a log line: unsafe characters
 * escaped (`\n`, `\t`, `\\`, `\x1b`, `\u202e`…), and at most `max` characters
 * long — a longer one is cut and ends in `… (N bytes)`, N being the UTF-8
 * length of the whole text. Use it for every string that comes from outside
 * the process (a file, a DNS answer, a peer) before logging it.
 *
 * Strings are taken as they are, errors as their message, other objects as
 * JSON (or their tag if they have none), anything else with `String()`.
 * Never throws.
 *
 * @example
 * logSafe('a\nb');              // 'a\\nb'
 * logSafe('x'.repeat(1e6), 10); // 'xxxxxxxxxx… (1000000 bytes)'
 */
export function logSafe(value: unknown, max = 200): string {
  const text = textOf(value);
  const limit = Number.isNaN(max) ? 200 : Math.max(0, Math.floor(max));
  if (text.length <= limit && !UNSAFE.test(text)) return text;
  let out = '';
  let at = 0;
  while (at < text.length) {
    const code = text.charCodeAt(at);
    let piece: string;
    let width = 1;
    if (code >= 0xd800 && code <= 0xdbff && at + 1 < text.length && isLowSurrogate(text.charCodeAt(at + 1))) {
      piece = text.slice(at, at + 2);
      width = 2;
    } else {
      piece = text[at];
      if (UNSAFE.test(piece)) piece = escape(code);
    }
    if (out.length + piece.length > limit) break;
    out += piece;
    at += width;
  }
  return at >= text.length ? out : `${out}… (${Buffer.byteLength(text, 'utf8')} bytes)`;
}

/** Whether `text` holds a character {@link logSafe} escapes, other than the backslash (a name with a newline, ESC …). */
export function hasUnsafeCharacters(text: string): boolean {
  return UNSAFE_EXCEPT_BACKSLASH.test(text);
}

function escape(code: number): string {
  return NAMED[code] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function textOf(value: unknown): string {
  try {
    if (typeof value === 'string') return value;
    if (value instanceof Error) return value.message;
    if (typeof value === 'object' && value !== null) return JSON.stringify(value) ?? Object.prototype.toString.call(value);
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
