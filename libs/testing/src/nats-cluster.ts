import { connect } from 'nats';
import { eventually } from './http-client';
import { freePort, startNatsServer, TestNatsServer } from './nats-server';

export interface TestNatsCluster {
  servers: TestNatsServer[];
  /** Every server's URL, comma-separated (the NATS_URL of a client that may fail over). */
  url: string;
  dispose(): Promise<void>;
}

/**
 * Three JetStream servers on loopback routed into one cluster, each with its own temporary store;
 * resolves once JetStream has a meta leader (streams with 3 replicas can be created).
 */
export async function startNatsCluster(size = 3): Promise<TestNatsCluster> {
  const clientPorts = await Promise.all(Array.from({ length: size }, freePort));
  const routePorts = await Promise.all(Array.from({ length: size }, freePort));
  const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
  const started = await Promise.allSettled(
    clientPorts.map((port, i) =>
      startNatsServer({
        port,
        extraArgs: ['-n', `n${i + 1}-${port}`, '--cluster_name', `test-${clientPorts[0]}`, '--cluster', `nats://127.0.0.1:${routePorts[i]}`, '--routes', routes],
      }),
    ),
  );
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // The servers that did start would otherwise outlive the test run.
    await Promise.all(started.filter((r) => r.status === 'fulfilled').map((r) => r.value.dispose()));
    throw failed.reason;
  }
  const servers = started.map((r) => (r as PromiseFulfilledResult<TestNatsServer>).value);
  const url = servers.map((s) => s.url).join(',');
  await waitForJetStreamLeader(url);
  return {
    servers,
    url,
    async dispose() {
      await Promise.all(servers.map((s) => s.dispose()));
    },
  };
}

/** Resolves once the cluster at `url` (comma-separated servers) has elected a JetStream meta leader. */
export async function waitForJetStreamLeader(url: string): Promise<void> {
  const nc = await connect({ servers: url.split(',') });
  try {
    await eventually(
      async () => {
        const jsm = await nc.jetstreamManager();
        await jsm.getAccountInfo();
        return true;
      },
      { what: 'a JetStream meta leader', timeoutMs: 30_000, intervalMs: 250 },
    );
  } finally {
    await nc.close();
  }
}
