import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { configOrExit, loadAppConfig, type PlatformEnv } from '@app/config';
import { configureHttp } from '@app/http-common';
import { NatsRefusedError } from '@app/messaging';
import { ApprovalServiceModule } from './approval-service.module';

/** Configured from the environment unless given its configuration. */
export async function createApprovalServiceApp(config: PlatformEnv = loadAppConfig('approval-service')) {
  const app = await NestFactory.create(ApprovalServiceModule.forConfig(config), {
    bodyParser: false,
    abortOnError: false,
    bufferLogs: true,
    logger: ['fatal', 'error'],
    forceCloseConnections: true,
  });
  app.useLogger(app.get(Logger));
  configureHttp(app);
  const doc = new DocumentBuilder()
    .setTitle('Approvals API')
    .setDescription('Four-eyes approval of webhook changes: policies and requests. Errors are RFC 7807 problem documents.')
    .setVersion('2')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc), { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}

if (require.main === module) {
  const config = configOrExit('approval-service');
  createApprovalServiceApp(config)
    .then((app) => app.listen(config.approvalPort, '0.0.0.0'))
    .catch((err) => {
      console.error(err instanceof NatsRefusedError ? `approval-service: ${err.message}` : err);
      process.exit(1);
    });
}
