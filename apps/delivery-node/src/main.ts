import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { configOrExit, loadAppConfig, type PlatformEnv } from '@app/config';
import { configureHttp } from '@app/http-common';
import { NatsRefusedError } from '@app/messaging';
import { DeliveryNodeModule } from './delivery-node.module';

/** A delivery node serves only GET /health and GET /metrics over HTTP. Configured from the environment unless given its configuration. */
export async function createDeliveryNodeApp(config: PlatformEnv = loadAppConfig('delivery-node')) {
  const app = await NestFactory.create(DeliveryNodeModule.forConfig(config), {
    bodyParser: false,
    abortOnError: false,
    bufferLogs: true,
    logger: ['fatal', 'error'],
    forceCloseConnections: true,
  });
  app.useLogger(app.get(Logger));
  configureHttp(app);
  return app;
}

if (require.main === module) {
  const config = configOrExit('delivery-node');
  createDeliveryNodeApp(config)
    .then((app) => app.listen(config.port ?? 3100, '0.0.0.0'))
    .catch((err) => {
      console.error(err instanceof NatsRefusedError ? `delivery-node: ${err.message}` : err);
      process.exit(1);
    });
}
