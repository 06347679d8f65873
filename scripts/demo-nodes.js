'use strict';
/**
 * The demo's layout (names, ports, data directories) and how to build and
 * start one node. Used by scripts/demo.js and by the tests, which restart a
 * node with exactly the environment the script gives it.
 *
 * Overridable by environment, so tests do not clash with a running demo:
 *   DEMO_BASE_PORT          HTTP port of node a (default 4000); node b gets +2
 *   DEMO_CLUSTER_BASE_PORT  cluster port of node a (default DEMO_BASE_PORT + 10000); b gets +2
 *   DEMO_LB_PORT            the load balancer's port (default 8080)
 *   DEMO_DATA_DIR           parent of the nodes' data directories (default <repo>/.data)
 *   DEMO_HOST               address everything listens on (default 127.0.0.1)
 *   CLUSTER_COOKIE          the cluster secret shared by the nodes (default: the demo's)
 *   SESSION_SECRET          HMAC key of the session cookie (default: the demo's)
 *   SESSION_TTL, SESSION_RENEW_AFTER  passed on to the nodes when set
 *   DEMO_ALLOWED_ORIGINS    origins whose pages may POST and DELETE (default: the balancer's and
 *                           the nodes' origins, with localhost too when the host is 127.0.0.1)
 *   DEMO_ADMIN_TOKEN, DEMO_SIGNIN_LIMIT  passed on to the nodes like every other variable
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
/** Where scripts/build-demo.js puts the entry file (the layout `nest build demo` had). */
const MAIN = path.join(ROOT, 'dist', 'apps', 'demo', 'apps', 'demo', 'src', 'main.js');
/** Written after a build that succeeded. */
const BUILT = path.join(ROOT, 'dist', 'apps', 'demo', '.demo-build-ok');
/** Sources whose changes make a build stale: the demo's, the library's, and how they are compiled. */
const SOURCES = [
  path.join(ROOT, 'apps', 'demo', 'src'),
  path.join(ROOT, 'libs', 'cluster-cache', 'src'),
  path.join(ROOT, 'apps', 'demo', 'tsconfig.app.json'),
  path.join(ROOT, 'tsconfig.json'),
  path.join(ROOT, 'scripts', 'build-demo.js'),
];

/** The demo's cluster secret and cookie key. Demo values: anything real sets its own. */
const DEMO_CLUSTER_COOKIE = 'demo-cluster-cookie-not-a-secret';
// The same as the app's built-in default (apps/demo/src/config/demo-config.ts), so nodes started by hand accept the cookies too.
const DEMO_SESSION_SECRET = 'nest-cluster-cache-demo-secret-change-me';

const NODE_IDS = ['a', 'b'];

/**
 * The demo's nodes and load balancer, from the environment.
 * @param {NodeJS.ProcessEnv} [env]
 */
function demoLayout(env = process.env) {
  const host = env.DEMO_HOST || '127.0.0.1';
  const basePort = port(env.DEMO_BASE_PORT, 4000, 'DEMO_BASE_PORT');
  const clusterBasePort = port(env.DEMO_CLUSTER_BASE_PORT, basePort + 10000, 'DEMO_CLUSTER_BASE_PORT');
  const dataDir = path.resolve(ROOT, env.DEMO_DATA_DIR || '.data');
  const nodes = NODE_IDS.map((id, i) => ({
    id,
    name: `${id}@${host}`,
    host,
    port: basePort + 2 * i,
    clusterPort: clusterBasePort + 2 * i,
    dir: path.join(dataDir, id),
  }));
  const lb = { host, port: port(env.DEMO_LB_PORT, 8080, 'DEMO_LB_PORT') };
  return {
    host,
    dataDir,
    allowedOrigins: env.DEMO_ALLOWED_ORIGINS || demoOrigins(host, [lb.port, ...nodes.map((n) => n.port)]),
    cookie: env.CLUSTER_COOKIE || DEMO_CLUSTER_COOKIE,
    sessionSecret: env.SESSION_SECRET || DEMO_SESSION_SECRET,
    sessionTtl: env.SESSION_TTL,
    renewAfter: env.SESSION_RENEW_AFTER,
    nodes,
    lb,
  };
}

/**
 * The origins a browser shows for the demo's pages: `http://host:port` for the
 * balancer and each node, and the same with localhost (and [::1]) when the
 * demo runs on a loopback or wildcard address, as a newcomer may type either.
 */
function demoOrigins(host, ports) {
  const local = host.startsWith('127.') || host === 'localhost' || host === '0.0.0.0' || host === '::' || host === '::1';
  const hosts = local ? [...new Set([host.startsWith('127.') ? host : '127.0.0.1', '127.0.0.1', 'localhost', '[::1]'])] : [host.includes(':') ? `[${host}]` : host];
  return hosts.flatMap((h) => ports.map((p) => `http://${h}:${p}`)).join(',');
}

/**
 * The environment of one node: its name and ports, its data directory, the
 * shared cookie, and the other nodes' cluster addresses as seeds.
 */
function nodeEnv(node, layout, base = process.env) {
  const env = {
    ...base,
    NODE_NAME: node.name,
    HOST: node.host,
    PORT: String(node.port),
    CLUSTER_PORT: String(node.clusterPort),
    CLUSTER_COOKIE: layout.cookie,
    CLUSTER_SEEDS: layout.nodes.filter((n) => n !== node).map((n) => `${n.host}:${n.clusterPort}`).join(','),
    CACHE_DIR: node.dir,
    SESSION_SECRET: layout.sessionSecret,
    DEMO_ALLOWED_ORIGINS: layout.allowedOrigins,
  };
  if (layout.sessionTtl) env.SESSION_TTL = layout.sessionTtl;
  if (layout.renewAfter) env.SESSION_RENEW_AFTER = layout.renewAfter;
  return env;
}

/**
 * Starts one node of the built demo as a child process, in its own process
 * group (so a Ctrl-C in the terminal reaches only the demo script, which then
 * stops the nodes one signal at a time).
 * @param {{ stdio?: import('node:child_process').StdioOptions, env?: NodeJS.ProcessEnv }} [options]
 */
function startNode(node, layout, options = {}) {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} does not exist: build the demo first (npm run build:demo)`);
  fs.mkdirSync(node.dir, { recursive: true });
  return spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: nodeEnv(node, layout, options.env),
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
}

/** Builds the demo (scripts/build-demo.js, in a child process). Throws if the build fails. */
function build({ stdio = 'inherit' } = {}) {
  // A source saved while the build runs must make it stale: the marker gets the start time.
  const started = new Date();
  const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-demo.js')], { cwd: ROOT, stdio, encoding: 'utf8' });
  if (result.status !== 0) {
    const output = typeof result.stdout === 'string' ? `\n${result.stdout}${result.stderr}` : '';
    throw new Error(`building the demo failed (exit ${result.status ?? result.signal})${output}`);
  }
  fs.writeFileSync(BUILT, `${started.toISOString()}\n`);
  fs.utimesSync(BUILT, started, started);
}

/** Whether a successful build of the demo is newer than every source file. */
function isBuildFresh() {
  if (!fs.existsSync(MAIN) || !fs.existsSync(BUILT)) return false;
  const built = fs.statSync(BUILT).mtimeMs;
  return SOURCES.every((dir) => newestMtime(dir) <= built);
}

/**
 * Builds the demo unless a fresh build is there. Processes that call this at
 * the same time (parallel test files) build once: the others wait for the lock
 * and then find the build fresh.
 */
function ensureBuilt(options) {
  if (isBuildFresh()) return;
  withBuildLock(() => {
    if (!isBuildFresh()) build(options);
  });
}

/** Runs `fn` holding dist/.demo-build.lock (a directory: mkdir is atomic). */
function withBuildLock(fn) {
  const lock = path.join(ROOT, 'dist', '.demo-build.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const stale = 5 * 60_000;
  const deadline = Date.now() + stale;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    try {
      // Left behind by a build that was killed.
      if (Date.now() - fs.statSync(lock).mtimeMs > stale) fs.rmSync(lock, { recursive: true, force: true });
    } catch {
      // removed meanwhile
    }
    if (Date.now() > deadline) throw new Error(`waited too long for ${lock} (another build of the demo?)`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function newestMtime(dir) {
  if (!fs.statSync(dir).isDirectory()) return fs.statSync(dir).mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(file) : fs.statSync(file).mtimeMs);
  }
  return newest;
}

/** Every port the demo listens on, with what it is for: each node's HTTP and cluster ports, the balancer's. */
function demoPorts(layout) {
  return [
    ...layout.nodes.flatMap((n) => [
      { port: n.port, what: `node ${n.id}'s HTTP port` },
      { port: n.clusterPort, what: `node ${n.id}'s cluster port` },
    ]),
    { port: layout.lb.port, what: "the load balancer's port" },
  ];
}

/**
 * The demo's ports that something listens on already (a demo started earlier,
 * another app), from `demoPorts`; empty when the demo can start. A node of the
 * demo's own would fail to listen there, and the process that holds the port
 * would answer in its place.
 */
async function busyPorts(layout) {
  const busy = [];
  for (const entry of demoPorts(layout)) if (!(await canListen(layout.host, entry.port))) busy.push(entry);
  return busy;
}

function canListen(host, port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function port(value, fallback, name) {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port number, got ${JSON.stringify(value)}`);
  return n;
}

module.exports = { ROOT, MAIN, demoLayout, nodeEnv, startNode, build, isBuildFresh, ensureBuilt, demoPorts, busyPorts };
