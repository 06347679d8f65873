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
          '@nestjs/platform-express': versionOf('@nestjs/platform-express'),
          '@types/node': versionOf('@types/node'),
          '@types/express': versionOf('@types/express'),
          '@nestjs/terminus': versionOf('@nestjs/terminus'),
          'prom-client': versionOf('prom-client'),
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

    // The auth kit as docs/getting-started.md shows it, in TypeScript compiled against the installed types,
    // importing only from nest-cluster-cache and its subpaths.
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(GUARD_APP_TSCONFIG));
    writeFileSync(join(app, 'guard-app.ts'), GUARD_APP);
    compile(app);
    const guarded = execFileSync(process.execPath, [join('out', 'guard-app.js')], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(guarded.trim().split('\n').pop()!)).toEqual({
      anonymous: 401,
      publicRoute: 200,
      bearer: { status: 200, userId: 'ada' },
      cookie: { status: 200, userId: 'ada' },
      currentUserId: 'ada',
      signOut: 200,
      afterSignOut: 401,
      subpaths: { testing: 'function', keyv: 'function', health: 'function', prometheus: 'function' },
    });
  }, 300_000);
});

const GUARD_APP_TSCONFIG = {
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'ES2023',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: true,
    types: ['node'],
    outDir: 'out',
  },
  files: ['guard-app.ts'],
};

/** getting-started.md's five lines, its sign-in and sign-out routes, and the other entry points a user imports. */
const GUARD_APP = `
import 'reflect-metadata';
import { Body, Controller, Delete, Get, HttpCode, Module, Post, Req, Res } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { Request, Response } from 'express';
import { ClusterCacheModule, CurrentSession, CurrentUserId, Public, SessionAuthGuard, SessionAuthModule, SessionAuthService } from 'nest-cluster-cache';
import type { Session } from 'nest-cluster-cache';
import { TestCluster } from 'nest-cluster-cache/testing';
import { KeyvCacheStore } from 'nest-cluster-cache/keyv';

@Controller()
class MeController {
  @Get('me') me(@CurrentSession() session: Session) { return session; }
  @Get('who') who(@CurrentUserId() userId: string) { return { userId }; }
  @Public() @Get('open') open() { return { open: true }; }
}

@Controller('session')
class AuthController {
  constructor(private readonly auth: SessionAuthService) {}

  @Public() @Post() @HttpCode(200)
  async signIn(@Body() body: { userId: string }, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    const { token } = await this.auth.signIn(request, response, body.userId);
    return { token };
  }

  @Public() @Delete()
  async signOut(@Req() request: Request, @Res({ passthrough: true }) response: Response) {
    return { signedOut: await this.auth.signOut(request, response) };
  }
}

@Module({
  imports: [ClusterCacheModule.forRoot({}), SessionAuthModule.forRoot({ cookie: { secret: 'a secret of the fresh app', secure: false } })],
  controllers: [MeController, AuthController],
  providers: [{ provide: APP_GUARD, useClass: SessionAuthGuard }],
})
class AppModule {}

(async () => {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  const call = async (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => {
    const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as any, cookie: res.headers.get('set-cookie') };
  };
  const signIn = await call('POST', '/session', {}, { userId: 'ada' });
  const cookie = signIn.cookie!.split(';')[0];
  const bearer = await call('GET', '/me', { authorization: 'Bearer ' + signIn.json.token });
  const byCookie = await call('GET', '/me', { cookie });
  const who = await call('GET', '/who', { cookie });
  const out = {
    anonymous: (await call('GET', '/me')).status,
    publicRoute: (await call('GET', '/open')).status,
    bearer: { status: bearer.status, userId: bearer.json.userId },
    cookie: { status: byCookie.status, userId: byCookie.json.userId },
    currentUserId: who.json.userId,
    signOut: (await call('DELETE', '/session', { cookie })).status,
    afterSignOut: (await call('GET', '/me', { authorization: 'Bearer ' + signIn.json.token })).status,
    subpaths: {
      testing: typeof TestCluster,
      keyv: typeof KeyvCacheStore,
      health: typeof require('nest-cluster-cache/health').ClusterCacheHealthIndicator,
      prometheus: typeof require('nest-cluster-cache/prometheus').ClusterCacheMetrics,
    },
  };
  await app.close();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** Compiles the fresh app with the repository's TypeScript; a failure shows the compiler's diagnostics. */
function compile(app: string): void {
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    throw new Error(`tsc failed in the fresh app:\n${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`);
  }
}
