#!/usr/bin/env node
'use strict';
/**
 * Builds the demo app with the TypeScript compiler, from apps/demo/tsconfig.app.json
 * into dist/apps/demo (entry: dist/apps/demo/apps/demo/src/main.js), the library's
 * sources with it. The path alias `@app/cluster-cache` (and its subpaths, such as
 * `@app/cluster-cache/prometheus`) becomes a relative import of the compiled library
 * files, so `node dist/apps/demo/apps/demo/src/main.js` runs as it is.
 *
 * This is what `nest build demo` did, without @nestjs/cli: every release of the Nest
 * 12 CLI depends on packages that want Node 22 (@angular-devkit/*, commander 15),
 * while this repository supports Node >= 20.19.
 *
 *   node scripts/build-demo.js      (npm run build:demo)
 *
 * Type errors stop the build before anything is written (exit 1, errors on stderr).
 */
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const ROOT = path.resolve(__dirname, '..');
const CONFIG = path.join(ROOT, 'apps', 'demo', 'tsconfig.app.json');

/** Compiler messages as tsc prints them (file:line:col - error TS…). */
function format(diagnostics) {
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (file) => file,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => '\n',
  });
}

/**
 * A `before` transformer that rewrites module specifiers matched by the `paths` of the
 * config (and resolved to a source file of this repository) into relative paths to
 * the emitted `.js` file. Import elision still works: the updated declarations keep
 * their original nodes.
 */
function rewritePathAliases(options) {
  const aliases = Object.keys(options.paths ?? {}).map((pattern) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace('*', '.*')}$`));
  const resolved = new Map();
  const target = (specifier, fromFile) => {
    if (!aliases.some((alias) => alias.test(specifier))) return undefined;
    const key = `${specifier}\0${fromFile}`;
    if (!resolved.has(key)) {
      const file = ts.resolveModuleName(specifier, fromFile, options, ts.sys).resolvedModule?.resolvedFileName;
      let relative;
      if (file !== undefined && !file.includes(`${path.sep}node_modules${path.sep}`) && !file.endsWith('.d.ts')) {
        relative = path.relative(path.dirname(fromFile), file).split(path.sep).join('/').replace(/\.(m|c)?tsx?$/, (_, m) => `.${m ?? ''}js`);
        if (!relative.startsWith('.')) relative = `./${relative}`;
      }
      resolved.set(key, relative);
    }
    return resolved.get(key);
  };
  return (context) => (sourceFile) => {
    const { factory } = context;
    const visit = (node) => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        const relative = target(node.moduleSpecifier.text, sourceFile.fileName);
        if (relative === undefined) return node;
        const specifier = factory.createStringLiteral(relative);
        return ts.isImportDeclaration(node)
          ? factory.updateImportDeclaration(node, node.modifiers, node.importClause, specifier, node.attributes)
          : factory.updateExportDeclaration(node, node.modifiers, node.isTypeOnly, node.exportClause, specifier, node.attributes);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitNode(sourceFile, visit);
  };
}

/** Compiles the demo; returns the error text, or undefined when it was built. */
function buildDemo() {
  let configError;
  const config = ts.getParsedCommandLineOfConfigFile(CONFIG, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => (configError = d) });
  if (config === undefined) return format([configError]);
  if (config.errors.length > 0) return format(config.errors);
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, projectReferences: config.projectReferences });
  const errors = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) return format(errors);
  fs.rmSync(config.options.outDir, { recursive: true, force: true });
  const result = program.emit(undefined, undefined, undefined, false, { before: [rewritePathAliases(config.options)] });
  const emitErrors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  return emitErrors.length > 0 || result.emitSkipped ? format(emitErrors) || 'the compiler skipped the emit' : undefined;
}

module.exports = { buildDemo };

if (require.main === module) {
  const started = Date.now();
  const error = buildDemo();
  if (error !== undefined) {
    process.stderr.write(`${error}\nbuilding the demo failed\n`);
    process.exit(1);
  }
  console.log(`built the demo into ${path.relative(ROOT, path.join(ROOT, 'dist', 'apps', 'demo'))} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
