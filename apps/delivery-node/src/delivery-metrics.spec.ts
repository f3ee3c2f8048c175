import { Registry } from 'prom-client';
import { DeliveryMetrics } from './delivery-metrics';

describe('DeliveryMetrics', () => {
  it('two nodes in one process count on their own registries', async () => {
    const [a, b] = [new Registry(), new Registry()];
    const [nodeA, nodeB] = [new DeliveryMetrics(a), new DeliveryMetrics(b)];
    nodeA.observe({ success: true, statusCode: 200, latencyMs: 12 });
    nodeA.observe({ success: false, statusCode: 503, latencyMs: 40 });
    nodeB.reconciled.inc(3);

    const text = { a: await a.metrics(), b: await b.metrics() };
    expect(text.a).toMatch(/^webhook_delivery_attempts_total\{result="success"\} 1$/m);
    expect(text.a).toMatch(/^webhook_delivery_attempts_total\{result="http_5xx"\} 1$/m);
    expect(text.a).toMatch(/^webhook_deliveries_reconciled_total 0$/m);
    expect(text.b).not.toMatch(/^webhook_delivery_attempts_total\{/m);
    expect(text.b).toMatch(/^webhook_deliveries_reconciled_total 3$/m);
  });
});
