'use strict';
/**
 * A webhook consumer for the platform, on Express and the `standardwebhooks` library.
 *
 * For each POST to WEBHOOK_PATH it:
 *   1. checks the API key header (API_KEY) or the OAuth bearer token it issued itself (OAUTH_CLIENT_ID),
 *   2. verifies the Standard Webhooks signature over the raw body (WEBHOOK_SECRET, whsec_...),
 *      which also rejects a webhook-timestamp more than 5 minutes off,
 *   3. answers 204 at once, then processes: skips an event id it has already seen, leaves test
 *      events (is_test) at that, and fetches the full event from GET /v2/events/{id}.
 *
 * It writes one JSON line per decision on stdout ({"msg": "processed", ...}), which is what a real
 * consumer would replace with its own business logic.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const express = require('express');
const { Webhook } = require('standardwebhooks');

const env = process.env;
const settings = {
  host: env.HOST || '127.0.0.1',
  port: Number(env.PORT || 8443),
  path: env.WEBHOOK_PATH || '/webhooks',
  tlsCert: env.TLS_CERT_FILE,
  tlsKey: env.TLS_KEY_FILE,
  secret: required('WEBHOOK_SECRET'),
  apiKeyHeader: (env.API_KEY_HEADER || 'X-Api-Key').toLowerCase(),
  apiKey: env.API_KEY,
  oauthClientId: env.OAUTH_CLIENT_ID,
  oauthClientSecret: env.OAUTH_CLIENT_SECRET,
  platformUrl: (env.PLATFORM_URL || 'http://127.0.0.1:3000').replace(/\/+$/, ''),
  platformToken: env.PLATFORM_TOKEN,
};
if (!settings.apiKey && !settings.oauthClientId) fail('set API_KEY (API-key webhooks) or OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET (OAuth webhooks)');
if (settings.oauthClientId && !settings.oauthClientSecret) fail('OAUTH_CLIENT_SECRET is required with OAUTH_CLIENT_ID');

function required(name) {
  if (!env[name]) fail(`${name} is required`);
  return env[name];
}
function fail(message) {
  console.error(`node-express consumer: ${message}`);
  process.exit(2);
}
function log(fields) {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...fields }) + '\n');
}

const webhook = new Webhook(settings.secret);
/** Event ids already taken in. A real consumer keeps these in its database (a unique key). */
const seen = new Set();
/** Access tokens this consumer's token endpoint issued: token -> expiry (ms). */
const issuedTokens = new Map();

function safeEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function authorised(req) {
  if (settings.apiKey) return safeEqual(req.get(settings.apiKeyHeader) || '', settings.apiKey);
  const match = /^Bearer (.+)$/.exec(req.get('authorization') || '');
  const expires = match && issuedTokens.get(match[1]);
  return Boolean(expires && expires > Date.now());
}

const app = express();
app.disable('x-powered-by');

// OAuth 2.0 client credentials (RFC 6749 4.4): the platform fetches a token here before it delivers.
// Client authentication by Basic header or by form fields, as the platform may send either or both.
app.post('/oauth/token', express.urlencoded({ extended: false, limit: '16kb' }), (req, res) => {
  if (!settings.oauthClientId) return res.status(404).end();
  let id = req.body.client_id;
  let secret = req.body.client_secret;
  const basic = /^Basic (.+)$/.exec(req.get('authorization') || '');
  if (basic) {
    const [u, p] = Buffer.from(basic[1], 'base64').toString().split(':');
    id = decodeURIComponent(u || '');
    secret = decodeURIComponent(p || '');
  }
  if (req.body.grant_type !== 'client_credentials') return res.status(400).json({ error: 'unsupported_grant_type' });
  if (!safeEqual(id || '', settings.oauthClientId) || !safeEqual(secret || '', settings.oauthClientSecret)) return res.status(401).json({ error: 'invalid_client' });
  const token = crypto.randomBytes(24).toString('base64url');
  issuedTokens.set(token, Date.now() + 3600_000);
  res.json({ access_token: token, token_type: 'Bearer', expires_in: 3600 });
});

// The raw body is needed: the signature covers the exact bytes sent.
app.post(settings.path, express.raw({ type: '*/*', limit: '64kb' }), (req, res) => {
  const webhookId = req.get('webhook-id');
  if (!authorised(req)) {
    log({ msg: 'rejected', reason: 'unauthorised', webhook_id: webhookId });
    return res.status(401).end();
  }
  let body;
  try {
    body = webhook.verify(req.body.toString('utf8'), {
      'webhook-id': webhookId,
      'webhook-timestamp': req.get('webhook-timestamp'),
      'webhook-signature': req.get('webhook-signature'),
    });
  } catch (err) {
    log({ msg: 'rejected', reason: `signature: ${err.message}`, webhook_id: webhookId });
    return res.status(400).end();
  }
  // Answer first (the platform waits at most 10 s); the work happens after.
  res.status(204).end();
  setImmediate(() => processEvent(body).catch((err) => log({ msg: 'failed', event_id: body.id, error: String(err && err.message) })));
});

async function processEvent(thin) {
  if (seen.has(thin.id)) {
    log({ msg: 'duplicate', event_id: thin.id });
    return;
  }
  seen.add(thin.id);
  if (thin.is_test) {
    log({ msg: 'test-event', event_id: thin.id, type: thin.type });
    return;
  }
  const event = await fetchEvent(thin.id);
  log({ msg: 'processed', event_id: thin.id, type: thin.type, object_type: event.object_type, object: event.object });
}

/** The full event (the webhook body is thin on purpose), retried a few times on failure. */
async function fetchEvent(id) {
  if (!settings.platformToken) throw new Error('PLATFORM_TOKEN is not set, cannot fetch the event');
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${settings.platformUrl}/v2/events/${encodeURIComponent(id)}`, {
        headers: { authorization: `Bearer ${settings.platformToken}`, accept: 'application/json' },
      });
      if (res.ok) return await res.json();
      throw new Error(`GET /v2/events/${id} answered ${res.status}`);
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}

const server = settings.tlsCert
  ? https.createServer({ cert: fs.readFileSync(settings.tlsCert), key: fs.readFileSync(settings.tlsKey || fail('TLS_KEY_FILE is required with TLS_CERT_FILE')) }, app)
  : http.createServer(app);
server.listen(settings.port, settings.host, () => {
  const { port } = server.address();
  log({ msg: 'listening', url: `${settings.tlsCert ? 'https' : 'http'}://${settings.host}:${port}${settings.path}` });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
