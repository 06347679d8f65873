#!/usr/bin/env node
'use strict';
/**
 * Runs before `npm run demo` and `npm test` (npm's `predemo` / `pretest`), so
 * that those two commands are all a fresh clone needs:
 *
 * - installs the npm packages (`npm ci`) when `node_modules` is missing or
 *   older than `package-lock.json`, and does nothing otherwise;
 * - for `test`, checks the Debian packages the e2e specs use for real servers
 *   and hosts — Chromium (the demo page), nftables (partitions), iproute2
 *   (network namespaces), redis-server (the Redis backend) — and installs the
 *   missing ones with apt-get when run as root; otherwise it says which are
 *   missing and how to install them, and stops.
 *
 *   node scripts/prepare.js demo|test
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
/** Debian package per command the e2e specs run. */
const TEST_PACKAGES = { chromium: 'chromium', nft: 'nftables', ip: 'iproute2', 'redis-server': 'redis-server' };

function run(command, args, env = process.env) {
  console.log(`prepare: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env });
  if (result.status !== 0) {
    console.error(`prepare: \`${command} ${args.join(' ')}\` failed (${result.error?.message ?? `exit ${result.status}`})`);
    process.exit(1);
  }
}

function mtime(file) {
  try {
    return fs.statSync(path.join(ROOT, file)).mtimeMs;
  } catch {
    return undefined;
  }
}

/** `npm ci` unless node_modules matches package-lock.json (npm writes node_modules/.package-lock.json on install). */
function ensureNpmPackages() {
  const installed = mtime('node_modules/.package-lock.json');
  if (installed !== undefined && installed >= mtime('package-lock.json')) return;
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function ensureTestPackages() {
  const missing = Object.entries(TEST_PACKAGES)
    .filter(([command]) => !has(command))
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() === 0 && has('apt-get')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update', '-qq'], env);
    run('apt-get', ['install', '-y', '-qq', ...missing], env);
    return;
  }
  console.error(`prepare: the e2e tests need these Debian packages: ${missing.join(', ')}.`);
  console.error(`prepare: install them (as root: apt-get install -y ${missing.join(' ')}), then run npm test again.`);
  process.exit(1);
}

const what = process.argv[2];
if (what !== 'demo' && what !== 'test') {
  console.error('usage: node scripts/prepare.js demo|test');
  process.exit(2);
}
ensureNpmPackages();
if (what === 'test') ensureTestPackages();
