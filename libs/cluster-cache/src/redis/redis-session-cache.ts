import { SessionStore } from '../contract/session-store';
import { InvalidArgumentError } from '../errors/cluster-cache.error';
import { messages } from '../errors/messages';
import { checkedTtl } from '../cache/write-plan';
import type { Clock } from '../store/clock';
import type { IssuedSession, RotationResult, Session, SessionOptions, UserId } from '../sessions/session.interface';
import { handleOf, newToken, RANDOM_TOKEN_LENGTH } from '../sessions/session-token';
import { checkedUserId } from '../sessions/user-id';
import { frozenCopy } from '../util/frozen-copy';
import { SingleFlight } from '../util/single-flight';
import type { RedisConnection, ScriptCall } from './redis-connection';
import { SESSION_TAG_LENGTH, SessionKeys } from './redis-keys';
import { packValue, unpackValue } from './redis-values';
import * as lua from './session-scripts';

/** Separates the user id from the rest of a stored session (JSON never contains a raw NUL). */
const NUL = Buffer.from([0]);

/** The session scripts of a connection. */
interface SessionScripts {
  create: ScriptCall;
  read: ScriptCall;
  touch: ScriptCall;
  delete: ScriptCall;
  revoke: ScriptCall;
  list: ScriptCall;
  revokeAll: ScriptCall;
  rotate: ScriptCall;
}

/**
 * The Redis backend's `SessionStore` (Pow's `CredentialsCache` on Redis).
 *
 * Each call is one atomic Lua script. A user's sessions and their index
 * share one Redis Cluster slot, picked by a 24-bit hash of the user id that
 * is also the first 4 characters of each token (and of its handle): the
 * token finds its slot with no lookup, and users spread over the cluster.
 * Tokens keep 232 random bits; Redis stores only their SHA-256.
 * @publicApi
 */
export class RedisSessionCache<M = Record<string, unknown>> extends SessionStore<M> {
  private readonly rotations = new SingleFlight<RotationResult<M> | undefined>();
  private readonly scripts: SessionScripts;

  /** @internal Made by the module; inject `SessionStore`. */
  constructor(
    connection: RedisConnection,
    private readonly keys: SessionKeys,
    private readonly clock: Clock,
    /** Default session TTL in ms. */
    readonly ttl: number,
    /** How long a rotated token still resolves to its session, in ms. */
    readonly rotationGrace = 10_000,
  ) {
    super();
    const script = (name: string, source: string) => connection.script(`nccSession${name}`, source, true);
    this.scripts = {
      create: script('Create', lua.CREATE),
      read: script('Read', lua.READ),
      touch: script('Touch', lua.TOUCH),
      delete: script('Delete', lua.DELETE),
      revoke: script('Revoke', lua.REVOKE),
      list: script('List', lua.LIST),
      revokeAll: script('RevokeAll', lua.REVOKE_ALL),
      rotate: script('Rotate', lua.ROTATE),
    };
  }

  async create(userId: UserId, metadata: M = {} as M, options: SessionOptions = {}): Promise<IssuedSession<M>> {
    const user = userJson(userId);
    const tag = SessionKeys.tagOf(user);
    const token = tag + newToken().slice(SESSION_TAG_LENGTH);
    const handle = redisHandleOf(token);
    const createdAt = this.clock.now();
    const expiresAt = createdAt + checkedTtl(options.ttl, 'sessions', this.ttl);
    const frozen = frozenMetadata(metadata);
    await this.scripts.create([this.keys.session(tag, handle), this.keys.user(tag, user)], [this.keys.base(tag), handle, record(user, frozen, createdAt), expiresAt]);
    return { token, session: { handle, userId, metadata: frozen, createdAt, expiresAt } };
  }

  async get(token: string): Promise<Session<M> | undefined> {
    if (!isToken(token)) return undefined;
    return this.read(token.slice(0, SESSION_TAG_LENGTH), redisHandleOf(token), true);
  }

  async byHandle(handle: string): Promise<Session<M> | undefined> {
    if (typeof handle !== 'string' || handle.length <= SESSION_TAG_LENGTH) return undefined;
    return this.read(handle.slice(0, SESSION_TAG_LENGTH), handle, false);
  }

  async touch(token: string, options: SessionOptions = {}): Promise<Session<M> | undefined> {
    if (!isToken(token)) return undefined;
    const tag = token.slice(0, SESSION_TAG_LENGTH);
    const handle = redisHandleOf(token);
    const expiresAt = this.clock.now() + checkedTtl(options.ttl, 'sessions', this.ttl);
    const reply = (await this.scripts.touch([this.keys.session(tag, handle)], [this.keys.base(tag), handle, expiresAt])) as [Buffer, Buffer] | null;
    return reply === null ? undefined : session<M>(reply[0].toString(), reply[1], expiresAt);
  }

  async delete(token: string): Promise<boolean> {
    if (!isToken(token)) return false;
    const tag = token.slice(0, SESSION_TAG_LENGTH);
    const handle = redisHandleOf(token);
    return (await this.scripts.delete([this.keys.session(tag, handle)], [this.keys.base(tag), handle])) === 1;
  }

  async revoke(userId: UserId, handle: string): Promise<void> {
    const user = userJson(userId);
    const tag = SessionKeys.tagOf(user);
    // A handle of another user's tag cannot be this user's session.
    if (typeof handle !== 'string' || !handle.startsWith(tag)) return;
    await this.scripts.revoke([this.keys.session(tag, handle), this.keys.user(tag, user)], [this.keys.base(tag), handle, user]);
  }

  async list(userId: UserId): Promise<Session<M>[]> {
    const user = userJson(userId);
    const tag = SessionKeys.tagOf(user);
    const reply = (await this.scripts.list([this.keys.user(tag, user)], [this.keys.base(tag)])) as Array<Buffer | number>;
    const sessions: Session<M>[] = [];
    for (let i = 0; i < reply.length; i += 3) sessions.push(session<M>(reply[i].toString(), reply[i + 1] as Buffer, reply[i + 2] as number));
    return sessions.sort((a, b) => a.createdAt - b.createdAt);
  }

  async revokeAll(userId: UserId): Promise<number> {
    const user = userJson(userId);
    const tag = SessionKeys.tagOf(user);
    return (await this.scripts.revokeAll([this.keys.user(tag, user)], [this.keys.base(tag)])) as number;
  }

  /**
   * Replaces a session's token in one atomic script; the old token points at
   * the new session for `rotationGrace` ms. The script only moves a session
   * that has not moved yet, so across the cluster exactly one rotation wins;
   * the others get the current session with `rotated: false`.
   */
  rotate(token: string, options: SessionOptions = {}): Promise<RotationResult<M> | undefined> {
    if (!isToken(token)) return Promise.resolve(undefined);
    return this.rotations.run(redisHandleOf(token), () => this.rotateOnce(token, options));
  }

  isOlderThan(session: Session<M>, age: number): boolean {
    return session.createdAt + age <= this.clock.now();
  }

  private async read(tag: string, handle: string, follow: boolean): Promise<Session<M> | undefined> {
    const reply = (await this.scripts.read([this.keys.session(tag, handle)], [this.keys.base(tag), handle, follow ? '1' : '0'])) as [Buffer, Buffer, number] | null;
    return reply === null ? undefined : session<M>(reply[0].toString(), reply[1], reply[2]);
  }

  private async rotateOnce(token: string, options: SessionOptions): Promise<RotationResult<M> | undefined> {
    const old = await this.get(token);
    if (old === undefined) return undefined;
    const tag = token.slice(0, SESSION_TAG_LENGTH);
    const oldHandle = redisHandleOf(token);
    // Rotated already (the token is in its grace period): the new session, without a new token.
    if (old.handle !== oldHandle) return { token, session: old, rotated: false };
    const user = userJson(old.userId);
    const next = tag + newToken().slice(SESSION_TAG_LENGTH);
    const handle = redisHandleOf(next);
    const createdAt = this.clock.now();
    const expiresAt = createdAt + checkedTtl(options.ttl, 'sessions', this.ttl);
    const outcome = await this.scripts.rotate(
      [this.keys.session(tag, oldHandle), this.keys.session(tag, handle), this.keys.user(tag, user)],
      [this.keys.base(tag), oldHandle, handle, record(user, old.metadata, createdAt), expiresAt, this.rotationGrace],
    );
    const result = String(outcome);
    if (result === 'rotated') return { token: next, session: { handle, userId: old.userId, metadata: old.metadata, createdAt, expiresAt }, rotated: true };
    if (result === 'gone') return undefined;
    // Another node rotated it first: keep the old token, which its grace keeps valid.
    const current = await this.get(token);
    return current === undefined ? undefined : { token, session: current, rotated: false };
  }
}

function frozenMetadata<M>(metadata: M): M {
  try {
    return frozenCopy(metadata);
  } catch (error) {
    throw new InvalidArgumentError(messages.unclonableValue('(session metadata)', (error as Error).message));
  }
}

/** A token's handle on Redis: its routing tag, then its SHA-256. */
function redisHandleOf(token: string): string {
  return `${token.slice(0, SESSION_TAG_LENGTH)}.${handleOf(token)}`;
}

function isToken(token: unknown): token is string {
  return typeof token === 'string' && token.length === RANDOM_TOKEN_LENGTH;
}

/** A user id as JSON (`1` and `'1'` stay apart), checked. */
function userJson(userId: UserId): string {
  return JSON.stringify(checkedUserId(userId));
}

/** What Redis stores for a session: `<user id JSON> NUL <MessagePack [metadata, createdAt]>`. */
function record(user: string, metadata: unknown, createdAt: number): Buffer {
  return Buffer.concat([Buffer.from(user), NUL, packValue([metadata, createdAt])]);
}

/** A session from what Redis stored. */
function session<M>(handle: string, stored: Buffer, expiresAt: number): Session<M> {
  const nul = stored.indexOf(0);
  const userId = JSON.parse(stored.toString('utf8', 0, nul)) as UserId;
  const [metadata, createdAt] = unpackValue<[M, number]>(stored.subarray(nul + 1));
  return { handle, userId, metadata, createdAt, expiresAt };
}
