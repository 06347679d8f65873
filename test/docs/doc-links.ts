import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Where the package README's absolute links point: this repository's main branch on GitHub. */
const REPOSITORY = 'https://github.com/nest-cluster-cache/nest-cluster-cache/blob/main/';

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

/** The text of a markdown file outside its fenced code blocks. */
function prose(text: string): string {
  return text.replace(/^([ \t]*)(`{3,}|~{3,})[^\n]*\n[\s\S]*?^[ \t]*\2[ \t]*$/gm, '');
}

function anchorsOf(path: string): Set<string> {
  return new Set([...prose(readFileSync(path, 'utf8')).matchAll(/^#+\s+(.*)$/gm)].map(([, heading]) => anchorOf(heading)));
}

/**
 * Every link of `path` to a file of this repository (relative, or an absolute
 * link into the repository's main branch) that names no existing file, or an
 * anchor that no heading of the target has: `file: link (why)`.
 */
export function brokenLinks(root: string, path: string): string[] {
  const broken: string[] = [];
  for (const [, link] of prose(readFileSync(path, 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
    const local = link.startsWith(REPOSITORY) ? link.slice(REPOSITORY.length) : link;
    if (/^[a-z]+:/.test(local)) continue; // another site
    const [file, anchor] = local.split('#');
    const target = file === '' ? path : link.startsWith(REPOSITORY) ? join(root, file) : resolve(dirname(path), file);
    if (!existsSync(target)) broken.push(`${relative(root, path)}: ${link} (no such file)`);
    else if (anchor !== undefined && target.endsWith('.md') && !anchorsOf(target).has(anchor)) broken.push(`${relative(root, path)}: ${link} (no such heading)`);
  }
  return broken;
}
