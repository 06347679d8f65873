import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SessionAuthOptions } from './session-auth-options.interface';

/** Extra `forRoot` options that shape the module rather than the auth. @publicApi */
export interface SessionAuthModuleExtras {
  /** Make the guard, the service and their options injectable everywhere. Default true (the guard is used in every module). */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass,
  /** Injection token of the raw options passed to `SessionAuthModule.forRoot`. @publicApi */
  MODULE_OPTIONS_TOKEN: SESSION_AUTH_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SessionAuthOptions>({ moduleName: 'SessionAuth' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createSessionAuthOptions')
  .setExtras<SessionAuthModuleExtras>({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
