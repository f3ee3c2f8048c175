import 'reflect-metadata';
import { configOrExit, loadAppConfig, type PlatformEnv } from '@app/config';
import { createHttpApp, runMain, serveOpenApi } from '@app/http-common';
import { DecisionTransport } from './approvals/decision-transport';
import { ConfigServiceModule } from './config-service.module';
import { mountDashboard } from './dashboard/dashboard-site';

/** Configured from the environment unless given its configuration. */
export async function createConfigServiceApp(config: PlatformEnv = loadAppConfig('config-service')) {
  const app = await createHttpApp(ConfigServiceModule.forConfig(config), {
    mountFirst: (a) => mountDashboard(a, { approvalServiceUrl: config.approvalServiceUrl, dir: config.dashboardDir }),
  });
  serveOpenApi(app, 'Webhooks admin API', 'Configure webhooks, inspect events and deliveries. Errors are RFC 7807 problem documents.');
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

if (require.main === module) runMain('config-service', main);
