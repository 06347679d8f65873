import { Deadlines } from './deadlines';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Deadlines', () => {
  it('fails a call that gets no answer at its own deadline, counted from its start', async () => {
    const deadlines = new Deadlines(50);
    const failedAt: number[] = [];
    const start = Date.now();
    deadlines.add(() => failedAt.push(Date.now() - start));
    await sleep(20);
    deadlines.add(() => failedAt.push(Date.now() - start));
    await sleep(80);
    expect(failedAt).toHaveLength(2);
    expect(failedAt[0]).toBeGreaterThanOrEqual(48);
    expect(failedAt[0]).toBeLessThan(200); // a busy machine delays timers
    expect(failedAt[1]).toBeGreaterThanOrEqual(68);
    expect(deadlines.pending).toBe(0);
  });

  it('does not fail an answered call, and says whether the answer came in time', async () => {
    const deadlines = new Deadlines(30);
    const failed = jest.fn();
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
    const deadlines = new Deadlines(30);
    const failed = jest.fn();
    const calls = Array.from({ length: 5 }, () => deadlines.add(failed));
    for (const i of [3, 1, 4, 0]) deadlines.settle(calls[i]);
    expect(deadlines.pending).toBe(1);
    await sleep(50);
    expect(failed).toHaveBeenCalledTimes(1);
    expect(deadlines.settle(calls[2])).toBe(false);
  });

  it('keeps no settled call around under in-order answers', () => {
    const deadlines = new Deadlines(1_000);
    for (let i = 0; i < 10_000; i++) deadlines.settle(deadlines.add(() => undefined));
    expect((deadlines as unknown as { queue: unknown[] }).queue).toHaveLength(0);
    deadlines.failAll();
  });

  it('fails every pending call on failAll', () => {
    const deadlines = new Deadlines(1_000);
    const failed = jest.fn();
    const answered = deadlines.add(failed);
    deadlines.add(failed);
    deadlines.add(failed);
    deadlines.settle(answered);
    deadlines.failAll();
    expect(failed).toHaveBeenCalledTimes(2);
  });
});
