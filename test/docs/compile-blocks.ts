import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import type { DocBlock } from './doc-blocks';

/**
 * `nest-cluster-cache` and each of its subpaths, as libs/cluster-cache/package.json
 * "exports" names them, mapped to the library's source (`./dist/x/index.d.ts` → `src/x/index.ts`).
 */
export function packagePaths(root: string): Record<string, string[]> {
  const lib = join(root, 'libs', 'cluster-cache');
  const { name, exports } = JSON.parse(readFileSync(join(lib, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, string | { types?: string }>;
  };
  const paths: Record<string, string[]> = {};
  for (const [subpath, target] of Object.entries(exports)) {
    const types = typeof target === 'string' ? undefined : target.types;
    if (types === undefined) continue; // ./package.json
    const source = types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts');
    paths[subpath === '.' ? name : `${name}${subpath.slice(1)}`] = [join(lib, source)];
  }
  return paths;
}

/**
 * Type-checks every block as its own module, in one program, with the
 * repository's compiler options (strict, decorators, nodenext). A block's file
 * sits in `fixturesDir`, so its relative imports (`./app.module`) find the
 * fixtures there. Returns one message per error: `file:line: TSnnnn message`.
 */
export function compileBlocks(root: string, blocks: DocBlock[], fixturesDir: string): string[] {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    moduleDetection: ts.ModuleDetectionKind.Force, // a block without imports is still a module of its own
    paths: { ...parsed.options.paths, ...packagePaths(root) },
  };
  const virtual = new Map<string, { block: DocBlock; text: string; preludeLines: number }>();
  blocks.forEach((block, index) => {
    const name = `${block.file.replace(/[^\w]+/g, '-')}-L${block.line}-${index}.doc-block.ts`;
    const preludeLines = block.prelude === '' ? 0 : block.prelude.split('\n').length;
    const text = preludeLines === 0 ? block.code : `${block.prelude}\n${block.code}`;
    virtual.set(join(fixturesDir, name), { block, text, preludeLines });
  });

  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (path) => virtual.has(path) || fileExists.call(host, path);
  host.readFile = (path) => virtual.get(path)?.text ?? readFile.call(host, path);
  host.getSourceFile = (path, language, onError, shouldCreate) => {
    const entry = virtual.get(path);
    return entry ? ts.createSourceFile(path, entry.text, language, true) : getSourceFile.call(host, path, language, onError, shouldCreate);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);

  const messages: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const entry = diagnostic.file ? virtual.get(diagnostic.file.fileName) : undefined;
    if (diagnostic.file === undefined) {
      messages.push(`compiler options: TS${diagnostic.code} ${text}`);
    } else if (entry !== undefined) {
      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      const docLine = line < entry.preludeLines ? entry.block.preludeLine + line : entry.block.line + line - entry.preludeLines;
      messages.push(`${entry.block.file}:${docLine}: TS${diagnostic.code} ${text}`);
    } else if (diagnostic.file.fileName.startsWith(fixturesDir)) {
      messages.push(`${diagnostic.file.fileName.slice(root.length + 1)}: TS${diagnostic.code} ${text}`);
    }
  }
  return messages;
}
