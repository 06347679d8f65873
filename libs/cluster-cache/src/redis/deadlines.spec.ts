import { Deadlines } from './deadlines';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Deadlines', () => {
  it('fails a call that gets no answer at its own deadline, counted from its start', async () => {
    const start = Date.now();
    const failedAt: number[] = [];
    const deadlines = new Deadlines(50, () => failedAt.push(Date.now() - start));
    deadlines.add(() => undefined);
    await sleep(20);
    deadlines.add(() => undefined);
    await sleep(80);
    expect(failedAt).toHaveLength(2);
    expect(failedAt[0]).toBeGreaterThanOrEqual(48);
    expect(failedAt[0]).toBeLessThan(200); // a busy machine delays timers
    expect(failedAt[1]).toBeGreaterThanOrEqual(68);
    expect(deadlines.pending).toBe(0);
  });

  it('does not fail an answered call, and says whether the answer came in time', async () => {
    const failed = jest.fn();
    const deadlines = new Deadlines(30, (reject) => reject(new Error('late')));
    const answered = deadlines.add(failed);
    const late = deadlines.add(failed);
    expect(deadlines.settle(answered)).toBe(true);
    expect(deadlines.pending).toBe(1);
    await sleep(50);
    expect(failed).toHaveBeenCalledTimes(1);
    expect(deadlines.settle(late)).toBe(false);
    expect(deadlines.settle(answered)).toBe(false);
  });

  it('lets answers come out of order', async () => {
    const failed = jest.fn();
    const deadlines = new Deadlines(30, (reject) => reject(new Error('late')));
    const calls = Array.from({ length: 5 }, () => deadlines.add(failed));
    for (const i of [3, 1, 4, 0]) deadlines.settle(calls[i]);
    expect(deadlines.pending).toBe(1);
    await sleep(50);
    expect(failed).toHaveBeenCalledTimes(1);
    expect(deadlines.settle(calls[2])).toBe(false);
  });

  it('keeps no settled call around under in-order answers', () => {
    const deadlines = new Deadlines(1_000, () => undefined);
    for (let i = 0; i < 10_000; i++) deadlines.settle(deadlines.add(() => undefined));
    expect((deadlines as unknown as { queue: unknown[] }).queue).toHaveLength(0);
    deadlines.failAll(new Error('closed'));
  });

  it('fails every pending call on failAll', () => {
    const deadlines = new Deadlines(1_000, () => undefined);
    const failed = jest.fn();
    const answered = deadlines.add(failed);
    deadlines.add(failed);
    deadlines.add(failed);
    deadlines.settle(answered);
    const closed = new Error('closed');
    deadlines.failAll(closed);
    expect(failed.mock.calls).toEqual([[closed], [closed]]);
  });
});
