import 'reflect-metadata';
import { configOrExit, loadAppConfig, type PlatformEnv } from '@app/config';
import { createHttpApp, runMain, serveOpenApi } from '@app/http-common';
import { ApprovalServiceModule } from './approval-service.module';

/** Configured from the environment unless given its configuration. */
export async function createApprovalServiceApp(config: PlatformEnv = loadAppConfig('approval-service')) {
  const app = await createHttpApp(ApprovalServiceModule.forConfig(config));
  serveOpenApi(app, 'Approvals API', 'Four-eyes approval of webhook changes: policies and requests. Errors are RFC 7807 problem documents.');
  return app;
}

if (require.main === module) {
  const config = configOrExit('approval-service');
  runMain('approval-service', async () => (await createApprovalServiceApp(config)).listen(config.approvalPort, '0.0.0.0'));
}
