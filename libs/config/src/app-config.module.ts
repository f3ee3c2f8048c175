import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, registerAs } from '@nestjs/config';
import { loadAppConfig, type PlatformEnv } from './env';
import type { AppName } from './variables';

/**
 * The validated configuration of the running app, injected by type:
 * `constructor(private readonly config: AppConfig)`.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the injection token carries PlatformEnv's fields
export abstract class AppConfig {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface AppConfig extends PlatformEnv {}

/** The @nestjs/config namespace that holds it (`ConfigService.get('platform')`). */
export const PLATFORM_CONFIG = 'platform';

/**
 * One app's configuration through @nestjs/config: the object its main() (or a test) validated once
 * with loadAppConfig or configOrExit, handed over as it is.
 */
@Module({})
export class AppConfigModule {
  static forConfig(config: PlatformEnv): DynamicModule {
    const platform = registerAs(PLATFORM_CONFIG, () => config);
    return {
      module: AppConfigModule,
      global: true,
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true, isGlobal: true }), ConfigModule.forFeature(platform)],
      providers: [{ provide: AppConfig, useFactory: (c: PlatformEnv) => c, inject: [platform.KEY] }],
      exports: [AppConfig],
    };
  }
}

/** For an app's main(): validates before Nest starts, so a bad environment is one line on stderr and exit 1. */
export function configOrExit(app: AppName): PlatformEnv {
  try {
    return loadAppConfig(app, process.env);
  } catch (err) {
    process.stderr.write(`${app}: configuration refused: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
