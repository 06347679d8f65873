import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Session } from '../sessions/session.interface';
import { sessionOf } from './auth-state';

/**
 * The session `SessionAuthGuard` admitted the request with (after a rotation,
 * the new one), or one of its fields: `@CurrentSession('metadata')`. Type the
 * parameter with your metadata: `@CurrentSession() session: Session<MyMetadata>`.
 * `undefined` on a `@Public()` route or where the guard did not run.
 *
 * @example
 * @Get('me')
 * me(@CurrentSession() session: Session<{ userAgent: string }>) { return session.metadata; }
 * @publicApi
 */
export const CurrentSession: (field?: keyof Session) => ParameterDecorator = createParamDecorator(
  (field: keyof Session | undefined, context: ExecutionContext) => {
    const session = sessionOf(context.getArgByIndex<object>(0));
    return field === undefined || session === undefined ? session : session[field];
  },
);

/**
 * The user id of the session `SessionAuthGuard` admitted the request with
 * (`session.userId`: a string or a number, as it was signed in), or
 * `undefined` on a `@Public()` route.
 *
 * @example
 * @Get('orders')
 * orders(@CurrentUserId() userId: string) { … }
 * @publicApi
 */
export const CurrentUserId: () => ParameterDecorator = createParamDecorator((_data: unknown, context: ExecutionContext) => sessionOf(context.getArgByIndex<object>(0))?.userId);
