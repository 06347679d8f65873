import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { isBuildFresh, ROOT } from '../../scripts/demo-nodes';
import { buildDemoOnce, DemoRun, testEnv } from './demo-harness';

/**
 * `node scripts/demo.js <args>` to its end (or `timeout`), or until its output
 * holds `until` (then SIGTERM, as Ctrl-C): its output and exit code.
 */
function runDemoScript(env: NodeJS.ProcessEnv, args: string[], until?: string, timeout = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'demo.js'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (until === undefined || stopped || !stdout.includes(until)) return;
      stopped = true; // once: a second signal makes the script give up waiting for its nodes
      child.kill('SIGTERM');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`demo.js did not end within ${timeout} ms:\n${stdout}${stderr}`));
    }, timeout);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Listens on `port` of 127.0.0.1 like a process the demo did not start. */
async function squat(port: number): Promise<net.Server> {
  const server = net.createServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

/** `npm run demo` before it starts anything: the build, and the ports (issue 16). */
describe('the demo script', () => {
  beforeAll(() => buildDemoOnce(), 300_000);

  it('does not build again when the build is newer than every source file', async () => {
    expect(isBuildFresh()).toBe(true);
    const env = await testEnv();
    try {
      const run = await runDemoScript(env, ['--json'], '{"demo":"ready"');
      expect(run.stdout).toContain('the demo build is up to date (dist/apps/demo is newer than every source file): not building');
      expect(run.stdout).not.toContain('building the demo');
      expect(run.stdout).toContain('demo stopped');
      expect(run.code).toBe(0);
    } finally {
      fs.rmSync(env.DEMO_DATA_DIR, { recursive: true, force: true });
    }
  });

  it.each([
    ["node a's HTTP port", (env: NodeJS.ProcessEnv) => Number(env.DEMO_BASE_PORT), "node a's HTTP port"],
    ["node b's cluster port", (env: NodeJS.ProcessEnv) => Number(env.DEMO_CLUSTER_BASE_PORT) + 2, "node b's cluster port"],
    ["the balancer's port", (env: NodeJS.ProcessEnv) => Number(env.DEMO_LB_PORT), "the load balancer's port"],
  ])('stops with a message naming %s taken by a process it did not start, and starts nothing', async (_, portOf, what) => {
    const env = await testEnv();
    const port = portOf(env);
    const squatter = await squat(port);
    try {
      const run = await runDemoScript(env, ['--no-build', '--json']);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`demo: port ${port} (${what}) on 127.0.0.1 is in use by a process this script did not start, which would answer in place of the demo's own.`);
      expect(run.stderr).toContain('Or run this demo on other ports: DEMO_BASE_PORT=5000 DEMO_LB_PORT=8090 npm run demo');
      const records = run.stdout.split('\n').filter((line) => line.startsWith('{"demo":')).map((line) => JSON.parse(line));
      expect(records).toEqual([{ demo: 'ports-in-use', ports: [{ port, what }] }]);
      expect(run.stdout).not.toContain('nest-cluster-cache demo: two nodes');
    } finally {
      squatter.close();
      fs.rmSync(env.DEMO_DATA_DIR, { recursive: true, force: true });
    }
  });

  it('names a demo that still runs on the same ports (from demo-pids.json)', async () => {
    const env = await testEnv();
    const first = new DemoRun(env);
    try {
      await first.ready();
      const second = await runDemoScript(env, ['--no-build']);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/demo: ports \d+ \(node a's HTTP port\), \d+ \(node a's cluster port\), \d+ \(node b's HTTP port\), \d+ \(node b's cluster port\), \d+ \(the load balancer's port\) on 127\.0\.0\.1 are in use/);
      expect(second.stderr).toMatch(new RegExp(`A demo started earlier still runs: script pid \\d+, a pid ${first.pidOf('a')}, b pid ${first.pidOf('b')} \\(from .*demo-pids\\.json\\); stop it with Ctrl-C in its terminal or kill \\d+\\.`));
      // The first demo is untouched.
      expect(first.records.filter((r) => r.demo === 'exit')).toEqual([]);
    } finally {
      await first.stop();
      first.killAll();
      first.removeData();
    }
  });
});
