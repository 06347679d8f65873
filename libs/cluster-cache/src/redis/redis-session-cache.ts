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

/** First byte of a session record (`=`) and of a rotated token's pointer (`@`). */
const RECORD = 0x3d;
const POINTER = 0x40;
const SEMICOLON = 0x3b;

/** The session scripts of a connection (writes only: a read is one GET). */
interface SessionScripts {
  create: ScriptCall;
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
 * A read (`get`, `byHandle`) is one `GET` of the session's key (two for a
 * token in its rotation grace: the pointer, then the session); each write is
 * one atomic Lua script. A user's sessions and their index share one Redis
 * Cluster slot, picked by a 24-bit hash of the user id that is also the first
 * 4 characters of each token (and of its handle): the token finds its slot
 * with no lookup, and users spread over the cluster. Tokens keep 232 random
 * bits; Redis stores only their SHA-256.
 *
 * Sessions live for their TTL by Redis's clock (sent as `PX`); `createdAt`
 * and `expiresAt` are the app's clock readings at the write, as on the mesh.
 * @publicApi
 */
export class RedisSessionCache<M = Record<string, unknown>> extends SessionStore<M> {
  private readonly rotations = new SingleFlight<RotationResult<M> | undefined>();
  private readonly scripts: SessionScripts;

  /** @internal Made by the module; inject `SessionStore`. */
  constructor(
    private readonly connection: RedisConnection,
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
    const ttl = checkedTtl(options.ttl, 'sessions', this.ttl);
    const createdAt = this.clock.now();
    const expiresAt = createdAt + ttl;
    const frozen = frozenMetadata(metadata);
    await this.scripts.create([this.keys.session(tag, handle), this.keys.user(tag, user)], [this.keys.base(tag), handle, record(expiresAt, createdAt, user, frozen), redisTtl(ttl)]);
    return { token, session: { handle, userId, metadata: frozen, createdAt, expiresAt } };
  }

  /** One `GET` of the token's session (a second one only for a token in its rotation grace). */
  get(token: string): Promise<Session<M> | undefined> {
    if (!isToken(token)) return Promise.resolve(undefined);
    const tag = token.slice(0, SESSION_TAG_LENGTH);
    const handle = redisHandleOf(token);
    // No async function: one promise fewer on the path of every guarded request.
    return this.read(this.keys.session(tag, handle)).then((stored) => {
      if (stored === null) return undefined;
      if (stored[0] === RECORD) return session<M>(handle, stored);
      return stored[0] === POINTER ? this.moved(tag, stored.toString('latin1', 1)) : undefined;
    });
  }

  async byHandle(handle: string): Promise<Session<M> | undefined> {
    if (typeof handle !== 'string' || handle.length <= SESSION_TAG_LENGTH) return undefined;
    const stored = await this.read(this.keys.session(handle.slice(0, SESSION_TAG_LENGTH), handle));
    return stored !== null && stored[0] === RECORD ? session<M>(handle, stored) : undefined;
  }

  async touch(token: string, options: SessionOptions = {}): Promise<Session<M> | undefined> {
    if (!isToken(token)) return undefined;
    const tag = token.slice(0, SESSION_TAG_LENGTH);
    const handle = redisHandleOf(token);
    const ttl = checkedTtl(options.ttl, 'sessions', this.ttl);
    const expiresAt = this.clock.now() + ttl;
    const reply = (await this.scripts.touch([this.keys.session(tag, handle)], [this.keys.base(tag), handle, redisTtl(ttl), String(expiresAt)])) as [Buffer, Buffer] | null;
    return reply === null ? undefined : session<M>(reply[0].toString(), reply[1]);
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
    await this.scripts.revoke([this.keys.session(tag, handle), this.keys.user(tag, user)], [this.keys.base(tag), handle]);
  }

  async list(userId: UserId): Promise<Session<M>[]> {
    const user = userJson(userId);
    const tag = SessionKeys.tagOf(user);
    const reply = (await this.scripts.list([this.keys.user(tag, user)], [this.keys.base(tag)])) as Buffer[];
    const sessions: Session<M>[] = [];
    for (let i = 0; i < reply.length; i += 2) sessions.push(session<M>(reply[i].toString(), reply[i + 1]));
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
   * that has not moved yet, so across the cluster exactly one rotation wins.
   * Concurrent calls on this node for the same token share one run (and its
   * result); a caller on another node that lost the race gets the current
   * session with its old token and `rotated: false`.
   */
  rotate(token: string, options: SessionOptions = {}): Promise<RotationResult<M> | undefined> {
    if (!isToken(token)) return Promise.resolve(undefined);
    return this.rotations.run(redisHandleOf(token), () => this.rotateOnce(token, options));
  }

  /** @internal The Redis key a token's session is stored under (benchmarks read it raw); undefined for a malformed token. */
  storageKeyOf(token: string): string | undefined {
    return isToken(token) ? this.keys.session(token.slice(0, SESSION_TAG_LENGTH), redisHandleOf(token)) : undefined;
  }

  isOlderThan(session: Session<M>, age: number): boolean {
    return session.createdAt + age <= this.clock.now();
  }

  /** The session a rotated token points to (it rotated less than rotationGrace ago). */
  private async moved(tag: string, handle: string): Promise<Session<M> | undefined> {
    const current = await this.read(this.keys.session(tag, handle));
    return current !== null && current[0] === RECORD ? session<M>(handle, current) : undefined;
  }

  private read(key: string): Promise<Buffer | null> {
    return this.connection.call(key, (redis) => redis.getBuffer(key));
  }

  private async rotateOnce(token: string, options: SessionOptions): Promise<RotationResult<M> | undefined> {
    const tag = token.slice(0, SESSION_TAG_LENGTH);
    const oldHandle = redisHandleOf(token);
    const next = tag + newToken().slice(SESSION_TAG_LENGTH);
    const handle = redisHandleOf(next);
    const ttl = checkedTtl(options.ttl, 'sessions', this.ttl);
    const createdAt = this.clock.now();
    const reply = (await this.scripts.rotate(
      [this.keys.session(tag, oldHandle), this.keys.session(tag, handle)],
      [this.keys.base(tag), oldHandle, handle, redisTtl(ttl), redisTtl(this.rotationGrace), String(createdAt + ttl), String(createdAt)],
    )) as [Buffer, Buffer, Buffer] | null;
    if (reply === null) return undefined;
    const current = session<M>(reply[1].toString(), reply[2]);
    // 'moved': rotated already (by another node, or the token is in its grace): keep the old token, which the grace keeps valid.
    return reply[0].toString() === 'rotated' ? { token: next, session: current, rotated: true } : { token, session: current, rotated: false };
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

/** A TTL as Redis's PX takes it: whole ms, at least 1. */
function redisTtl(ttl: number): number {
  return Math.max(1, Math.ceil(ttl));
}

/** What Redis stores for a session: `=<expiresAt>;<createdAt>;<user id JSON> NUL <metadata>`. */
function record(expiresAt: number, createdAt: number, user: string, metadata: unknown): Buffer {
  return Buffer.concat([Buffer.from(`=${expiresAt};${createdAt};${user}\0`), packValue(metadata)]);
}

/** A session from its stored record. */
function session<M>(handle: string, stored: Buffer): Session<M> {
  const afterExpiry = stored.indexOf(SEMICOLON, 1);
  const afterCreated = stored.indexOf(SEMICOLON, afterExpiry + 1);
  const nul = stored.indexOf(0, afterCreated + 1);
  return {
    handle,
    userId: JSON.parse(stored.toString('utf8', afterCreated + 1, nul)) as UserId,
    metadata: unpackValue<M>(stored.subarray(nul + 1)),
    createdAt: numberAt(stored, afterExpiry + 1, afterCreated),
    expiresAt: numberAt(stored, 1, afterExpiry),
  };
}

/** The number written in `bytes[from, to)`: digits read in place (no string), anything else by Number. */
function numberAt(bytes: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const digit = bytes[i] - 0x30;
    if (digit < 0 || digit > 9) return Number(bytes.toString('latin1', from, to));
    n = n * 10 + digit;
  }
  return n;
}
