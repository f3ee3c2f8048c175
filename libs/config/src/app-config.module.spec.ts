import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig, AppConfigModule } from './app-config.module';
import { loadAppConfig } from './env';

@Module({})
class ProbeModule {}

describe('AppConfigModule', () => {
  it('hands the app the object its caller validated, without reading the environment again', async () => {
    const config = loadAppConfig('delivery-node', { SECRETS_KEY: Buffer.alloc(32, 5).toString('base64'), DELIVERY_PARTITIONS: '8' });
    // A second parse of the environment would refuse this and fail the app's creation.
    process.env.DELIVERY_PARTITONS = '8';
    try {
      const app = await NestFactory.createApplicationContext({ module: ProbeModule, imports: [AppConfigModule.forConfig(config)] }, { logger: false });
      expect(app.get(AppConfig)).toBe(config);
      await app.close();
    } finally {
      delete process.env.DELIVERY_PARTITONS;
    }
  });
});
