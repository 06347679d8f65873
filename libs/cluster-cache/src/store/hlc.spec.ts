import { ManualClock } from './clock';
import { HybridLogicalClock, versionAt, versionTime } from './hlc';

describe('HybridLogicalClock', () => {
  it('makes strictly increasing versions within one millisecond', () => {
    const hlc = new HybridLogicalClock(new ManualClock());
    const a = hlc.next();
    const b = hlc.next();
    const c = hlc.next();
    expect(a).toBeLessThan(b);
    expect(b).toBeLessThan(c);
  });

  it('keeps versions increasing when the wall clock moves backwards', () => {
    const clock = new ManualClock();
    const hlc = new HybridLogicalClock(clock);
    const before = hlc.next();
    clock.advance(-60_000);
    const after = hlc.next();
    expect(after).toBeGreaterThan(before);
    clock.advance(120_000);
    expect(hlc.next()).toBeGreaterThan(after);
  });

  it('orders later local versions after an observed remote version', () => {
    const clock = new ManualClock();
    const hlc = new HybridLogicalClock(clock);
    const remote = versionAt(clock.now() + 5_000);
    hlc.observe(remote);
    expect(hlc.next()).toBeGreaterThan(remote);
  });

  it('follows the wall clock and can tell the time a version was made', () => {
    const clock = new ManualClock(Date.UTC(2030, 5, 1));
    const hlc = new HybridLogicalClock(clock);
    expect(versionTime(hlc.next())).toBe(Date.UTC(2030, 5, 1));
    expect(Number.isSafeInteger(versionAt(Date.UTC(2090, 0, 1)) + 4095)).toBe(true);
  });
});
