/** The V8 CPU profile format (`node --cpu-prof`, inspector Profiler.stop), shared by the profile summaries. */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Which module a profiled function's URL belongs to: a library file, a bench file, a package, Node internals. */
export function moduleOf(url: string): string {
  if (url === '') return '';
  const lib = url.match(/libs\/cluster-cache\/src\/(.+)$/);
  if (lib) return `lib/${lib[1]}`;
  const bench = url.match(/bench\/(.+)$/);
  if (bench) return `bench/${bench[1]}`;
  const mod = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (mod) return mod[1];
  if (url.startsWith('node:')) return 'node internals';
  return url.split('/').slice(-2).join('/');
}
