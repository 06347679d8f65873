import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { docFiles } from './doc-blocks';
import { anchorOf, brokenLinks } from './doc-links';

/**
 * Every link of README.md, docs/*.md and the package README to a file of this
 * repository names a file that exists and, with `#anchor`, one of its headings;
 * and no doc names a path of somebody's machine.
 */
const ROOT = join(__dirname, '..', '..');

describe('links of the docs', () => {
  it('turns headings into the anchors GitHub gives them', () => {
    expect(anchorOf('`merge` (the default)')).toBe('merge-the-default');
    expect(anchorOf('10. Sign-outs across netsplits')).toBe('10-sign-outs-across-netsplits');
    expect(anchorOf('`ClusterService.stats()` and `digest()`')).toBe('clusterservicestats-and-digest');
  });

  it('reports a link to a missing file or heading', () => {
    const broken = brokenLinks(ROOT, join(__dirname, 'fixtures', 'broken-links.md'));
    expect(broken).toEqual([
      'test/docs/fixtures/broken-links.md: ../../../docs/nowhere.md (no such file)',
      'test/docs/fixtures/broken-links.md: ../../../docs/sessions.md#no-such-heading (no such heading)',
      'test/docs/fixtures/broken-links.md: https://github.com/nest-cluster-cache/nest-cluster-cache/blob/main/docs/nowhere.md (no such file)',
    ]);
  });

  it('finds every linked file and heading', () => {
    expect(docFiles(ROOT).flatMap((file) => brokenLinks(ROOT, file))).toEqual([]);
  });

  it('names no absolute path of a machine (a home or work directory, a checkout)', () => {
    const machinePath = /(?:^|[\s`'"(=])(?:\/(?:home|Users|root|work|workspace|builds?)\/|[A-Z]:\\)/m;
    const found = docFiles(ROOT).filter((file) => machinePath.test(readFileSync(file, 'utf8'))).map((file) => relative(ROOT, file));
    expect(found).toEqual([]);
    expect(machinePath.test('see /work/main/docs')).toBe(true);
  });
});
