import { quiet } from './testing/protocol-node';
import { PROBE_TICK, Reconnector } from './reconnector';

/** A reconnector whose dials all fail at once, on a fake clock; `dials` records each attempt. */
function failingReconnector() {
  let now = 1_000_000;
  const dials: Array<{ address: string; at: number; timeout: number | undefined }> = [];
  const linked = new Set<string>();
  const reconnector = new Reconnector(
    {
      address: '10.0.0.1:4000',
      linked: () => linked,
      dial: (address, timeout) => {
        dials.push({ address, at: now, timeout });
        return Promise.reject(new Error('unreachable'));
      },
    },
    2_000,
    quiet,
    () => now,
  );
  /** Lets `ms` pass, a tick at a time, with the failures handled in between. */
  async function pass(ms: number, each?: () => void) {
    for (let t = 0; t < ms; t += PROBE_TICK) {
      now += PROBE_TICK;
      (reconnector as unknown as { tick(): void }).tick();
      each?.();
      await Promise.resolve();
      await Promise.resolve();
    }
  }
  return { reconnector, dials, linked, pass };
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]);

describe('Reconnector', () => {
  it('probes an absent member at most a second apart, with a short connect timeout, however long it is gone', async () => {
    const { reconnector, dials, pass } = failingReconnector();
    reconnector.remember('b@10.0.0.2', '10.0.0.2:4000');
    await pass(600_000);
    const late = dials.filter((d) => d.at > 1_000_000 + 5_000);
    expect(late.length).toBeGreaterThan(590);
    expect(Math.max(...gaps(late.map((d) => d.at)))).toBeLessThanOrEqual(1_000);
    expect(new Set(late.map((d) => d.timeout))).toEqual(new Set([1_000]));
  });

  it('backs off up to 30 s for an address that never answered, and forgets it once nobody reports it', async () => {
    const { reconnector, dials, pass } = failingReconnector();
    await pass(300_000, () => reconnector.reach(['10.0.0.9:4000']));
    const times = dials.map((d) => d.at);
    expect(gaps(times).slice(0, 5)).toEqual([2_000, 4_000, 8_000, 16_000, 30_000]);
    expect(Math.max(...gaps(times))).toBe(30_000);
    expect(dials[0].timeout).toBeUndefined(); // the transport's own connect timeout
    await pass(120_000); // no longer reported: forgotten (a junk DNS answer costs nothing for ever)
    expect((reconnector as unknown as { attempts: Map<string, unknown> }).attempts.size).toBe(0);
  });

  it('tracks at most 1024 addresses however many junk addresses discovery reports', async () => {
    const { reconnector, pass } = failingReconnector();
    reconnector.remember('b@10.0.0.2', '10.0.0.2:4000');
    for (let round = 0; round < 40; round++) {
      reconnector.reach(Array.from({ length: 128 }, (_, i) => `10.9.${round}.${i}:4000`));
      await pass(250);
    }
    const attempts = (reconnector as unknown as { attempts: Map<string, unknown> }).attempts;
    expect(attempts.size).toBeLessThanOrEqual(1_024);
    expect(attempts.has('10.0.0.2:4000')).toBe(true); // the member stays
  });

  it('never dials itself or a linked address, nor a held one until the hold ends', async () => {
    const { reconnector, dials, linked, pass } = failingReconnector();
    linked.add('10.0.0.3:4000');
    reconnector.hold('10.0.0.4:4000', 10_000);
    reconnector.reach(['10.0.0.1:4000', '10.0.0.3:4000', '10.0.0.4:4000']);
    expect(dials).toEqual([]);
    await pass(10_250);
    reconnector.reach(['10.0.0.4:4000']);
    expect(dials.map((d) => d.address)).toEqual(['10.0.0.4:4000']);
  });

  it('stops probing a member that left for good', async () => {
    const { reconnector, dials, pass } = failingReconnector();
    reconnector.remember('b@10.0.0.2', '10.0.0.2:4000');
    await pass(2_000);
    reconnector.forget('b@10.0.0.2');
    const before = dials.length;
    await pass(10_000);
    expect(dials.length).toBe(before);
  });
});
