/** One thing that happened during a chaos run. */
export interface TimelineEntry {
  at: number;
  text: string;
  /** A fault the nemesis injected, or anything else worth knowing. */
  kind: 'fault' | 'note';
}

/**
 * What happened when, during a chaos run: faults, restarts, unexpected
 * exits, and which islands the network was cut into at each moment, so
 * the checker can say on which side of a partition an operation ran.
 */
export class Timeline {
  readonly t0 = Date.now();
  readonly entries: TimelineEntry[] = [];
  /** Island layouts over time: `groups` undefined means one network. */
  private readonly layouts: Array<{ at: number; groups: string[][] | undefined }> = [{ at: this.t0, groups: undefined }];

  constructor(private readonly print: (line: string) => void = () => undefined) {}

  /** Records (and prints) an event, stamped with the run's elapsed time. */
  note(text: string, kind: TimelineEntry['kind'] = 'note'): void {
    const entry = { at: Date.now(), text, kind };
    this.entries.push(entry);
    this.print(`${this.since(entry.at)} ${text}`);
  }

  /** The network was cut into these islands (node names), or made whole again (`undefined`). */
  layout(groups: string[][] | undefined): void {
    this.layouts.push({ at: Date.now(), groups });
  }

  /** The names `node` could reach at time `at` (undefined: the whole network). */
  islandOf(node: string, at: number): string[] | undefined {
    let groups: string[][] | undefined;
    for (const layout of this.layouts) if (layout.at <= at) groups = layout.groups;
    return groups?.find((group) => group.includes(node));
  }

  /** "+12.3 s": a time relative to the start of the run. */
  since(at: number): string {
    return `+${((at - this.t0) / 1000).toFixed(1)} s`;
  }

  /** "at +12.3 s on n2 [n1 n2 | n3 n4 n5]": where and when, and the island layout then. */
  where(node: string, at: number): string {
    const island = this.islandOf(node, at);
    return `on ${node} at ${this.since(at)}` + (island === undefined ? '' : ` (island ${island.map(short).join(' ')})`);
  }

  /** The most recent entries (of one kind, if given) before `at`, for context. */
  before(at: number, count: number, kind?: TimelineEntry['kind']): TimelineEntry[] {
    return this.entries.filter((e) => e.at <= at && (kind === undefined || e.kind === kind)).slice(-count);
  }
}

/** `n3@10.78.0.3` → `n3`. */
export function short(name: string): string {
  return name.split('@')[0];
}
