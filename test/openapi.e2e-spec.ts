import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv, { ValidateFunction } from 'ajv';
import { randomUUID } from 'node:crypto';
import { ApiClient, ApiResponse, eventually, testWebhook } from '@app/testing';
import { appRoutes } from './fuzz/app-routes';
import { useHarness } from './support/harness';

type Service = 'config' | 'approval';
type OpenApiDoc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> };

/** OpenAPI 3.0 `nullable` as plain JSON Schema, so Ajv checks it like any other type. */
function jsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(jsonSchema);
  if (!node || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const out = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, k === 'example' || k === 'examples' ? v : jsonSchema(v)]));
  return nullable === true ? { anyOf: [out, { type: 'null' }] } : out;
}

/**
 * The OpenAPI documents of both services: valid, covering every route the apps register, and
 * every documented operation called for real here with its answer checked against the schema
 * documented for that status (an undocumented status fails too).
 */
describe('OpenAPI documents', () => {
  const h = useHarness({ config: true, approval: true, node: 'listen' });
  const docs = {} as Record<Service, OpenApiDoc>;
  const base = {} as Record<Service, ApiClient>;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false });
  const validators = new Map<string, ValidateFunction>();
  /** `METHOD /path/{template}` of each documented operation this file has called, per service. */
  const exercised: Record<Service, Set<string>> = { config: new Set(), approval: new Set() };
  const failures: string[] = [];

  beforeAll(async () => {
    base.config = h.api;
    base.approval = h.approvalApi;
    for (const service of ['config', 'approval'] as const) {
      const res = await base[service].get('/docs/openapi.json');
      expect(res.status).toBe(200);
      docs[service] = res.body;
      ajv.addSchema(jsonSchema(res.body) as object, service);
    }
  });

  /** Express `/v2/webhooks/:id` as OpenAPI `/v2/webhooks/{id}`. */
  const template = (path: string) => path.replace(/:(\w+)/g, '{$1}');
  const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

  /** Calls one documented operation and checks the answer against the document. */
  async function call(service: Service, client: ApiClient, method: string, pathTemplate: string, path: string, body?: unknown): Promise<ApiResponse> {
    const res = await client.request(method, path, body);
    const key = `${method} ${pathTemplate}`;
    exercised[service].add(key);
    const operation = docs[service].paths[pathTemplate]?.[method.toLowerCase()];
    const documented = operation?.responses[String(res.status)];
    if (!documented) {
      failures.push(`${service} ${key} answered ${res.status}, which is not documented`);
      return res;
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0];
    const media = documented.content?.[contentType];
    if (res.status === 204 || !documented.content) {
      if (res.text) failures.push(`${service} ${key} ${res.status} has a body but documents none`);
      return res;
    }
    if (!media) {
      failures.push(`${service} ${key} ${res.status} answered ${contentType}, documented ${Object.keys(documented.content).join(', ')}`);
      return res;
    }
    const ref = `${service}#/${pointer('paths', pathTemplate, method.toLowerCase(), 'responses', String(res.status), 'content', contentType, 'schema')}`;
    let validate = validators.get(ref);
    if (!validate) validators.set(ref, (validate = ajv.compile({ $ref: ref })));
    const value = contentType.endsWith('json') ? res.body : res.text;
    if (!validate(value)) failures.push(`${service} ${key} ${res.status}: ${ajv.errorsText(validate.errors)}`);
    return res;
  }

  it('each document is valid OpenAPI', async () => {
    for (const service of ['config', 'approval'] as const) {
      await expect(SwaggerParser.validate(structuredClone(docs[service]) as never)).resolves.toBeDefined();
    }
  });

  it('documents every route the apps register', async () => {
    for (const [service, app] of [
      ['config', h.config],
      ['approval', h.approval],
    ] as const) {
      const routes = (await appRoutes(app, service))
        // The documentation's own pages and Nest's catch-all for unknown paths are not API routes.
        .filter((r) => r.method !== '*' && !r.path.startsWith('/docs'));
      expect(routes.length).toBeGreaterThan(5);
      const undocumented = routes.filter((r) => !docs[service].paths[template(r.path)]?.[r.method.toLowerCase()]);
      expect(undocumented).toEqual([]);
    }
  });

  it('documents response schemas, and every documented operation answers as documented', async () => {
    const acct = await h.platform.account('openapi');
    const token = (user: string, roles: string[]) => acct.token(user, roles);
    const cfg = (t: string) => base.config.as(t);
    const apr = (t: string) => base.approval.as(t);
    const alice = await token('alice', ['developer', 'approver', 'entity_manager']);
    const bob = await token('bob', ['developer', 'approver']);
    const operator = await token('ops', ['operator']);

    for (const service of ['config', 'approval'] as const) {
      await call(service, base[service], 'GET', '/health', '/health');
      await call(service, base[service], 'GET', '/health/live', '/health/live');
      await call(service, base[service], 'GET', '/metrics', '/metrics');
    }

    // Config service
    await call('config', cfg(alice), 'GET', '/v2/me', '/v2/me');
    await call('config', cfg(alice), 'GET', '/v2/event-types', '/v2/event-types');
    await call('config', base.config, 'GET', '/v2/webhooks', '/v2/webhooks'); // 401
    await call('config', cfg(operator), 'GET', '/v2/webhooks', '/v2/webhooks'); // 403
    await call('config', cfg(alice), 'POST', '/v2/webhooks', '/v2/webhooks', { ...testWebhook('x'), rate_limit: 0 }); // 400
    const created = await call('config', cfg(alice), 'POST', '/v2/webhooks', '/v2/webhooks', testWebhook('documented'));
    expect(created.status).toBe(201);
    const id = created.body.id;
    await call('config', cfg(alice), 'POST', '/v2/webhooks', '/v2/webhooks', testWebhook('documented')); // 409
    await call('config', cfg(alice), 'GET', '/v2/webhooks', '/v2/webhooks');
    await call('config', cfg(alice), 'GET', '/v2/webhooks/{id}', `/v2/webhooks/${id}`);
    await call('config', cfg(alice), 'GET', '/v2/webhooks/{id}', `/v2/webhooks/${randomUUID()}`); // 404
    await call('config', cfg(alice), 'PATCH', '/v2/webhooks/{id}', `/v2/webhooks/${id}`, { rate_limit: 20 });
    const test = await call('config', cfg(alice), 'POST', '/v2/webhooks/{id}/test', `/v2/webhooks/${id}/test`, { event_type: 'identity.approved' });
    expect(test.status).toBe(202);
    await call('config', cfg(alice), 'GET', '/v2/webhooks/{id}/deliveries', `/v2/webhooks/${id}/deliveries`);
    await call('config', cfg(alice), 'GET', '/v2/events', '/v2/events?is_test=true');
    await call('config', cfg(alice), 'GET', '/v2/events/{id}', `/v2/events/${test.body.event_id}`);
    await call('config', cfg(alice), 'POST', '/v2/events/{id}/redeliver', `/v2/events/${test.body.event_id}/redeliver`, {});
    await call('config', cfg(operator), 'GET', '/v2/cluster', '/v2/cluster');
    expect((await call('config', cfg(alice), 'DELETE', '/v2/webhooks/{id}', `/v2/webhooks/${id}`)).status).toBe(204);

    // Approval service: with the policy on, a create waits for approval; requests are approved,
    // rejected and cancelled.
    await call('approval', apr(alice), 'GET', '/v2/approval-policies/webhooks', '/v2/approval-policies/webhooks');
    await call('approval', apr(alice), 'PUT', '/v2/approval-policies/webhooks', '/v2/approval-policies/webhooks', { enabled: true, required_approvals: 1 });
    const pending = async (name: string) => {
      const res = await call('config', cfg(alice), 'POST', '/v2/webhooks', '/v2/webhooks', testWebhook(name));
      expect(res.status).toBe(202);
      return res.body.pending_approval_id as string;
    };
    const [a, b, c] = [await pending('approved'), await pending('rejected'), await pending('cancelled')];
    await call('approval', apr(alice), 'GET', '/v2/approvals', '/v2/approvals?status=PENDING');
    await call('approval', apr(alice), 'GET', '/v2/approvals/{id}', `/v2/approvals/${a}`);
    await call('approval', apr(alice), 'POST', '/v2/approvals/{id}/approve', `/v2/approvals/${a}/approve`); // 403: own request
    await call('approval', apr(bob), 'POST', '/v2/approvals/{id}/approve', `/v2/approvals/${a}/approve`);
    await call('approval', apr(bob), 'POST', '/v2/approvals/{id}/reject', `/v2/approvals/${b}/reject`);
    await call('approval', apr(alice), 'POST', '/v2/approvals/{id}/cancel', `/v2/approvals/${c}/cancel`);
    await call('approval', apr(alice), 'POST', '/v2/approvals/{id}/cancel', `/v2/approvals/${c}/cancel`); // 409: not pending
    const policyChange = await call('approval', apr(alice), 'PUT', '/v2/approval-policies/webhooks', '/v2/approval-policies/webhooks', { enabled: false });
    expect(policyChange.status).toBe(202);

    expect(failures).toEqual([]);
    for (const service of ['config', 'approval'] as const) {
      const documented = Object.entries(docs[service].paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
      expect(documented.filter((op) => !exercised[service].has(op))).toEqual([]);
      expect([...exercised[service]].filter((op) => !documented.includes(op))).toEqual([]);
    }
  });

  it('counts API requests by route template and status, each app on its own registry', async () => {
    const [config, approval, node] = await Promise.all([base.config.get('/metrics'), base.approval.get('/metrics'), h.nodeApi.get('/metrics')]).then((r) => r.map((m) => m.text));
    expect(config).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/v2\/webhooks\/:id",status="404"\} [1-9]/);
    expect(config).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/v2\/webhooks",status="201"\} [1-9]/);
    expect(approval).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/v2\/approvals\/:id\/approve",status="200"\} [1-9]/);
    expect(config).not.toContain('http_requests_total');
    // Three apps in this process: none counts another's requests or shows another's metrics.
    expect(config).not.toContain('route="/v2/approvals');
    expect(approval).not.toContain('route="/v2/webhooks');
    expect(config).toContain('approval_decisions_applied_total');
    expect(approval).not.toContain('approval_decisions_applied_total');
    expect(approval).toContain('approval_decisions_relayed_total');
    expect(config).not.toContain('approval_decisions_relayed_total');
    expect(node).toContain('webhook_delivery_attempts_total');
    expect(config).not.toContain('webhook_delivery_attempts_total');
    for (const text of [config, approval, node]) expect(text).toContain('process_cpu_seconds_total');
    // No raw path, whose ids would make a series per object.
    expect(config).not.toMatch(/route="[^"]*[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it('the delivery node answers liveness and readiness with its own probes', async () => {
    expect((await h.nodeApi.get('/health/live')).body).toMatchObject({ status: 'ok' });
    const ready = await eventually(
      async () => {
        const res = await h.nodeApi.get('/health');
        return res.status === 200 ? res : undefined;
      },
      { what: 'the node ready', timeoutMs: 60_000 },
    );
    expect(ready!.body.checks).toEqual({ database: 'ok', delivery: 'ok', nats: 'ok', loops: 'ok' });
    expect(ready!.body.details.nats).toEqual({ status: 'up' });
  });

  it('readiness goes red while NATS is down and green again when it returns; liveness stays green', async () => {
    const operator = await (await h.platform.account('openapi-nats-down')).token('ops', ['operator']);
    await h.platform.nats.stop();
    try {
      for (const service of ['config', 'approval'] as const) {
        await eventually(async () => (await base[service].get('/health')).status === 503, { what: `${service} readiness red`, timeoutMs: 30_000 });
        const red = await base[service].get('/health');
        expect(red.status).toBe(503);
        expect(red.headers.get('content-type')).toContain('application/problem+json');
        expect(Number(red.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(red.body.meta.checks.nats).not.toBe('ok');
        expect(red.body.meta.checks.database).toBe('ok');
        expect((await base[service].get('/health/live')).status).toBe(200);
      }
      // A route that reads NATS answers the outage as such: 503 with Retry-After, not a 500.
      const cluster = await base.config.as(operator).get('/v2/cluster');
      expect(cluster.status).toBe(503);
      expect(cluster.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(cluster.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(cluster.body).toMatchObject({ type: '/problems/service-unavailable', status: 503 });
    } finally {
      await h.platform.nats.restart(); // also after a failed check, or the file's connections would never close
    }
    for (const service of ['config', 'approval'] as const) {
      await eventually(async () => (await base[service].get('/health')).status === 200, { what: `${service} readiness green`, timeoutMs: 60_000 });
    }
  });
});
