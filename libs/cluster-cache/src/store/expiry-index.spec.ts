import { ExpiryIndex, type Listed } from './expiry-index';

describe('ExpiryIndex', () => {
  /** `n` references listed in the second that starts at `second` s. */
  function listed(index: ExpiryIndex, second: number, n: number, from = 0): void {
    for (let i = 0; i < n; i++) index.addRef(from + i, second * 1000 + (i % 1000));
  }

  it('filters only the seconds a quarter stale, checking each of their listings once, and keeps what is current', () => {
    const index = new ExpiryIndex();
    listed(index, 10, 400);
    listed(index, 20, 400, 1000);
    for (let i = 0; i < 100; i++) index.unlist(10_000); // a quarter of second 10
    for (let i = 0; i < 99; i++) index.unlist(20_000); // not quite a quarter of second 20
    const checked: Listed[] = [];
    index.tidy((ref) => {
      checked.push(ref);
      return (ref as number) >= 100; // the first 100 of second 10 are stale
    });
    expect(checked).toHaveLength(400);
    expect(checked.every((ref) => (ref as number) < 1000)).toBe(true);
    expect(index.size).toBe(700);
    // Tidied: nothing more to do until it goes stale again.
    index.tidy(() => {
      throw new Error('nothing is crowded');
    });
    const drained: Listed[] = [];
    index.drain(30_000, (ref) => drained.push(ref));
    expect(drained).toHaveLength(700);
    expect(index.size).toBe(0);
  });

  it('forgets a crowded second that was drained before a tidy', () => {
    const index = new ExpiryIndex();
    listed(index, 10, 100);
    for (let i = 0; i < 40; i++) index.unlist(10_500);
    index.drain(11_000, () => undefined);
    index.tidy(() => {
      throw new Error('the second was drained');
    });
    expect(index.size).toBe(0);
  });
});
