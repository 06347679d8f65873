import type { PutOptions, WriteChanges } from '../contract/cache-store';
import { InvalidArgumentError } from '../errors/cluster-cache.error';
import { messages } from '../errors/messages';
import { CacheKey, KeyPattern, keyProblem, NormalKey, normalizeKey, PatternPart, patternParts, patternProblem } from '../store/key';
import { holdEncoding, releaseEncoding } from '../values/held-encodings';
import { encodeValue } from '../values/value-codec';
import { copyValue, upperSizeBound, ValueError, ValueTooLargeError } from '../values/value-copy';
import { MAX_VALUE_BYTES } from '../values/value-limits';

export { MAX_VALUE_BYTES };

/**
 * A validated put: normalised key, the value as the store holds it (see
 * values/value-copy.ts), absolute expiry. A large value's encoding is held
 * until {@link releasePlanned} (see values/held-encodings.ts).
 */
export interface PlannedPut {
  readonly key: NormalKey;
  readonly value: unknown;
  readonly expiresAt: number;
}

/** A validated `write`, ready for either backend to apply atomically. */
export interface WritePlan {
  readonly puts: PlannedPut[];
  readonly deletes: NormalKey[];
}

/** What a namespace view knows when it plans a write. */
export interface WriteContext {
  readonly namespace: string;
  /** The namespace's default TTL in ms. */
  readonly ttl: number | undefined;
  /** "Now" in ms since the epoch. */
  readonly now: number;
}

/**
 * Checks every key, value and expiry of a write, so that a write with one bad
 * element writes nothing. Both backends apply the plan as one atomic write.
 * @throws InvalidArgumentError naming the bad element.
 */
export function planWrite(changes: WriteChanges<unknown>, options: PutOptions | undefined, context: WriteContext): WritePlan {
  const puts: PlannedPut[] = [];
  let shared: number | undefined;
  try {
    for (const [key, value, own] of changes.put ?? []) {
      puts.push(plannedPut(key, value, own === undefined ? (shared ??= expiryOf(options, context)) : expiryOf(own, context)));
    }
    const deletes = (changes.delete ?? []).map(checkedKey);
    if (puts.length === 0 && deletes.length === 0) throw new InvalidArgumentError(messages.emptyBatch('write'));
    return { puts, deletes };
  } catch (error) {
    releasePlanned(puts);
    throw error;
  }
}

/**
 * One put of a write, checked: what `put` needs without building a whole plan.
 * @param expiresAt from `expiryOf`.
 * @throws InvalidArgumentError naming the bad key or value.
 */
export function plannedPut(key: CacheKey, value: unknown, expiresAt: number): PlannedPut {
  return { key: checkedKey(key), value: frozenValue(key, value), expiresAt };
}

/**
 * A key, normalised (`['a']` is `'a'`).
 * @throws InvalidArgumentError saying what is wrong with it.
 */
export function checkedKey(key: CacheKey): NormalKey {
  const problem = keyProblem(key);
  if (problem !== undefined) throw new InvalidArgumentError(messages.badKey(problem, key));
  return normalizeKey(key);
}

/**
 * A pattern's elements.
 * @throws InvalidArgumentError saying what is wrong with it.
 */
export function checkedPattern(pattern: KeyPattern): readonly PatternPart[] {
  const problem = patternProblem(pattern);
  if (problem !== undefined) throw new InvalidArgumentError(messages.badPattern(problem, pattern));
  return patternParts(pattern);
}

/**
 * A TTL, or the namespace's default.
 * @throws InvalidArgumentError when there is none or it is not a positive number.
 */
export function checkedTtl(ttl: number | undefined, namespace: string, fallback: number | undefined): number {
  const resolved = ttl ?? fallback;
  if (resolved === undefined) throw new InvalidArgumentError(messages.noTtl(namespace));
  if (typeof resolved !== 'number' || !(resolved > 0) || !Number.isFinite(resolved)) {
    throw new InvalidArgumentError(messages.badTtl(resolved));
  }
  return resolved;
}

/**
 * When a put with these options expires (ms since the epoch).
 * @throws InvalidArgumentError when there is no TTL or the expiry is not in the future.
 */
export function expiryOf(options: PutOptions | undefined, context: WriteContext): number {
  const expiresAt = options?.expiresAt ?? context.now + checkedTtl(options?.ttl, context.namespace, context.ttl);
  if (!(expiresAt > context.now) || !Number.isFinite(expiresAt)) throw new InvalidArgumentError(messages.badExpiresAt(expiresAt));
  return expiresAt;
}

/**
 * Releases the encodings the puts of a plan hold (see values/held-encodings.ts):
 * call it once the write was handed to the engine (or Redis).
 */
export function releasePlanned(puts: readonly PlannedPut[]): void {
  for (const put of puts) releaseEncoding(put.value);
}

/**
 * The value a put stores: checked against the value model and copied (see
 * values/value-copy.ts), and its encoded size checked against
 * MAX_VALUE_BYTES. The copy counts what bounds the encoding; only a value
 * whose bound exceeds the limit is encoded to measure it exactly, and that
 * encoding is held for the disk copy and the replication (or Redis) to reuse.
 * @throws InvalidArgumentError naming the key.
 */
function frozenValue(key: CacheKey, value: unknown): unknown {
  if (value === undefined) throw new InvalidArgumentError(messages.undefinedValue(key));
  let copy: unknown;
  try {
    copy = copyValue(value, MAX_VALUE_BYTES);
  } catch (error) {
    if (error instanceof ValueTooLargeError) throw new InvalidArgumentError(messages.valueTooLarge(key, error.bytes, MAX_VALUE_BYTES, true));
    if (error instanceof ValueError) throw new InvalidArgumentError(messages.unclonableValue(key, error.message));
    throw error;
  }
  if (upperSizeBound() > MAX_VALUE_BYTES) {
    const bytes = encodeValue(copy);
    if (bytes.length > MAX_VALUE_BYTES) throw new InvalidArgumentError(messages.valueTooLarge(key, bytes.length, MAX_VALUE_BYTES));
    if (typeof copy === 'object' && copy !== null) holdEncoding(copy, bytes);
  }
  return copy;
}
