import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const versionOf = (name: string) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;

/**
 * What a user does: `npm install` the packed library into a fresh app (with
 * its peer dependencies) and use it from plain JavaScript, types included.
 */
describe('the packed nest-cluster-cache tarball', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ncc-pack-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('installs into a fresh app and serves sessions there', () => {
    execFileSync('npm', ['run', 'build:lib'], { cwd: ROOT, stdio: 'pipe' });
    execFileSync('npm', ['pack', '--pack-destination', dir], { cwd: join(ROOT, 'libs', 'cluster-cache'), stdio: 'pipe' });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'fresh-app',
        private: true,
        dependencies: {
          'nest-cluster-cache': `file:../${tarball}`,
          '@nestjs/common': versionOf('@nestjs/common'),
          '@nestjs/core': versionOf('@nestjs/core'),
          'reflect-metadata': versionOf('reflect-metadata'),
          rxjs: versionOf('rxjs'),
        },
      }),
    );
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: 'pipe', timeout: 240_000 });
    writeFileSync(
      join(app, 'main.js'),
      `
require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { ClusterCacheModule, ClusterCache, SessionCache, ClusterService, ANY } = require('nest-cluster-cache');

class AppModule {}
Module({ imports: [ClusterCacheModule.forRoot({ ttl: 60000, persistence: { dir: __dirname + '/data' } })] })(AppModule);

(async () => {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const sessions = app.get(SessionCache);
  const { token } = await sessions.create('ada', { device: 'laptop' });
  await app.get(ClusterCache).put(['k', 1], 'v');
  const out = { user: sessions.get(token).userId, all: app.get(ClusterCache).all(['k', ANY]), node: app.get(ClusterService).self().name };
  await app.close();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`,
    );
    const output = execFileSync(process.execPath, ['main.js'], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(output.trim().split('\n').pop()!)).toEqual({ user: 'ada', all: [[['k', 1], 'v']], node: 'nonode@127.0.0.1' });
    const types = readFileSync(join(app, 'node_modules', 'nest-cluster-cache', 'dist', 'index.d.ts'), 'utf8');
    expect(types).toContain('SessionCache');
    expect(readdirSync(join(app, 'node_modules', 'nest-cluster-cache', 'dist', 'health'))).toContain('index.d.ts');
  }, 300_000);
});
