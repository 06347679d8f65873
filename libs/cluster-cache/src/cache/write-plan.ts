import { pack } from 'msgpackr';
import type { PutOptions, WriteChanges } from '../contract/cache-store';
import { InvalidArgumentError } from '../errors/cluster-cache.error';
import { messages } from '../errors/messages';
import { CacheKey, KeyPattern, keyProblem, NormalKey, normalizeKey, PatternPart, patternParts, patternProblem } from '../store/key';
import { TRANSPORT_DEFAULTS } from '../transport/transport.constants';
import { frozenCopy, takeCopiedChars } from '../util/frozen-copy';

/**
 * The largest value a put accepts, encoded: every node must be able to send
 * it to the others in one frame (with its key and the message around it), and
 * every backend accepts the same values.
 * @publicApi
 */
export const MAX_VALUE_BYTES = TRANSPORT_DEFAULTS.maxFrameBytes - 64 * 1024;

/** A validated put: normalised key, frozen copy of the value, absolute expiry. */
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
  for (const [key, value, own] of changes.put ?? []) {
    puts.push(plannedPut(key, value, own === undefined ? (shared ??= expiryOf(options, context)) : expiryOf(own, context)));
  }
  const deletes = (changes.delete ?? []).map(checkedKey);
  if (puts.length === 0 && deletes.length === 0) throw new InvalidArgumentError(messages.emptyBatch('write'));
  return { puts, deletes };
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

function frozenValue(key: CacheKey, value: unknown): unknown {
  if (value === undefined) throw new InvalidArgumentError(messages.undefinedValue(key));
  let copy: unknown;
  takeCopiedChars();
  try {
    copy = frozenCopy(value);
  } catch (error) {
    throw new InvalidArgumentError(messages.unclonableValue(key, (error as Error).message));
  }
  // Only values with much text can be too large; those few are measured exactly.
  if (takeCopiedChars() > MAX_VALUE_BYTES / 4) {
    const bytes = pack(copy).length;
    if (bytes > MAX_VALUE_BYTES) throw new InvalidArgumentError(messages.valueTooLarge(key, bytes, MAX_VALUE_BYTES));
  }
  return copy;
}
