import { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, ConnectionOptions, NatsConnection } from 'nats';
import { createApprovalServiceApp } from '../../apps/approval-service/src/main';
import { createConfigServiceApp } from '../../apps/config-service/src/main';
import { createDeliveryNodeApp } from '../../apps/delivery-node/src/main';
import { publishEvent } from '@app/messaging';
import {
  ApiClient,
  ConsumerHandler,
  developerTenant,
  HttpsConsumer,
  listen,
  makeTestPki,
  startHttpsConsumer,
  startTestPlatform,
  testEvent,
  TestPki,
  TestPlatform,
  waitForWebhooksInKv,
} from '@app/testing';

/**
 * One end-to-end world per test file: its own database and nats-server, and whichever of the
 * services, an in-process delivery node, an HTTPS consumer behind a test CA and a NATS client the file
 * asks for. Everything it starts, and everything a test hands to `onClose`, is closed in reverse
 * order, also when a start-up step fails half-way.
 */
export interface HarnessOptions {
  /** Extra platform environment (DELIVERY_PARTITIONS, DELIVERY_RECONCILE_AFTER_MS, ...); a function is read at start, with the test CA made. */
  env?: Record<string, string> | ((h: Harness) => Record<string, string>);
  /**
   * A configuration file for the platform's nats-server (authorization, tls, ...), written next to
   * the test CA's files; a function is read at start, with the test CA made.
   */
  natsConf?: string | ((h: Harness) => string);
  /** An HTTPS consumer with a test CA the delivery node trusts; true answers 200 "ok". */
  consumer?: ConsumerHandler | true;
  /** A test CA (DELIVERY_CA_FILE) without a consumer, for files that start their own. */
  pki?: boolean;
  /** Runs after the platform (and consumer) are up, before any service starts: e.g. to put Postgres behind a proxy. */
  prepare?: (h: Harness) => Promise<void> | void;
  approval?: boolean;
  config?: boolean;
  /** An in-process delivery node; 'listen' also serves its /health and /metrics. */
  node?: boolean | 'listen';
  /** A NATS client connection to the platform's server (or to the servers the options name; a function is read at start). */
  nats?: boolean | Partial<ConnectionOptions> | ((h: Harness) => Partial<ConnectionOptions>);
}

export interface Harness {
  platform: TestPlatform;
  pki: TestPki;
  consumer: HttpsConsumer;
  approval: INestApplication;
  approvalApi: ApiClient;
  config: INestApplication;
  /** The config service's API, anonymous; `.as(token)` for a user. */
  api: ApiClient;
  node: INestApplication;
  nodeApi: ApiClient;
  nc: NatsConnection;
  /** An account with a developer token: its id and the config API acting as that developer. */
  tenant(name: string): Promise<{ accountId: string; dev: ApiClient }>;
  /**
   * One API-key webhook per path, to the consumer at that path, subscribed to `eventTypes`; resolves
   * with their ids once the delivery nodes can see them (in the webhooks KV bucket).
   */
  webhooksAt(dev: ApiClient, paths: string[], opts: { eventTypes: string[]; rateLimit?: number }): Promise<string[]>;
  /** Publishes one event of `type` for the account per id (through the NATS client). */
  publish(accountId: string, type: string, ids: string[]): Promise<unknown>;
  /** Ids of the events the consumer received at a path. */
  received(this: void, path: string): Set<string>;
  /** Registers a cleanup, run before everything started earlier is closed. */
  onClose(fn: () => unknown): void;
  close(): Promise<void>;
}

/**
 * Closes an app without waiting on its clients: a test may leave a request half sent (the fuzzer
 * does, on purpose), and the HTTP server's close would wait for it forever. A close that still takes
 * longer than CLOSE_BOUND_MS is reported and left behind, so one slow shutdown cannot fail a file
 * whose tests passed (the report says which app to look at).
 */
const CLOSE_BOUND_MS = 60_000;
async function closeApp(app: INestApplication, name = 'app'): Promise<void> {
  (app.getHttpServer() as Server | undefined)?.closeAllConnections?.();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_BOUND_MS)));
  try {
    if ((await Promise.race([app.close(), bound])) === 'late') process.stderr.write(`harness: the ${name} did not close within ${CLOSE_BOUND_MS / 1000} s; left behind\n`);
  } finally {
    clearTimeout(timer);
  }
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const cleanups: Array<() => unknown> = [];
  const h = {
    onClose: (fn: () => unknown) => void cleanups.push(fn),
    async close() {
      while (cleanups.length) {
        try {
          await cleanups.pop()!();
        } catch (err) {
          process.stderr.write(`harness: a cleanup failed: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
    },
    tenant: (name: string) => developerTenant(h.platform, h.api, name),
    async webhooksAt(dev: ApiClient, paths: string[], o: { eventTypes: string[]; rateLimit?: number }) {
      const ids: string[] = [];
      for (const path of paths) {
        const res = await dev.post('/v2/webhooks', {
          name: `hook ${path}`,
          url: `${h.consumer.url}${path}`,
          auth_type: 'API_KEY',
          api_key: { header: 'X-Key', key: 'test-key-0123' },
          event_types: o.eventTypes,
          rate_limit: o.rateLimit ?? 100,
        });
        if (res.status !== 201) throw new Error(`creating the webhook at ${path} answered ${res.status}: ${res.text}`);
        ids.push(res.body.id);
      }
      await waitForWebhooksInKv(h.nc, ids);
      return ids;
    },
    publish: (accountId: string, type: string, ids: string[]) => Promise.all(ids.map((id) => publishEvent(h.nc.jetstream(), testEvent(accountId, id, type, {})))),
    received: (path: string) => new Set(h.consumer.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body).id as string)),
  } as Harness;
  try {
    if (opts.consumer || opts.pki) {
      h.pki = makeTestPki();
      h.onClose(() => rmSync(h.pki.dir, { recursive: true, force: true }));
    }
    const env = typeof opts.env === 'function' ? opts.env(h) : opts.env;
    let natsArgs: string[] | undefined;
    if (opts.natsConf !== undefined) {
      const dir = h.pki?.dir ?? mkdtempSync(join(tmpdir(), 'nats-conf-'));
      if (!h.pki) h.onClose(() => rmSync(dir, { recursive: true, force: true }));
      const file = join(dir, 'nats.conf');
      writeFileSync(file, typeof opts.natsConf === 'function' ? opts.natsConf(h) : opts.natsConf);
      natsArgs = ['-c', file];
    }
    h.platform = await startTestPlatform({ ...(h.pki ? { DELIVERY_CA_FILE: h.pki.caFile } : {}), ...env }, { natsArgs });
    h.onClose(() => h.platform.close());
    if (opts.consumer) {
      h.consumer = await startHttpsConsumer({ pki: h.pki, handler: opts.consumer === true ? undefined : opts.consumer });
      h.onClose(() => h.consumer.close());
    }
    await opts.prepare?.(h);
    if (opts.approval) {
      h.approval = await createApprovalServiceApp();
      h.onClose(() => closeApp(h.approval, 'approval service'));
      h.approvalApi = new ApiClient(await listen(h.approval));
      // The config service forwards the dashboard's approval requests here.
      process.env.APPROVAL_SERVICE_URL = h.approvalApi.baseUrl;
      h.onClose(() => delete process.env.APPROVAL_SERVICE_URL);
    }
    if (opts.config) {
      h.config = await createConfigServiceApp();
      h.onClose(() => closeApp(h.config, 'config service'));
      h.api = new ApiClient(await listen(h.config));
    }
    if (opts.node) {
      h.node = await createDeliveryNodeApp();
      h.onClose(() => closeApp(h.node, 'delivery node'));
      if (opts.node === 'listen') h.nodeApi = new ApiClient(await listen(h.node));
      else await h.node.init();
    }
    if (opts.nats) {
      const options = opts.nats === true ? {} : typeof opts.nats === 'function' ? opts.nats(h) : opts.nats;
      h.nc = await connect({ servers: h.platform.nats.url, ...options });
      h.onClose(() => h.nc.close());
    }
    return h;
  } catch (err) {
    await h.close();
    throw err;
  }
}

/**
 * `startHarness` in the file's beforeAll and `close` in its afterAll. The returned object is filled
 * in before the first test runs.
 */
export function useHarness(opts: HarnessOptions = {}): Harness {
  const h = {} as Harness;
  beforeAll(async () => {
    Object.assign(h, await startHarness(opts));
  });
  afterAll(async () => {
    await h.close?.();
  });
  return h;
}
