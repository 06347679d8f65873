#!/usr/bin/env node
'use strict';
/**
 * `npm run demo`: builds the demo unless its build is newer than every source
 * file of the demo and the library, starts node a and node b (each with its own
 * data directory, seeded with the other) and a round-robin load balancer in
 * front of them. Ctrl-C stops everything.
 *
 * Before it starts anything, it checks that the demo's ports are free: a process
 * it did not start (a demo still running, another app) would answer in place of
 * a node, so it stops instead, naming the port.
 *
 *   node scripts/demo.js [--no-build] [--json]
 *
 *   --no-build  use the existing build (dist/apps/demo) even if it is stale
 *   --json      also print machine-readable lines: {"demo":"node","id":"a","pid":…} per
 *               node started, {"demo":"ready",…} once all answer, {"demo":"exit",…} when a node ends,
 *               {"demo":"ports-in-use","ports":[{"port":4000,"what":"node a's HTTP port"}]} when it cannot start
 *
 * Ports and directories can be moved with DEMO_BASE_PORT, DEMO_CLUSTER_BASE_PORT,
 * DEMO_LB_PORT, DEMO_DATA_DIR (see scripts/demo-nodes.js). The pids are also
 * written to <data dir>/demo-pids.json.
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const readline = require('node:readline');
const { busyPorts, ensureBuilt, isBuildFresh, demoLayout, startNode } = require('./demo-nodes');
const { createLoadBalancer } = require('./demo-lb');

const args = new Set(process.argv.slice(2));
const unknown = [...args].filter((a) => !['--no-build', '--json'].includes(a));
if (unknown.length > 0) {
  console.error(`unknown option ${unknown.join(' ')}; usage: node scripts/demo.js [--no-build] [--json]`);
  process.exit(2);
}
const json = args.has('--json');
/** How long stopping waits for a node to leave the cluster before killing it. */
const STOP_TIMEOUT = 10_000;

function emit(record) {
  if (json) process.stdout.write(JSON.stringify({ demo: record.demo, ...record }) + '\n');
}

function prefixed(stream, label, out) {
  readline.createInterface({ input: stream }).on('line', (line) => out.write(`[${label}] ${line}\n`));
}

/** Resolves when GET /health on the node answers at all (200 or 503), rejects if the child ends first. */
function answering(node, child) {
  return new Promise((resolve, reject) => {
    let done = false;
    child.once('exit', (code, signal) => {
      if (!done) reject(new Error(`node ${node.id} ended before it answered (exit ${code ?? signal}); see its log above`));
    });
    const poll = () => {
      if (done) return;
      const req = http.get({ host: node.host, port: node.port, path: '/health', agent: false }, (res) => {
        res.resume();
        done = true;
        resolve();
      });
      req.on('error', () => setTimeout(poll, 200));
      req.setTimeout(2000, () => req.destroy());
    };
    poll();
  });
}

/** A path relative to the working directory when it is below it, else absolute. */
function shortPath(file) {
  const relative = path.relative(process.cwd(), file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

function table(layout, pids) {
  const rows = [
    ['node', 'name', 'HTTP', 'cluster port', 'data dir', 'pid'],
    ...layout.nodes.map((n) => [n.id, n.name, `http://${n.host}:${n.port}/`, String(n.clusterPort), shortPath(n.dir), String(pids.get(n.id) ?? '-')]),
    ['lb', 'round-robin', `http://${layout.lb.host}:${layout.lb.port}/`, '-', '-', `${process.pid} (this script)`],
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

/** Pids a demo started earlier wrote to <data dir>/demo-pids.json, with whether each still runs. */
function earlierDemo(layout) {
  try {
    const pids = JSON.parse(fs.readFileSync(path.join(layout.dataDir, 'demo-pids.json'), 'utf8'));
    const all = [['script', pids.script], ...Object.entries(pids.nodes ?? {})].filter(([, pid]) => Number.isInteger(pid));
    return all.map(([id, pid]) => ({ id, pid, running: isRunning(pid) }));
  } catch {
    return [];
  }
}

function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Why the demo cannot start on these ports, and what to do, when some are taken. */
function portsTakenMessage(layout, busy) {
  const ports = busy.map((b) => `${b.port} (${b.what})`).join(', ');
  const running = earlierDemo(layout).filter((p) => p.running);
  const earlier =
    running.length > 0
      ? `A demo started earlier still runs: ${running.map((p) => `${p.id} pid ${p.pid}`).join(', ')} (from ${shortPath(path.join(layout.dataDir, 'demo-pids.json'))}); stop it with Ctrl-C in its terminal or kill ${running[0].pid}.`
      : 'Stop the process that listens there (e.g. `ss -ltnp` names it).';
  return (
    `${busy.length === 1 ? 'port' : 'ports'} ${ports} on ${layout.host} ${busy.length === 1 ? 'is' : 'are'} in use by a process this script did not start, ` +
    `which would answer in place of the demo's own.\n${earlier}\n` +
    'Or run this demo on other ports: DEMO_BASE_PORT=5000 DEMO_LB_PORT=8090 npm run demo'
  );
}

async function main() {
  const layout = demoLayout();
  const busy = await busyPorts(layout);
  if (busy.length > 0) {
    emit({ demo: 'ports-in-use', ports: busy });
    throw new Error(portsTakenMessage(layout, busy));
  }
  if (!args.has('--no-build')) {
    if (isBuildFresh()) {
      console.log('the demo build is up to date (dist/apps/demo is newer than every source file): not building');
    } else {
      console.log('building the demo (node scripts/build-demo.js) …');
      ensureBuilt();
    }
  }

  const children = new Map();
  let stopping = false;
  /** @type {import('node:http').Server | undefined} */
  let lb;

  const stop = async (reason) => {
    if (stopping) return;
    stopping = true;
    console.log(`\nstopping (${reason}): the nodes leave the cluster …`);
    lb?.close();
    lb?.closeAllConnections();
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    console.log('demo stopped');
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (stopping) {
        // A second Ctrl-C: do not wait any longer.
        for (const child of children.values()) child.kill('SIGKILL');
        process.exit(1);
      }
      void stop(signal);
    });
  }
  // Whatever happens to this script, its nodes do not outlive it.
  process.on('exit', () => {
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  lb = createLoadBalancer({
    backends: layout.nodes.map((n) => `${n.host}:${n.port}`),
    log: (line) => console.log(`[lb] ${line}`),
  });
  const server = lb;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(layout.lb.port, layout.lb.host, resolve);
  });
  emit({ demo: 'lb', pid: process.pid, port: layout.lb.port });

  for (const node of layout.nodes) {
    const child = startNode(node, layout);
    children.set(node.id, child);
    prefixed(child.stdout, node.id, process.stdout);
    prefixed(child.stderr, node.id, process.stderr);
    child.on('exit', (code, signal) => {
      if (!stopping) console.log(`[demo] node ${node.id} ended (${signal ?? `exit ${code}`}); the load balancer sends its requests to the other node`);
      emit({ demo: 'exit', id: node.id, pid: child.pid, code, signal });
    });
    emit({ demo: 'node', id: node.id, name: node.name, pid: child.pid, port: node.port, clusterPort: node.clusterPort, dir: node.dir });
  }
  fs.mkdirSync(layout.dataDir, { recursive: true });
  fs.writeFileSync(
    path.join(layout.dataDir, 'demo-pids.json'),
    JSON.stringify({ script: process.pid, nodes: Object.fromEntries([...children].map(([id, c]) => [id, c.pid])) }, null, 2) + '\n',
  );

  await Promise.all(layout.nodes.map((node) => answering(node, children.get(node.id))));
  console.log(`\nnest-cluster-cache demo: two nodes behind a round-robin load balancer\n\n${table(layout, new Map([...children].map(([id, c]) => [id, c.pid])))}\n`);
  console.log(`open http://${layout.lb.host}:${layout.lb.port}/ (or a node's own port), sign in as ada / analytical-engine`);
  console.log('Ctrl-C stops everything\n');
  emit({ demo: 'ready', lb: `http://${layout.lb.host}:${layout.lb.port}`, nodes: layout.nodes.map((n) => ({ id: n.id, name: n.name, url: `http://${n.host}:${n.port}` })) });
}

main().catch((error) => {
  console.error(`demo: ${error.message}`);
  process.exit(1);
});
