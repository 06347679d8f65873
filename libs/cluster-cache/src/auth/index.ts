/**
 * The auth kit: a guard, decorators and sign-in/out helpers over the session
 * store, for @nestjs/platform-express and @nestjs/platform-fastify.
 */
export { SessionAuthModule } from './session-auth.module';
export { SESSION_AUTH_MODULE_OPTIONS } from './session-auth.module-definition';
export type { SessionAuthModuleExtras } from './session-auth.module-definition';
export type { SessionAuthOptions, SessionCookieOptions, SessionBearerOptions } from './session-auth-options.interface';
export { SessionAuthGuard } from './session-auth.guard';
export type { UnauthorizedReason } from './session-auth.guard';
export { SessionAuthService } from './session-auth.service';
export type { SignInOptions } from './session-auth.service';
export { Public } from './public.decorator';
export { CurrentSession, CurrentUserId } from './current-session.decorator';
export { authStateOf, sessionOf } from './auth-state';
export type { AuthState } from './auth-state';
export type { CredentialSource } from './verified-credentials';
export { PUBLIC_ROUTE, NOT_SIGNED_IN } from './auth.constants';
