import { join } from 'node:path';
import { compileBlocks, packagePaths } from './compile-blocks';
import { docFiles, extractBlocks } from './doc-blocks';

/**
 * Every ```ts / ```typescript block of README.md, docs/*.md and
 * libs/cluster-cache/README.md compiles against the library, so the docs cannot
 * drift from the code.
 *
 * How a block is compiled:
 * - as a module of its own, with the repository's compiler options (strict);
 * - `nest-cluster-cache` and its subpaths (`/health`, `/prometheus`, `/testing`,
 *   `/express-session`, `/fastify-session`, `/keyv`, from the package's
 *   "exports") resolve to libs/cluster-cache/src; other packages to node_modules;
 * - relative imports (`./app.module`, `./auth.controller`) resolve to the
 *   fixtures in test/docs/fixtures/.
 *
 * A block that is a fragment (it uses a `config`, a `cache`, a function of the
 * reader's) declares what it uses in an HTML comment right before its fence,
 * which markdown does not show; its code is put before the block's:
 *
 *     <!-- ts-prelude
 *     import { ClusterCache } from 'nest-cluster-cache';
 *     declare const cache: ClusterCache;
 *     -->
 *     ```ts
 *     await cache.put('key', 'value');
 *     ```
 *
 * An error names the markdown file and line: `docs/sessions.md:42: TS2339 …`.
 */
const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(__dirname, 'fixtures');

/** Blocks that must fail, each in its own way: they show the spec reports what it should. */
const BROKEN = [
  { file: 'broken/x.md', line: 10, code: "import { SessionCache } from 'nest-cluster-cache';\nconst n: number = 'one';", prelude: '', preludeLine: 9 },
  { file: 'broken/y.md', line: 20, code: 'sessions.nope();', prelude: "import type { SessionCache } from 'nest-cluster-cache';\ndeclare const sessions: SessionCache;", preludeLine: 16 },
  { file: 'broken/z.md', line: 30, code: 'undeclared();', prelude: 'declare const x: Nope;', preludeLine: 27 },
];

describe('TypeScript blocks of the docs', () => {
  const blocks = docFiles(ROOT).flatMap((file) => extractBlocks(ROOT, file));
  // One program for the docs' blocks and the broken ones: type-checking is the slow part.
  let messages: string[] = [];
  beforeAll(() => {
    messages = compileBlocks(ROOT, [...blocks, ...BROKEN], FIXTURES);
  });

  it('finds the blocks of README.md and docs/, with their preludes', () => {
    const files = new Set(blocks.map((block) => block.file));
    expect(files).toContain('README.md');
    expect(files).toContain('docs/getting-started.md');
    expect(blocks.some((block) => block.prelude.includes('declare'))).toBe(true);
    expect(blocks.length).toBeGreaterThan(20);
  });

  it("shows README.md's guard example as docs/getting-started.md's first block", () => {
    const first = (file: string) => blocks.find((block) => block.file === file)?.code;
    expect(first('README.md')).toContain('SessionAuthGuard');
    expect(first('README.md')).toBe(first('docs/getting-started.md'));
  });

  it('maps nest-cluster-cache and every subpath of its exports to the source', () => {
    expect(Object.keys(packagePaths(ROOT)).sort()).toEqual(
      [
        'nest-cluster-cache',
        'nest-cluster-cache/express-session',
        'nest-cluster-cache/fastify-session',
        'nest-cluster-cache/health',
        'nest-cluster-cache/keyv',
        'nest-cluster-cache/prometheus',
        'nest-cluster-cache/testing',
      ].sort(),
    );
  });

  it('names the file and line of an error, in the block or in its prelude', () => {
    expect(messages.filter((message) => message.startsWith('broken/'))).toEqual([
      expect.stringMatching(/^broken\/x\.md:11: TS2322 /),
      expect.stringMatching(/^broken\/y\.md:20: TS2339 Property 'nope' does not exist on type 'SessionCache/),
      expect.stringMatching(/^broken\/z\.md:27: TS2304 Cannot find name 'Nope'/),
      expect.stringMatching(/^broken\/z\.md:30: TS2304 Cannot find name 'undeclared'/),
    ]);
  });

  it('compiles every block against the library', () => {
    expect(messages.filter((message) => !message.startsWith('broken/'))).toEqual([]);
  });
});
