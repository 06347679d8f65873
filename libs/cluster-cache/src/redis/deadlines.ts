import { performance } from 'node:perf_hooks';

/** One call under a deadline: settled once, by its answer or by the deadline. */
export class Deadline {
  settled = false;

  constructor(
    /** `performance.now()` at which the call fails. */
    readonly at: number,
    /** Rejects the call's promise. */
    readonly reject: (error: Error) => void,
  ) {}
}

/**
 * Per-call deadlines, all of the same length, with one timer for all of them.
 *
 * A call's deadline runs from the moment it is made, whatever the client does
 * with it (queues it behind an auto-pipeline still waiting for a hung server,
 * retries it on a Cluster): the call fails at its deadline even if the
 * command is still on its way. Deadlines come in the order of the calls, so a
 * FIFO holds them; an answered call leaves the FIFO as soon as the calls
 * before it have, which with one connection answering in order is at once.
 * Per call this costs one small object: no timer of its own.
 */
export class Deadlines {
  private queue: Deadline[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** How long a call may take, in ms. */
    readonly timeout: number,
    /** Fails a call whose deadline passed: given the call's `reject`. */
    private readonly expired: (reject: (error: Error) => void) => void,
  ) {}

  /** Starts the deadline of a call; `expired(reject)` runs if it is not settled by then. */
  add(reject: (error: Error) => void): Deadline {
    const deadline = new Deadline(performance.now() + this.timeout, reject);
    this.queue.push(deadline);
    if (this.timer === undefined) this.arm(this.timeout);
    return deadline;
  }

  /** Marks a call answered; false if its deadline had passed already (it failed). */
  settle(deadline: Deadline): boolean {
    if (deadline.settled) return false;
    deadline.settled = true;
    if (this.queue[this.head] === deadline) this.dropSettled();
    return true;
  }

  /** Calls whose deadline is still running. */
  get pending(): number {
    let n = 0;
    for (let i = this.head; i < this.queue.length; i++) if (!this.queue[i].settled) n++;
    return n;
  }

  /** Fails every pending call now, with `error` (on close). */
  failAll(error: Error): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const queue = this.queue;
    const from = this.head;
    this.queue = [];
    this.head = 0;
    for (let i = from; i < queue.length; i++) {
      const deadline = queue[i];
      if (deadline.settled) continue;
      deadline.settled = true;
      deadline.reject(error);
    }
  }

  private dropSettled(): void {
    const queue = this.queue;
    let head = this.head;
    while (head < queue.length && queue[head].settled) head++;
    if (head === queue.length) {
      // Empty: reuse the array (the common case under in-order answers).
      queue.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      this.queue = queue.slice(head);
      head = 0;
    }
    this.head = head;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.expire(), Math.max(1, Math.ceil(ms)));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    const expired: Deadline[] = [];
    const queue = this.queue;
    while (this.head < queue.length) {
      const deadline = queue[this.head];
      if (!deadline.settled) {
        if (deadline.at > now) break;
        deadline.settled = true;
        expired.push(deadline);
      }
      this.head++;
    }
    this.dropSettled();
    if (this.head < this.queue.length) this.arm(this.queue[this.head].at - now);
    for (const deadline of expired) this.expired(deadline.reject);
  }
}
