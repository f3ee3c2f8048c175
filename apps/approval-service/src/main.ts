import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadEnv } from '@app/config';
import { configureHttp, logLevels } from '@app/http-common';
import { ApprovalServiceModule } from './approval-service.module';

export async function createApprovalServiceApp() {
  const app = await NestFactory.create(ApprovalServiceModule, { bodyParser: false, abortOnError: false, logger: logLevels(loadEnv().logLevel) });
  configureHttp(app);
  return app;
}

if (require.main === module) {
  createApprovalServiceApp()
    .then((app) => app.listen(loadEnv().approvalPort, '0.0.0.0'))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
