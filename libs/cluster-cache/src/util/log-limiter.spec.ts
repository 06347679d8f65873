import { LogLimiter } from './log-limiter';

describe('LogLimiter', () => {
  it('allows `lines` lines per key and window, then says how many it held back', () => {
    let now = 0;
    const limiter = new LogLimiter({ lines: 2, window: 1000 }, () => now);
    expect(limiter.take('a', 'one')).toBe('one');
    expect(limiter.take('a', 'two')).toBe('two');
    expect(limiter.take('a', 'three')).toBeUndefined();
    expect(limiter.take('a', 'four')).toBeUndefined();
    // Another key has a budget of its own.
    expect(limiter.take('b', 'other')).toBe('other');
    now = 999;
    expect(limiter.take('a', 'five')).toBeUndefined();
    now = 1000;
    expect(limiter.take('a', 'six')).toBe('six (3 similar line(s) not logged before this one)');
    expect(limiter.take('a', 'seven')).toBe('seven');
    expect(limiter.take('a', 'eight')).toBeUndefined();
  });

  it('remembers at most `keys` keys, forgetting the oldest', () => {
    let now = 0;
    const limiter = new LogLimiter({ lines: 1, window: 60_000, keys: 3 }, () => now);
    for (let i = 0; i < 1000; i++) limiter.take(`key ${i}`, 'line');
    expect(limiter.size).toBe(3);
    // A forgotten key starts afresh.
    expect(limiter.take('key 0', 'again')).toBe('again');
    now = 1;
    expect(limiter.take('key 999', 'again')).toBeUndefined();
  });
});
