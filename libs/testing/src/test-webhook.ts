/** The API key every `testWebhook` sends unless told otherwise (tests look for it where it must not show). */
export const TEST_WEBHOOK_KEY = 'key-secret-abcdef';

/**
 * The body of a valid create-webhook request: an API-key webhook at an address nothing answers,
 * subscribed to identity approvals; `over` replaces any field or adds one (e.g. rate_limit).
 */
export function testWebhook(name: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    url: 'https://hooks.example.com/paxos',
    auth_type: 'API_KEY',
    api_key: { header: 'X-Api-Key', key: TEST_WEBHOOK_KEY },
    event_types: ['identity.approved'],
    ...over,
  };
}
