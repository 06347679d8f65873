import { SingleFlight } from './single-flight';

describe('SingleFlight', () => {
  it('shares one run between overlapping calls of a key, and starts afresh after it settles', async () => {
    const flight = new SingleFlight<number>();
    let runs = 0;
    let release!: (n: number) => void;
    const run = () => {
      runs++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const first = flight.run('k', run);
    const second = flight.run('k', run);
    expect(flight.current('k')).toBe(first);
    expect(second).toBe(first);
    release(7);
    expect(await second).toBe(7);
    expect(flight.current('k')).toBeUndefined();
    const third = flight.run('k', run);
    release(8);
    expect(await third).toBe(8);
    expect(runs).toBe(2);
  });

  it('forgets a failed run', async () => {
    const flight = new SingleFlight<number>();
    await expect(flight.run('k', () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(flight.current('k')).toBeUndefined();
  });
});
