import { Injectable, OnModuleInit } from '@nestjs/common';
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

/** A demo user, as the rest of the app sees it (no password material). */
export interface User {
  readonly id: string;
  readonly name: string;
}

/**
 * The demo's users and their passwords. Documented in docs/demo.md; a real app
 * keeps hashes in its database, never passwords in its code.
 */
export const DEMO_USERS: ReadonlyArray<User & { password: string }> = [
  { id: 'ada', name: 'Ada Lovelace', password: 'analytical-engine' },
  { id: 'grace', name: 'Grace Hopper', password: 'cobol-1959' },
];

interface StoredUser {
  /** What `find` and `verify` hand out: one frozen object per user (no copy per request). */
  readonly user: User;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

const KEY_LENGTH = 32;

/**
 * An in-memory user list with scrypt-hashed passwords. The passwords are
 * hashed once at start-up; sign-in compares hashes with `timingSafeEqual`, and
 * an unknown user costs the same scrypt as a known one.
 */
@Injectable()
export class UsersService implements OnModuleInit {
  private users = new Map<string, StoredUser>();
  /** Compared against when the user does not exist, so timing does not tell. */
  private decoy: StoredUser | undefined;

  async onModuleInit(): Promise<void> {
    const entries = await Promise.all(
      DEMO_USERS.map(async ({ id, name, password }) => [id, await hashed({ id, name }, password)] as const),
    );
    this.users = new Map(entries);
    this.decoy = await hashed({ id: '', name: '' }, randomBytes(16).toString('hex'));
  }

  /** The user if `password` is theirs, else `undefined`. */
  async verify(username: unknown, password: unknown): Promise<User | undefined> {
    if (typeof username !== 'string' || typeof password !== 'string' || password.length > 1024) return undefined;
    const user = this.users.get(username);
    const against = user ?? this.decoy;
    if (against === undefined) return undefined;
    const hash = await scryptAsync(password, against.salt, KEY_LENGTH);
    const match = timingSafeEqual(hash, against.hash);
    return match && user !== undefined ? user.user : undefined;
  }

  /** A user by id (a session stores the id only). */
  find(id: string): User | undefined {
    return this.users.get(id)?.user;
  }
}

async function hashed(user: User, password: string): Promise<StoredUser> {
  const salt = randomBytes(16);
  return { user: Object.freeze({ id: user.id, name: user.name }), salt, hash: await scryptAsync(password, salt, KEY_LENGTH) };
}
