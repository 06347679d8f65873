import { atOnce, TimedSlice } from './slices';

describe('TimedSlice', () => {
  it('with no time to spend, ends a slice every 256 items', () => {
    const slice = new TimedSlice(0);
    const ends: number[] = [];
    for (let i = 1; i <= 1024; i++) if (slice.over()) ends.push(i);
    expect(ends).toEqual([256, 512, 768, 1024]);
  });

  it('does not end a slice before its time is spent', () => {
    const slice = new TimedSlice(60_000);
    let over = 0;
    for (let i = 0; i < 100_000; i++) if (slice.over()) over++;
    expect(over).toBe(0);
  });

  it('drives generator work in slices that atOnce runs to its end', () => {
    function* work(n: number) {
      const slice = new TimedSlice(0);
      let yields = 0;
      for (let i = 0; i < n; i++) {
        if (slice.over()) {
          yields++;
          yield;
          slice.next();
        }
      }
      return yields;
    }
    expect(atOnce(work(1000))).toBe(3);
  });
});
