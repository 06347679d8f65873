'use strict';
/**
 * Loaded into the demo's processes by `load.bench.ts --prof=DIR`
 * (NODE_OPTIONS=--require …, BENCH_PROF_DIR=DIR). Each SIGWINCH toggles a V8
 * CPU profile of the main thread: the first starts it, the second stops it and
 * writes DIR/<node>-<n>.cpuprofile (n = 1, 2, …). So the bench profiles
 * exactly the window of one load phase, which `--cpu-prof` cannot: it writes
 * its profile only when the process exits normally, and a Nest node stopped by
 * SIGTERM re-raises the signal and ends without writing it. SIGWINCH because
 * its default action is to do nothing, and Nest's enableShutdownHooks() takes
 * SIGUSR2 (among others) as a request to shut down; Node keeps SIGUSR1 for the
 * inspector.
 */
const dir = process.env.BENCH_PROF_DIR;
if (dir) {
  const fs = require('node:fs');
  const path = require('node:path');
  const inspector = require('node:inspector');
  const label = (process.env.NODE_NAME || 'lb').replace(/[^A-Za-z0-9_.-]/g, '_');
  /** Sampling interval in µs (V8's default is 1000). */
  const interval = Number(process.env.BENCH_PROF_INTERVAL || 100);
  const session = new inspector.Session();
  session.connect();
  let running = false;
  let busy = false;
  let n = 0;
  const post = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  process.on('SIGWINCH', async () => {
    if (busy) return;
    busy = true;
    try {
      if (!running) {
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval });
        await post('Profiler.start');
        running = true;
      } else {
        const { profile } = await post('Profiler.stop');
        running = false;
        n += 1;
        const file = path.join(dir, `${label}-${n}.cpuprofile`);
        fs.writeFileSync(`${file}.tmp`, JSON.stringify(profile));
        fs.renameSync(`${file}.tmp`, file);
      }
    } catch (error) {
      process.stderr.write(`prof-preload: ${error && error.message}\n`);
    } finally {
      busy = false;
    }
  });
}
