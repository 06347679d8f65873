import { readFileSync } from 'node:fs';

/** Words a reader takes in per minute: the pace every reading time of the docs assumes. */
export const WORDS_PER_MINUTE = 250;

/** The words of a text as `wc -w` counts them: runs of non-space characters, code included. */
export function wordCount(text: string): number {
  return text.split(/\s+/).filter((word) => word !== '').length;
}

/** Minutes to read `words` words, rounded up. */
export function readingMinutes(words: number): number {
  return Math.ceil(words / WORDS_PER_MINUTE);
}

/** One line of docs/README.md: the page it links (relative to docs/) and the minutes it gives. */
export interface IndexEntry {
  page: string;
  minutes: number;
}

/** A page line of the index: `- [Title](page.md) · N min — what it answers`. */
const ENTRY = /^- \[[^\]]+\]\(([^)#\s]+\.md)\) · (\d+) min — \S/;

/** The page lines of the docs index, in their order. */
export function indexEntries(path: string): IndexEntry[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => ENTRY.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([, page, minutes]) => ({ page, minutes: Number(minutes) }));
}
