/**
 * nest-cluster-cache/express-session: an express-session `Store` on the
 * replicated cache (in place of connect-redis or the MemoryStore). A separate
 * entry point, so apps without express-session never load it.
 */
export { ExpressSessionStore } from '../express-session.store';
export type { ExpressSessionStoreOptions } from '../express-session.store';
export type { SessionSerializer, SessionStoreOptions } from '../session-records';
