import { CustomDecorator, SetMetadata } from '@nestjs/common';
import { PUBLIC_ROUTE } from './auth.constants';

/**
 * Marks a route (or every route of a controller) as open: `SessionAuthGuard`
 * lets it through without a session — the sign-in route, a health check, the
 * page itself. What the guard would have attached is then absent
 * (`@CurrentSession()` gives `undefined`).
 *
 * @example
 * @Public()
 * @Post('session')
 * signIn(@Body() body: Credentials) { … }
 * @publicApi
 */
export const Public = (): CustomDecorator<typeof PUBLIC_ROUTE> => SetMetadata(PUBLIC_ROUTE, true);
