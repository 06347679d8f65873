/**
 * Polls `condition` until it returns a truthy value (or a promise of one) and
 * resolves with it; rejects after `timeout` ms with `message`. Tests poll
 * instead of sleeping for fixed times.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, timeout = 10_000, message = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${message}` + (last ? `: ${String(last)}` : ''));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
