import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppConfig, configOrExit } from '@app/config';
import { configureHttp } from '@app/http-common';
import { NatsRefusedError } from '@app/messaging';
import { DecisionTransport } from './approvals/decision-transport';
import { ConfigServiceModule } from './config-service.module';
import { mountDashboard } from './dashboard/dashboard-site';

export async function createConfigServiceApp() {
  const app = await NestFactory.create(ConfigServiceModule, { bodyParser: false, abortOnError: false, bufferLogs: true, logger: ['fatal', 'error'], forceCloseConnections: true });
  app.useLogger(app.get(Logger));
  const config = app.get(AppConfig);
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
  configOrExit('config-service');
  const app = await createConfigServiceApp();
  await app.listen(app.get(AppConfig).configPort, '0.0.0.0');
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof NatsRefusedError ? `config-service: ${err.message}` : err);
    process.exit(1);
  });
}
