/** CPU pinning for the HTTP benches (on 2 vCPUs, where a process lands changes a window's throughput by tens of %). */
import { execFileSync } from 'node:child_process';

/** `taskset -a -p -c CPUS PID`: every thread of the process to those vCPUs. */
export function pin(pid: number, cpuList: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
}
