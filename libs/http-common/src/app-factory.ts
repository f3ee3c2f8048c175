import { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { NatsRefusedError } from '@app/messaging';
import { configureHttp } from './bootstrap';

/**
 * A platform app from its root module: pino as its logger (Nest's own prints errors only until
 * pino takes over), the HTTP conventions of configureHttp, and its connections closed on shutdown
 * so a client that never finishes a request cannot hold a stopping app open.
 */
export async function createHttpApp(module: DynamicModule | Type, opts: { mountFirst?: (app: INestApplication) => void } = {}): Promise<INestApplication> {
  const app = await NestFactory.create(module, { bodyParser: false, abortOnError: false, bufferLogs: true, logger: ['fatal', 'error'], forceCloseConnections: true });
  app.useLogger(app.get(Logger));
  // From here on log at once: start-up steps that wait (for NATS, a partition-count change, nodes of
  // an earlier release) run inside init and would otherwise say nothing until start-up ends.
  app.flushLogs();
  // What must see requests before the body parser and the API's conventions (e.g. a proxy passing bodies on).
  opts.mountFirst?.(app);
  configureHttp(app);
  return app;
}

/** The OpenAPI document of an API (bearer tokens, version 2) at /docs and /docs/openapi.json. */
export function serveOpenApi(app: INestApplication, title: string, description: string): void {
  const doc = new DocumentBuilder().setTitle(title).setDescription(description).setVersion('2').addBearerAuth().build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc), { jsonDocumentUrl: 'docs/openapi.json' });
}

/** Runs an app's start as the process's main: a start that fails prints why (one line when NATS refused the client) and exits 1. */
export function runMain(name: string, start: () => Promise<unknown>): void {
  start().catch((err) => {
    console.error(err instanceof NatsRefusedError ? `${name}: ${err.message}` : err);
    process.exit(1);
  });
}
