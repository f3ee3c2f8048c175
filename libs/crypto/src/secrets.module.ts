import { Global, Module } from '@nestjs/common';
import { loadEnv } from '@app/config';
import { SecretBox } from './secret-box';

/** The SecretBox keyed by SECRETS_KEY, for apps that read or write webhook secrets. */
@Global()
@Module({ providers: [{ provide: SecretBox, useFactory: () => new SecretBox(loadEnv().secretsKey) }], exports: [SecretBox] })
export class SecretsModule {}
