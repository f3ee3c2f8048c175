import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadEnv } from '@app/config';
import { configureHttp, logLevels } from '@app/http-common';
import { DecisionTransport } from './approvals/decision-transport';
import { ConfigServiceModule } from './config-service.module';
import { mountDashboard } from './dashboard/dashboard-site';

export async function createConfigServiceApp() {
  const env = loadEnv();
  const app = await NestFactory.create(ConfigServiceModule, { bodyParser: false, abortOnError: false, logger: logLevels(env.logLevel) });
  mountDashboard(app, { approvalServiceUrl: env.approvalServiceUrl });
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
  const app = await createConfigServiceApp();
  await app.listen(loadEnv().configPort, '0.0.0.0');
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
