/**
 * Work over a whole table — a heal's key summaries, the first bucket digests —
 * takes most of a second at a million entries. Run in one go, it blocks the
 * event loop that long: no heartbeat goes out or comes in, and the peer takes
 * this node for dead (`deadPeerTimeout`, 1 s by default). Such work is written
 * as a generator that yields every `SLICE` items, and runs one slice per
 * event-loop turn (`inSlices`), or at once where nothing needs to wait
 * (`atOnce`, small inputs, specs).
 */

/** Items (states, keys) handled between two yields: a few ms of work. */
export const SLICE = 20_000;

/**
 * A slice bounded by time instead of a count, for work whose items vary in
 * cost or that must stay under a pause limit on a slow or busy machine too:
 * `over()` is true once `ms` have passed since the slice began (it looks at
 * the clock every 256 calls); `next()` begins the next slice.
 */
export class TimedSlice {
  private calls = 0;
  private began = performance.now();

  constructor(private readonly ms: number) {}

  over(): boolean {
    return ++this.calls % 256 === 0 && performance.now() - this.began >= this.ms;
  }

  next(): void {
    this.began = performance.now();
  }
}

/** Work that yields between slices and returns `T`. */
export type Sliced<T> = Generator<void, T, void>;

/** Runs `work` to its end now. */
export function atOnce<T>(work: Sliced<T>): T {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
  }
}

/** Runs `work` one slice per event-loop turn: timers and I/O (heartbeats) run between slices. */
export async function inSlices<T>(work: Sliced<T>): Promise<T> {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
    await nextTurn();
  }
}

/** Resolves from `setImmediate`: the I/O that is ready runs first, and due timers before the slice after. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
