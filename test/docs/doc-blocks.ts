import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One ```ts block of a markdown file, with what it needs to compile. */
export interface DocBlock {
  /** The markdown file, relative to the repository root. */
  file: string;
  /** Line (1-based) of the block's first code line in that file. */
  line: number;
  /** The block's code, its fence's indentation removed. */
  code: string;
  /** Code of the `<!-- ts-prelude … -->` comment before the block, if any. */
  prelude: string;
  /** Line (1-based) of that comment's first code line, or of the fence when none. */
  preludeLine: number;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/;
const TYPESCRIPT = new Set(['ts', 'typescript']);
const PRELUDE_START = /^\s*<!--\s*ts-prelude\b(.*)$/;

/** The markdown files whose TypeScript blocks must compile: README.md, docs/*.md and the package's README. */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join(root, 'docs', name));
  return [join(root, 'README.md'), ...docs, join(root, 'libs', 'cluster-cache', 'README.md')];
}

/** Every ```ts / ```typescript block of `path`, with the prelude comment written right before it (blank lines between allowed). */
export function extractBlocks(root: string, path: string): DocBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const file = relative(root, path);
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, language] = open;
    let end = i + 1;
    while (end < lines.length && !isClosing(lines[end], fence)) end++;
    if (TYPESCRIPT.has(language.toLowerCase())) {
      const code = lines
        .slice(i + 1, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()))
        .join('\n');
      blocks.push({ file, line: i + 2, code, ...preludeBefore(lines, i) });
    }
    i = end;
  }
  return blocks;
}

function isClosing(line: string, fence: string): boolean {
  const trimmed = line.trim();
  return trimmed.startsWith(fence) && trimmed.replace(new RegExp(`^\\${fence[0]}+`), '') === '';
}

/** The `<!-- ts-prelude … -->` comment ending right before line `fenceIndex` (blank lines may sit between). */
function preludeBefore(lines: string[], fenceIndex: number): { prelude: string; preludeLine: number } {
  let end = fenceIndex - 1;
  while (end >= 0 && lines[end].trim() === '') end--;
  if (end < 0 || !lines[end].trimEnd().endsWith('-->')) return { prelude: '', preludeLine: fenceIndex + 1 };
  let start = end;
  while (start >= 0 && !lines[start].includes('<!--')) start--;
  const first = start >= 0 ? PRELUDE_START.exec(lines[start]) : null;
  if (!first) return { prelude: '', preludeLine: fenceIndex + 1 };
  const body = [first[1], ...lines.slice(start + 1, end + 1)];
  body[body.length - 1] = body[body.length - 1].replace(/-->\s*$/, '');
  // The comment's first line is `<!-- ts-prelude` plus, perhaps, code: line numbers count from that line.
  return { prelude: body.join('\n'), preludeLine: start + 1 };
}
