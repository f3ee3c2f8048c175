import { CanActivate, Controller, ExecutionContext, Get, Global, INestApplication, Injectable, Logger as NestLogger, Module, Param } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Logger } from 'nestjs-pino';
import { AppConfigModule } from './app-config.module';
import { loadAppConfig } from './env';
import { LOG_DESTINATION, LoggingModule } from './logging.module';

const ACCOUNT = '6f1d3c1e-8f0a-4f43-9a43-2f3c9d1b7a10';
const WEBHOOK = '0b5e7c4c-8a59-4d62-9d0e-3f7a3a3f0a11';
const lines: Array<Record<string, unknown>> = [];

@Global()
@Module({
  providers: [
    {
      provide: LOG_DESTINATION,
      useValue: new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
          done();
        },
      }),
    },
  ],
  exports: [LOG_DESTINATION],
})
class CaptureLogs {}

/** Stands in for the auth guard: a bearer token "acct" signs in as ACCOUNT. */
@Injectable()
class SignIn implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest();
    if (req.headers.authorization === 'Bearer acct') req.principal = { accountId: ACCOUNT };
    return true;
  }
}

@Controller('v2/webhooks')
class ProbeController {
  private readonly logger = new NestLogger('Probe');

  @Get(':id')
  one(@Param('id') id: string): { id: string } {
    this.logger.warn(`looked at ${id}`);
    return { id };
  }
}

@Module({
  imports: [AppConfigModule.forConfig(loadAppConfig('approval-service', { LOG_LEVEL: 'log', LOG_PRETTY: 'false' })), CaptureLogs, LoggingModule],
  controllers: [ProbeController],
  providers: [{ provide: APP_GUARD, useClass: SignIn }],
})
class ProbeApp {}

describe('request-scoped log lines', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    app = await NestFactory.create(ProbeApp, { bufferLogs: true, logger: false });
    app.useLogger(app.get(Logger));
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(() => app.close());

  const logged = (msg: string) => lines.find((l) => l.msg === msg);

  it('a line logged inside a handler carries the request id, the signed-in account and the webhook of the path', async () => {
    const res = await fetch(`${base}/v2/webhooks/${WEBHOOK}`, { headers: { authorization: 'Bearer acct', 'x-request-id': 'req-1' } });
    expect(res.status).toBe(200);
    expect(logged(`looked at ${WEBHOOK}`)).toMatchObject({ level: 40, context: 'Probe', request_id: 'req-1', account_id: ACCOUNT, webhook_id: WEBHOOK });
  });

  it('a request without an account carries only what it has', async () => {
    const other = '1c0ffee0-8a59-4d62-9d0e-3f7a3a3f0a12';
    await fetch(`${base}/v2/webhooks/${other}`, { headers: { 'x-request-id': 'req-2' } });
    const line = logged(`looked at ${other}`);
    expect(line).toMatchObject({ request_id: 'req-2', webhook_id: other });
    expect(line).not.toHaveProperty('account_id');
  });
});
