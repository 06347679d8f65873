/** The restart figure's anchor: Mnesia loading a disc_copies table of the same sessions (bench/compact/mnesia_restart.erl) in a fresh VM. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class MnesiaRestart {
  private readonly dir = mkdtempSync(join(tmpdir(), 'bench-mnesia-restart-'));
  /** The Erlang/OTP release. */
  readonly otp = `Erlang/OTP ${erl(['-noshell', '-eval', 'io:format("~s~n",[erlang:system_info(otp_release)]), halt().'])}`;

  /** Whether `erl` and `erlc` run here. */
  static available(): boolean {
    try {
      erl(['-noshell', '-eval', 'halt().']);
      return true;
    } catch {
      return false;
    }
  }

  constructor(private readonly n: number) {
    execFileSync('erlc', ['-o', this.dir, join(__dirname, 'mnesia_restart.erl')], { stdio: 'pipe' });
    mkdirSync(join(this.dir, 'db'));
  }

  /** Writes the table (once); seconds. */
  fill(): number {
    return this.run(['-mnesia', 'dump_log_write_threshold', '100000', '-run', 'mnesia_restart', 'fill', String(this.n)]).seconds;
  }

  /** A fresh VM loads the table: seconds from mnesia:start() to the table loaded. */
  load(): number {
    const r = this.run(['-run', 'mnesia_restart', 'load']);
    if (r.size !== this.n) throw new Error(`Mnesia loaded ${r.size} of ${this.n} sessions`);
    return r.seconds;
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(args: string[]): { seconds: number; size: number } {
    const text = erl(['-noshell', '-pa', this.dir, '-mnesia', 'dir', `"${join(this.dir, 'db')}"`, ...args], this.dir);
    const line = text.split('\n').find((l) => l.startsWith('RESULT '));
    if (line === undefined) throw new Error(`the Mnesia restart anchor printed no result:\n${text}`);
    return JSON.parse(line.slice(7)) as { seconds: number; size: number };
  }
}

function erl(args: string[], cwd?: string): string {
  return execFileSync('erl', args, { encoding: 'utf8', cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000, maxBuffer: 64 << 20 }).trim();
}
