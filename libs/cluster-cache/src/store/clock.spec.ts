import { ManualClock, systemClock } from './clock';

describe('clocks', () => {
  it('systemClock reads the wall clock once per callback', async () => {
    const first = systemClock.now();
    expect(Math.abs(first - Date.now())).toBeLessThan(1000);
    expect(systemClock.now()).toBe(first);
    const later = Date.now() + 5;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(systemClock.now()).toBeGreaterThanOrEqual(later);
  });

  it('systemClock reads afresh in the next callback, without a timer turn in between', async () => {
    const read = systemClock.now();
    // Spin past the next millisecond inside this callback: the reading stays.
    while (Date.now() <= read) continue;
    expect(systemClock.now()).toBe(read);
    // A nextTick callback queued now runs after the clock's: it sees a new reading.
    const next = await new Promise<number>((resolve) => process.nextTick(() => resolve(systemClock.now())));
    expect(next).toBeGreaterThan(read);
  });

  it('ManualClock moves only when told', () => {
    const clock = new ManualClock(1000);
    clock.advance(500);
    expect(clock.now()).toBe(1500);
    clock.set(42);
    expect(clock.now()).toBe(42);
  });
});
