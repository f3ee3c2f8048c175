import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { configOrExit, loadAppConfig, type PlatformEnv } from '@app/config';
import { configureHttp } from '@app/http-common';
import { NatsRefusedError } from '@app/messaging';
import { DecisionTransport } from './approvals/decision-transport';
import { ConfigServiceModule } from './config-service.module';
import { mountDashboard } from './dashboard/dashboard-site';

/** Configured from the environment unless given its configuration. */
export async function createConfigServiceApp(config: PlatformEnv = loadAppConfig('config-service')) {
  const app = await NestFactory.create(ConfigServiceModule.forConfig(config), {
    bodyParser: false,
    abortOnError: false,
    bufferLogs: true,
    logger: ['fatal', 'error'],
    forceCloseConnections: true,
  });
  app.useLogger(app.get(Logger));
  mountDashboard(app, { approvalServiceUrl: config.approvalServiceUrl, dir: config.dashboardDir });
  configureHttp(app);
  const doc = new DocumentBuilder()
    .setTitle('Webhooks admin API')
    .setDescription('Configure webhooks, inspect events and deliveries. Errors are RFC 7807 problem documents.')
    .setVersion('2')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc), { jsonDocumentUrl: 'docs/openapi.json' });
  // Hybrid app: approval decisions arrive over JetStream, consumed once the app is initialised.
  app.connectMicroservice({ strategy: app.get(DecisionTransport).server });
  await app.init();
  await app.startAllMicroservices();
  return app;
}

async function main(): Promise<void> {
  const config = configOrExit('config-service');
  const app = await createConfigServiceApp(config);
  await app.listen(config.configPort, '0.0.0.0');
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof NatsRefusedError ? `config-service: ${err.message}` : err);
    process.exit(1);
  });
}
