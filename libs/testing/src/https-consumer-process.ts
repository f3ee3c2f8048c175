import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startHttpsConsumer } from './https-consumer';
import type { NetHost } from './netns';

/** What a consumer process recorded of one request. */
export interface RecordedRequest {
  path: string;
  /** The `webhook-id` header (the event id). */
  webhookId: string;
  remoteAddress: string;
  /** Date.now() in the consumer process when the whole body had arrived. */
  receivedAt: number;
}

export interface HttpsConsumerProcess {
  url: string;
  /** Everything recorded so far (fetched from the process; cached, so each call asks only for what is new). */
  requests(): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

/**
 * The HTTPS consumer (answering 200 to everything) in a process of its own, optionally in a
 * network-lab host: its arrival times then measure what the delivery nodes did, not how busy the
 * test process was. Needs `npm run build` (it runs the compiled dist/libs/testing/src/https-consumer-process.js).
 */
export async function startHttpsConsumerProcess(opts: { certFile: string; keyFile: string; host?: NetHost }): Promise<HttpsConsumerProcess> {
  const address = opts.host?.address ?? '127.0.0.1';
  const env = { ...process.env, CONSUMER_HOST: address, CONSUMER_CERT_FILE: opts.certFile, CONSUMER_KEY_FILE: opts.keyFile };
  const args = [join(process.cwd(), 'dist', 'libs', 'testing', 'src', 'https-consumer-process.js')];
  const spawnOpts = { env, stdio: ['ignore', 'pipe', 'inherit'] as ['ignore', 'pipe', 'inherit'] };
  const proc: ChildProcess = opts.host ? opts.host.spawn(process.execPath, args, spawnOpts) : spawn(process.execPath, args, spawnOpts);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const lines = createInterface({ input: proc.stdout! });
  const first = await Promise.race([
    once(lines, 'line').then(([l]) => JSON.parse(l as string) as { port: number; control: number }),
    exited.then(() => {
      throw new Error('the consumer process exited during start-up');
    }),
  ]);
  const recorded: RecordedRequest[] = [];
  return {
    url: `https://${address}:${first.port}`,
    async requests() {
      const res = await fetch(`http://${address}:${first.control}/requests?from=${recorded.length}`, { signal: AbortSignal.timeout(10_000) });
      recorded.push(...((await res.json()) as RecordedRequest[]));
      return recorded;
    },
    async close() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** The process itself: the consumer, plus a plain HTTP control port that hands out what it recorded. */
async function main(): Promise<void> {
  const host = process.env.CONSUMER_HOST ?? '127.0.0.1';
  const consumer = await startHttpsConsumer({
    pki: { certPem: readFileSync(process.env.CONSUMER_CERT_FILE!, 'utf8'), keyPem: readFileSync(process.env.CONSUMER_KEY_FILE!, 'utf8') },
    host,
  });
  const control = createServer((req, res) => {
    const from = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('from') ?? 0);
    const out: RecordedRequest[] = consumer.requests
      .slice(from)
      .map((r) => ({ path: r.path, webhookId: r.headers['webhook-id'] ?? '', remoteAddress: r.remoteAddress.replace(/^::ffff:/, ''), receivedAt: r.receivedAt }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
  });
  control.listen(0, host);
  await once(control, 'listening');
  process.stdout.write(`${JSON.stringify({ port: consumer.port, control: (control.address() as AddressInfo).port })}\n`);
  process.once('SIGTERM', () => {
    control.close();
    void consumer.close().then(() => process.exit(0));
  });
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`consumer process: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}
