import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { publishEvent } from '@app/messaging';
import { eventually, spawnDeliveryNode, testEvent, waitForWebhooksInKv } from '@app/testing';
import { useHarness } from './support/harness';

jest.setTimeout(240_000);

const PASSWORD = `nats-pw-${randomUUID()}`;

/**
 * Every app against a nats-server that demands a user and password over TLS (its certificate from
 * a CA the test makes): the config service in process and a delivery node as its own process
 * connect with NATS_USER/NATS_PASSWORD and NATS_TLS_CA_FILE and deliver an event end to end; the
 * same node with a wrong password, or without the CA, stops at start-up with a clear line.
 */
describe('NATS with credentials and TLS', () => {
  const h = useHarness({
    consumer: true,
    natsConf: ({ pki }) => [`authorization { user: "svc", password: "${PASSWORD}" }`, `tls { cert_file: "${pki.certFile}", key_file: "${pki.keyFile}", timeout: 5 }`].join('\n'),
    env: ({ pki }) => ({ NATS_USER: 'svc', NATS_PASSWORD: PASSWORD, NATS_TLS_CA_FILE: pki.caFile, DELIVERY_PARTITIONS: '4', DELIVERY_OWNERSHIP: 'static' }),
    nats: ({ pki }) => ({ user: 'svc', pass: PASSWORD, tls: { caFile: pki.caFile } }),
    config: true,
  });

  it('the server refuses a client without credentials or without TLS', async () => {
    await expect(connect({ servers: h.platform.nats.url, tls: { caFile: h.pki.caFile } })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    await expect(connect({ servers: h.platform.nats.url, user: 'svc', pass: PASSWORD })).rejects.toThrow(/certificate/);
  });

  it('the config service and a delivery node process connect with them and deliver an event', async () => {
    const { api } = h;
    // Ready (NATS answering, loops running) once start-up has settled.
    const health = await eventually(
      async () => {
        const res = await api.get('/health');
        return res.status === 200 ? res : undefined;
      },
      { what: 'config service ready', timeoutMs: 60_000 },
    );
    expect(health!.body.checks.nats).toBe('ok');
    const acct = await h.platform.account('tls');
    const dev = api.as(await acct.token('dev', ['developer']));
    const hook = await dev.post('/v2/webhooks', {
      name: 'tls',
      url: `${h.consumer.url}/tls`,
      auth_type: 'API_KEY',
      api_key: { header: 'X-Api-Key', key: 'k-tls' },
      event_types: ['identity.*'],
    });
    expect(hook.status).toBe(201);
    await waitForWebhooksInKv(h.nc, [hook.body.id]);

    const node = await spawnDeliveryNode('tls-node', h.platform.env);
    h.onClose(() => node.stop());
    await node.ready();
    const id = randomUUID();
    await publishEvent(h.nc.jetstream(), testEvent(acct.accountId, id));
    await h.consumer.waitFor((reqs) => reqs.some((r) => r.path === '/tls' && JSON.parse(r.body).id === id), 60_000);
  });

  it.each([
    ['a wrong password', { NATS_PASSWORD: 'wrong-password' }, /NATS refused this client \(AUTHORIZATION_VIOLATION/],
    ['no CA to verify the server', { NATS_TLS_CA_FILE: '' }, /NATS refused this client \(.*certificate/],
  ])('a delivery node with %s stops at start-up, saying why', async (_what, env, message) => {
    const bad = await spawnDeliveryNode(`bad-${randomUUID().slice(0, 6)}`, { ...h.platform.env, ...env });
    h.onClose(() => bad.stop());
    await expect(bad.ready(90_000)).rejects.toThrow(/exited during start-up/);
    expect(bad.output()).toMatch(message);
    expect(bad.output()).not.toContain(PASSWORD);
  });
});
