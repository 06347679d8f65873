import type { Interface } from 'node:readline';
import type { ChildError } from './json-line-child';

/** The child's side of {@link JsonLineChild}: one JSON line on stdout. */
export function print(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** What the parent gets of a failed command: the error's class name, code, file and message. */
export function errorOf(error: unknown): ChildError {
  const e = error as { name?: string; code?: string; file?: string; message?: string; constructor?: { name?: string } };
  return { name: e?.constructor?.name ?? e?.name ?? 'unknown', code: e?.code, file: e?.file, message: e?.message ?? String(error) };
}

/** An environment variable the fixture cannot run without. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is required`);
  return value;
}

/** Runs each command line of `input` and prints its answer (its result, or its error), in the order they finish. */
export function answerCommands<C extends { id: number; cmd: string }>(input: Interface, commands: Record<string, (command: C) => unknown>): void {
  input.on('line', (line) => {
    const command = JSON.parse(line) as C;
    Promise.resolve()
      .then(() => commands[command.cmd](command))
      .then(
        (result) => print({ kind: 'answer', id: command.id, ok: true, result }),
        (error: unknown) => print({ kind: 'answer', id: command.id, ok: false, error: errorOf(error) }),
      );
  });
}
