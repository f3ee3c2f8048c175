import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadEnv } from '@app/config';
import { configureHttp, logLevels } from '@app/http-common';
import { DeliveryNodeModule } from './delivery-node.module';

/** A delivery node serves only GET /health and GET /metrics over HTTP. */
export async function createDeliveryNodeApp() {
  const app = await NestFactory.create(DeliveryNodeModule, { bodyParser: false, abortOnError: false, logger: logLevels(loadEnv().logLevel) });
  configureHttp(app);
  return app;
}

if (require.main === module) {
  createDeliveryNodeApp()
    .then((app) => app.listen(loadEnv().port ?? 3100, '0.0.0.0'))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
