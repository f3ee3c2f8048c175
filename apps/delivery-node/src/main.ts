import 'reflect-metadata';
import { configOrExit, loadAppConfig, type PlatformEnv } from '@app/config';
import { createHttpApp, runMain } from '@app/http-common';
import { DeliveryNodeModule } from './delivery-node.module';

/** A delivery node serves only GET /health and GET /metrics over HTTP. Configured from the environment unless given its configuration. */
export async function createDeliveryNodeApp(config: PlatformEnv = loadAppConfig('delivery-node')) {
  return createHttpApp(DeliveryNodeModule.forConfig(config));
}

if (require.main === module) {
  const config = configOrExit('delivery-node');
  runMain('delivery-node', async () => (await createDeliveryNodeApp(config)).listen(config.port ?? 3100, '0.0.0.0'));
}
