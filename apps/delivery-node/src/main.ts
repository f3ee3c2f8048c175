import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppConfig, configOrExit } from '@app/config';
import { configureHttp } from '@app/http-common';
import { NatsRefusedError } from '@app/messaging';
import { DeliveryNodeModule } from './delivery-node.module';

/** A delivery node serves only GET /health and GET /metrics over HTTP. */
export async function createDeliveryNodeApp() {
  const app = await NestFactory.create(DeliveryNodeModule, { bodyParser: false, abortOnError: false, bufferLogs: true, logger: ['fatal', 'error'], forceCloseConnections: true });
  app.useLogger(app.get(Logger));
  configureHttp(app);
  return app;
}

if (require.main === module) {
  configOrExit('delivery-node');
  createDeliveryNodeApp()
    .then((app) => app.listen(app.get(AppConfig).port ?? 3100, '0.0.0.0'))
    .catch((err) => {
      console.error(err instanceof NatsRefusedError ? `delivery-node: ${err.message}` : err);
      process.exit(1);
    });
}
