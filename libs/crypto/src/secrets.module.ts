import { Global, Module } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { SecretBox } from './secret-box';

/** The SecretBox keyed by SECRETS_KEY (and SECRETS_KEY_PREVIOUS), for apps that read or write webhook secrets. */
@Global()
@Module({
  providers: [
    {
      provide: SecretBox,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        if (!config.secretsKey) throw new Error('SECRETS_KEY is required');
        return new SecretBox(config.secretsKey, config.previousSecretsKeys);
      },
    },
  ],
  exports: [SecretBox],
})
export class SecretsModule {}
