import { InvalidArgumentError } from '../errors/cluster-cache.error';
import { messages } from '../errors/messages';
import type { UserId } from './session.interface';

/**
 * A user id sessions can be filed under: a string or a finite number.
 * @throws InvalidArgumentError for anything else.
 */
export function checkedUserId(userId: UserId): UserId {
  if (typeof userId === 'string' || (typeof userId === 'number' && Number.isFinite(userId))) return userId;
  throw new InvalidArgumentError(messages.badUserId(userId));
}
