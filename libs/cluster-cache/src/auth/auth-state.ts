import { Logger } from '@nestjs/common';
import { IncomingMessage } from 'node:http';
import type { Session } from '../sessions/session.interface';
import type { CredentialSource } from './verified-credentials';

/** What `SessionAuthGuard` found for a request it let through. @publicApi */
export interface AuthState<M = Record<string, unknown>> {
  /** The live session (after a rotation: the new one). */
  readonly session: Session<M>;
  /** The token the client holds now: a new one if the guard rotated it in this request. */
  readonly token: string;
  /** Where the token was found. */
  readonly source: CredentialSource;
}

/**
 * Kept beside the request rather than on it. On Node 20 every
 * `IncomingMessage` gets a hidden class of its own (Express also swaps its
 * prototype per request), so a property stored on the request cannot follow
 * a shared transition: in a CPU profile of the demo that one store took
 * ≈ 5 µs per request, a WeakMap entry ≈ 2 µs (docs/design.md, Design notes). The
 * entry goes away with its request.
 */
const states = new WeakMap<object, AuthState<unknown>>();

/** What the guard found for `request`, or `undefined` (a `@Public()` route, or no guard ran). @publicApi */
export function authStateOf<M = Record<string, unknown>>(request: object): AuthState<M> | undefined {
  return states.get(request) as AuthState<M> | undefined;
}

/** The session the guard admitted `request` with, or `undefined`. @publicApi */
export function sessionOf<M = Record<string, unknown>>(request: object): Session<M> | undefined {
  return (states.get(request) as AuthState<M> | undefined)?.session;
}

/**
 * Records the guard's result for a request, and makes it readable as
 * `request[property]` too: a getter on the request's prototype (Express's
 * `app.request`, Fastify's Request class — what `fastify.decorateRequest`
 * does), defined once per prototype, so no request grows a property. Where
 * the prototype is a shared built-in (a bare Node request), the property is
 * set on the request itself.
 */
export class AuthStateAttachment {
  private readonly logger = new Logger('SessionAuth');
  /** The prototype seen last: almost every request has the same one. */
  private lastPrototype: object | null | undefined;
  private readonly prepared = new WeakSet<object>();
  /** Prototypes that cannot carry the getter: the property goes on each request. */
  private readonly perRequest = new WeakSet<object>();

  constructor(private readonly property: string | undefined) {}

  attach(request: object, state: AuthState<unknown>): void {
    states.set(request, state);
    const property = this.property;
    if (property === undefined) return;
    const prototype = Object.getPrototypeOf(request) as object | null;
    if (prototype !== this.lastPrototype) this.prepare(prototype);
    if (prototype === null || this.perRequest.has(prototype)) Object.defineProperty(request, property, { value: state.session, configurable: true, writable: true });
  }

  private prepare(prototype: object | null): void {
    this.lastPrototype = prototype;
    if (prototype === null || this.prepared.has(prototype) || this.perRequest.has(prototype)) return;
    const property = this.property!;
    if (prototype === IncomingMessage.prototype || prototype === Object.prototype) {
      this.perRequest.add(prototype);
      return;
    }
    if (property in prototype) {
      const existing = Object.getOwnPropertyDescriptor(prototype, property)?.get;
      if (existing === sessionGetter) {
        this.prepared.add(prototype);
        return;
      }
      this.perRequest.add(prototype);
      this.logger.warn(`requests already have a property "${property}": the session is not put there; read it with @CurrentSession() or sessionOf(request), or set SessionAuthModule's requestProperty to another name`);
      return;
    }
    Object.defineProperty(prototype, property, { get: sessionGetter, set: ownValueSetter(property), configurable: true, enumerable: false });
    this.prepared.add(prototype);
  }
}

/** The getter on request prototypes: the admitted session of `this` request. */
function sessionGetter(this: object): Session<unknown> | undefined {
  return states.get(this)?.session;
}

/** Assigning the property (other code may) gives that request an own value, as if no getter were there. */
function ownValueSetter(property: string): (this: object, value: unknown) => void {
  return function (this: object, value: unknown) {
    Object.defineProperty(this, property, { value, configurable: true, writable: true, enumerable: true });
  };
}
