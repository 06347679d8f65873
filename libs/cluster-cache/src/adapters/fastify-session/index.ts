/**
 * nest-cluster-cache/fastify-session: a @fastify/session store on the
 * replicated cache. A separate entry point, so apps without Fastify never
 * load it.
 */
export { FastifySessionStore } from '../fastify-session.store';
export type { FastifySessionStoreOptions } from '../fastify-session.store';
export type { SessionSerializer, SessionStoreOptions } from '../session-records';
