import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { Exit } from '../utils/json-line-child';

const FIXTURES = path.join(__dirname, 'fixtures');
const NODE_ARGS = ['-r', path.join(FIXTURES, 'register.js'), path.join(FIXTURES, 'persistence-child.ts')];

/**
 * A `persistence-child.ts` process, with its stdout as lines and its stderr as
 * text. Waiting is event-driven: `line()` resolves as soon as the line is read.
 */
export class Child {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<Exit>;
  private readonly process: ChildProcess;
  private readonly waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  /**
   * @param fileSizeLimit a limit on the size of the files the child writes, in
   *   512-byte blocks (`ulimit -f`), to make writes fail as on a full disk.
   */
  constructor(args: string[], fileSizeLimit?: number) {
    this.process =
      fileSizeLimit === undefined
        ? spawn(process.execPath, [...NODE_ARGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
        : // Writes past the limit then fail with EFBIG instead of killing the process with SIGXFSZ.
          spawn('sh', ['-c', `trap '' XFSZ; ulimit -f ${fileSizeLimit}; exec "$0" "$@"`, process.execPath, ...NODE_ARGS, ...args], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    const stdout = createInterface({ input: this.process.stdout! });
    stdout.on('line', (line) => this.onLine(line));
    const closed = new Promise((resolve) => stdout.once('close', resolve));
    // Wait for stdout's end as well, so every line is in `lines` once `exited` resolves.
    this.exited = new Promise<Exit>((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal }))).then(async (exit) => {
      await closed;
      return exit;
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Resolves with the first line (already read or to come) that matches; rejects if the child ends first. */
  line(match: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.push({ match, resolve });
      void this.exited.then((exit) =>
        reject(new Error(`child ended (${JSON.stringify(exit)}) before the line; stderr: ${this.stderr}; stdout: ${this.lines.join('\n')}`)),
      );
    });
  }

  kill(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }

  private onLine(line: string): void {
    this.lines.push(line);
    for (const waiter of this.waiters.filter((w) => w.match(line))) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  }
}

/** Runs a child to its end. */
export async function run(args: string[], fileSizeLimit?: number): Promise<Child & { exit: Exit }> {
  const child = new Child(args, fileSizeLimit);
  const exit = await child.exited;
  return Object.assign(child, { exit });
}
