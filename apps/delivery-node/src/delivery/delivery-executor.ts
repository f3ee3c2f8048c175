import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { AppConfig } from '@app/config';
import { SecretBox } from '@app/crypto';
import { HttpSender, OAuthTokenProvider } from '@app/delivery';
import type { DeliveryTask } from '@app/messaging';
import type { IndexedWebhook } from '../webhook-index/webhook-index';
import type { AttemptOutcome } from './delivery-item';
import { PreparedWebhook, prepareWebhook, signedHeaders, thinBody } from './delivery-request';

const UNGUARDED = { mayStart: () => true, mayContinue: () => true };

/** Makes one HTTPS attempt of one delivery: body, signature, authentication, send. */
@Injectable()
export class DeliveryExecutor implements OnApplicationShutdown {
  readonly sender: HttpSender;
  readonly tokens: OAuthTokenProvider;
  /** Per webhook version: decrypted secrets, decoded signing key, fixed headers (never logged). */
  private readonly prepared = new Map<string, PreparedWebhook>();

  constructor(
    private readonly box: SecretBox,
    env: AppConfig,
  ) {
    this.sender = new HttpSender({
      allowPrivateNetworks: env.allowPrivateNetworks,
      ca: env.caFile ? readFileSync(env.caFile) : undefined,
      timeoutMs: 10_000,
      connectTimeoutMs: 3_000, // inside the cluster's fence margin (see CLUSTER_TIMING)
    });
    this.tokens = new OAuthTokenProvider(this.sender);
  }

  /**
   * One attempt. For OAuth webhooks a 401 from the endpoint invalidates the cached token and the
   * request is made once more with a fresh one (`refetched` tells the caller it used a second send).
   * `fence.mayStart` is asked right before the request goes out ('fenced': nothing was sent);
   * `fence.mayContinue` while it is in flight.
   */
  async attempt(
    webhook: IndexedWebhook,
    task: DeliveryTask,
    allowAuthRetry: boolean,
    fence: { mayStart: () => boolean; mayContinue: () => boolean } = UNGUARDED,
  ): Promise<(AttemptOutcome & { authExpired?: boolean }) | 'fenced'> {
    const body = thinBody(task);
    const prepared = this.prepare(webhook);
    const headers = signedHeaders(prepared, task, body);
    let token: string | undefined;
    if (!(webhook.auth_type === 'API_KEY' && webhook.api_key) && webhook.oauth) {
      const started = performance.now();
      try {
        token = await this.tokens.getToken(webhook.id, { client_url: webhook.oauth.client_url, client_id: webhook.oauth.client_id, client_secret: prepared.clientSecret });
      } catch (err) {
        return { success: false, error: `oauth token request failed: ${(err as Error).message}`, latencyMs: performance.now() - started };
      }
      headers.push('authorization', `Bearer ${token}`);
    }
    // Fencing again after the (possibly slow) token request: the partition may have moved meanwhile.
    if (!fence.mayStart()) return 'fenced';
    // One pool per account: its webhooks of one origin share connections; another tenant's endpoint
    // can never leave a connection in a state that reaches this one's requests.
    // A send in flight is cut the moment the fence trips: nothing of it reaches the endpoint after this
    // node's lease may have passed to another, which could then be sending for the same webhook. Its
    // request may have arrived already, so it is recorded as a failed attempt ('stopped: ...') and
    // retried by whoever owns the webhook then. A partition handed back gracefully is no fence trip:
    // its sends run to their answer (mayContinue), so a stop or a rebalance never sends one twice.
    const res = await this.sender.send({ url: webhook.url, headers, body, poolKey: webhook.account_id, mayContinue: fence.mayContinue });
    const outcome: AttemptOutcome = {
      success: res.ok,
      statusCode: res.status,
      error: res.ok ? undefined : (res.error ?? `HTTP ${res.status}`),
      latencyMs: res.latencyMs,
      responseExcerpt: res.responseExcerpt,
      retryAfterMs: res.retryAfterMs,
    };
    if (res.status === 401 && token) {
      this.tokens.invalidate(webhook.id, token);
      return { ...outcome, authExpired: allowAuthRetry };
    }
    return outcome;
  }

  /** Secrets decrypted and headers built once per webhook version. */
  private prepare(w: IndexedWebhook): PreparedWebhook {
    const cached = this.prepared.get(w.id);
    if (cached && cached.version === w.version) return cached;
    const prepared = prepareWebhook(
      w.version,
      this.box.open(w.signing_secret_enc, { owner: w.id, field: 'signing_secret' }),
      w.auth_type === 'API_KEY' && w.api_key ? { header: w.api_key.header, key: this.box.open(w.api_key.key_enc, { owner: w.id, field: 'api_key' }) } : undefined,
      w.oauth ? this.box.open(w.oauth.client_secret_enc, { owner: w.id, field: 'oauth_client_secret' }) : '',
    );
    this.prepared.set(w.id, prepared);
    return prepared;
  }

  /** Drops everything held for a webhook (deleted, or no longer this node's): decrypted secrets and its OAuth token. */
  forget(webhookId: string): void {
    this.prepared.delete(webhookId);
    this.tokens.forget(webhookId);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sender.close();
  }
}
