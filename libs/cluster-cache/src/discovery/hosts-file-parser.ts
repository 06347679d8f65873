import { isIP } from 'node:net';
import { logSafe } from '../util/log-safe';

/** A host listed in a hosts file, with its line number (from 1). */
export interface HostsFileEntry {
  host: string;
  line: number;
}

/** A line of a hosts file that is not a host, with its line number (from 1). */
export interface HostsFileProblem {
  line: number;
  text: string;
  problem: string;
}

/** What {@link parseHostsFile} found. */
export interface ParsedHostsFile {
  /** The hosts, each once, in file order. */
  hosts: HostsFileEntry[];
  /** Lines that are not hosts; the rest of the file is still used. */
  problems: HostsFileProblem[];
}

/** How much of a file-supplied string a message quotes (see `logSafe`). */
export const QUOTED_LENGTH = 200;
/** A string from the file in a message: quoted, escaped and cut to QUOTED_LENGTH characters. */
function quoted(text: string): string {
  return `"${logSafe(text, QUOTED_LENGTH)}"`;
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/;

/**
 * Parses a hosts file in Erlang's `.hosts.erlang` syntax — one quoted atom
 * and a full stop per host (`'10.0.0.5'.`, `'db1.example.com'.`, several per
 * line allowed), `%` comments — and also plain lines with one host name or IP
 * address. Never throws: bad lines come back in `problems` with their number
 * (`text` as it is in the file; `problem` quotes it escaped and cut, for logs).
 */
export function parseHostsFile(text: string): ParsedHostsFile {
  const hosts: HostsFileEntry[] = [];
  const problems: HostsFileProblem[] = [];
  const seen = new Set<string>();
  const add = (host: string, line: number): void => {
    const key = host.toLowerCase();
    if (!seen.has(key)) hosts.push({ host, line });
    seen.add(key);
  };
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const content = stripComment(raw).trim();
    if (content === '') return;
    const problem = (message: string): void => void problems.push({ line, text: raw.trim(), problem: message });
    if (content.startsWith("'")) {
      const term = /\s*'([^']*)'\s*\.(?=\s|$)/y;
      const found: string[] = [];
      let at = 0;
      let match: RegExpExecArray | null;
      while (at < content.length && (match = term.exec(content)) !== null) {
        found.push(match[1]);
        at = term.lastIndex;
      }
      const rest = content.slice(at).trim();
      if (rest !== '') return problem(`expected 'host'. (a host in single quotes, then a full stop), got ${quoted(rest)}`);
      const bad = found.filter((host) => !isHost(host));
      if (bad.length > 0) return problem(`'${logSafe(bad[0], QUOTED_LENGTH)}' is not a host name or IP address`);
      found.forEach((host) => add(unbracket(host), line));
      return;
    }
    if (/\s/.test(content)) return problem('expected one host per line (or Erlang terms like \'host\'.)');
    // A plain host; a trailing full stop is an Erlang unquoted atom's (`localhost.`) or a root-dot FQDN.
    const host = unbracket(content.endsWith('.') && content.length > 1 ? content.slice(0, -1) : content);
    if (!isHost(host)) return problem(`${quoted(content)} is not a host name or IP address (use 'host'. or a plain host per line)`);
    add(host, line);
  });
  return { hosts, problems };
}

function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "'") quoted = !quoted;
    else if (line[i] === '%' && !quoted) return line.slice(0, i);
  }
  return line;
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function isHost(host: string): boolean {
  return isIP(unbracket(host)) !== 0 || HOST_NAME.test(host);
}
