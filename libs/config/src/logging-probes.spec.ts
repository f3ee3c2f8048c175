import { Controller, Get, INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { Logger } from 'nestjs-pino';
import { storage } from 'nestjs-pino/storage';
import { AppConfigModule } from './app-config.module';
import { loadAppConfig } from './env';
import { LoggingModule, UNLOGGED_ROUTES } from './logging.module';

@Controller()
class Routes {
  @Get('health')
  ready(): string {
    return 'ok';
  }

  @Get('health/live')
  live(): string {
    return 'ok';
  }

  @Get('metrics')
  metrics(): string {
    return '';
  }

  @Get('v2/webhooks')
  api(): string {
    return '[]';
  }
}

@Module({
  imports: [AppConfigModule.forConfig(loadAppConfig('approval-service', { LOG_LEVEL: 'error', LOG_PRETTY: 'false' })), LoggingModule],
  controllers: [Routes],
})
class ProbedApp {}

/** Async hooks on for the whole process: what the request logger's context costs every promise after it. */
const requestContextOn = () => (storage as unknown as { enabled: boolean }).enabled;

describe('probes and scrapes', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    app = await NestFactory.create(ProbedApp, { bufferLogs: true, logger: false });
    app.useLogger(app.get(Logger));
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(() => app.close());

  it('never switch request contexts (async hooks) on for the process; an API request does', async () => {
    expect(requestContextOn()).toBe(false);
    for (const { path } of UNLOGGED_ROUTES) {
      const res = await fetch(`${base}/${path}`);
      expect(res.status).toBe(200);
    }
    expect(requestContextOn()).toBe(false);
    await fetch(`${base}/v2/webhooks`);
    expect(requestContextOn()).toBe(true); // the check above can see it
  });
});
