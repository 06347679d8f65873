import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { indexEntries, readingMinutes, wordCount } from '../../bench/report/reading-time';

/**
 * A new user reads README.md, then docs/getting-started.md: together they stay
 * a ten-minute read (2,500 words at 250 a minute, code blocks counted). And
 * docs/README.md, the index, lists every page with the reading time its words
 * give now, so neither can drift.
 */
const ROOT = join(__dirname, '..', '..');
const DOCS = join(ROOT, 'docs');
const FIRST_READ = ['README.md', 'docs/getting-started.md'];
const FIRST_READ_WORDS = 2_500;

const words = (path: string) => wordCount(readFileSync(join(ROOT, path), 'utf8'));

describe('reading time of the docs', () => {
  it('counts words as wc -w does and rounds minutes up', () => {
    expect(wordCount('  one two\n\n```ts\nconst x = 1;\n```\n')).toBe(8);
    expect([1, 250, 251, 500].map(readingMinutes)).toEqual([1, 1, 2, 2]);
  });

  it(`keeps README.md and docs/getting-started.md within ${FIRST_READ_WORDS} words together`, () => {
    const total = FIRST_READ.reduce((sum, path) => sum + words(path), 0);
    expect(total).toBeLessThanOrEqual(FIRST_READ_WORDS);
  });

  it('lists every page of docs/ in docs/README.md once', () => {
    const pages = readdirSync(DOCS).filter((name) => name.endsWith('.md') && name !== 'README.md');
    const listed = indexEntries(join(DOCS, 'README.md')).map((entry) => entry.page);
    expect([...listed].sort()).toEqual(['../README.md', ...pages].sort());
  });

  it("gives each page's reading time as its words / 250, rounded up", () => {
    const wrong = indexEntries(join(DOCS, 'README.md'))
      .map(({ page, minutes }) => ({ page, minutes, words: words(join('docs', page)) }))
      .filter(({ minutes, words: count }) => minutes !== readingMinutes(count))
      .map(({ page, minutes, words: count }) => `${page}: ${count} words read in ${readingMinutes(count)} min, the index says ${minutes}`);
    expect(wrong).toEqual([]);
  });
});
