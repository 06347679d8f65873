import { ManualClock, systemClock } from './clock';

describe('clocks', () => {
  it('systemClock reads the wall clock once per event-loop turn', async () => {
    const first = systemClock.now();
    expect(Math.abs(first - Date.now())).toBeLessThan(1000);
    expect(systemClock.now()).toBe(first);
    const later = Date.now() + 5;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(systemClock.now()).toBeGreaterThanOrEqual(later);
  });

  it('ManualClock moves only when told', () => {
    const clock = new ManualClock(1000);
    clock.advance(500);
    expect(clock.now()).toBe(1500);
    clock.set(42);
    expect(clock.now()).toBe(42);
  });
});
