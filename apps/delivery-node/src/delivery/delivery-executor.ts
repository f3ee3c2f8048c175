import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { AppConfig } from '@app/config';
import { SecretBox } from '@app/crypto';
import { HttpSender, OAuthTokenProvider } from '@app/delivery';
import type { WebhookSnapshot } from '@app/domain';
import type { DeliveryTask } from '@app/messaging';
import type { AttemptOutcome } from './delivery-item';
import { signedHeaders, thinBody } from './delivery-request';

/** Makes one HTTPS attempt of one delivery: body, signature, authentication, send. */
@Injectable()
export class DeliveryExecutor implements OnApplicationShutdown {
  readonly sender: HttpSender;
  readonly tokens: OAuthTokenProvider;
  private readonly secrets = new Map<string, { version: number; values: Record<string, string> }>();

  constructor(
    private readonly box: SecretBox,
    env: AppConfig,
  ) {
    this.sender = new HttpSender({
      allowPrivateNetworks: env.allowPrivateNetworks,
      ca: env.caFile ? readFileSync(env.caFile) : undefined,
      timeoutMs: 10_000,
      connectTimeoutMs: 3_000, // inside the cluster's fence margin (see CLUSTER_TIMING)
      connectionsPerOrigin: 64,
    });
    this.tokens = new OAuthTokenProvider(this.sender);
  }

  /**
   * One attempt. For OAuth webhooks a 401 from the endpoint invalidates the cached token and the
   * request is made once more with a fresh one (`refetched` tells the caller it used a second send).
   */
  async attempt(
    webhook: WebhookSnapshot,
    task: DeliveryTask,
    allowAuthRetry: boolean,
    mayStillSend: () => boolean = () => true,
  ): Promise<(AttemptOutcome & { authExpired?: boolean }) | 'fenced'> {
    const body = thinBody(task);
    const secrets = this.decrypted(webhook);
    const headers = signedHeaders(task, body, secrets.signing);
    let token: string | undefined;
    if (webhook.auth_type === 'API_KEY' && webhook.api_key) {
      headers[webhook.api_key.header.toLowerCase()] = secrets.apiKey;
    } else if (webhook.oauth) {
      const started = performance.now();
      try {
        token = await this.tokens.getToken(webhook.id, { client_url: webhook.oauth.client_url, client_id: webhook.oauth.client_id, client_secret: secrets.clientSecret });
      } catch (err) {
        return { success: false, error: `oauth token request failed: ${(err as Error).message}`, latencyMs: performance.now() - started };
      }
      headers.authorization = `Bearer ${token}`;
    }
    // Fencing again after the (possibly slow) token request: the partition may have moved meanwhile.
    if (!mayStillSend()) return 'fenced';
    const res = await this.sender.send({ url: webhook.url, headers, body, poolKey: webhook.id });
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

  /** Decrypted secrets, cached per webhook version (never logged). */
  private decrypted(w: WebhookSnapshot): { signing: string; apiKey: string; clientSecret: string } {
    const cached = this.secrets.get(w.id);
    if (cached && cached.version === w.version) return cached.values as never;
    const values = {
      signing: this.box.open(w.signing_secret_enc, { owner: w.id, field: 'signing_secret' }),
      apiKey: w.api_key ? this.box.open(w.api_key.key_enc, { owner: w.id, field: 'api_key' }) : '',
      clientSecret: w.oauth ? this.box.open(w.oauth.client_secret_enc, { owner: w.id, field: 'oauth_client_secret' }) : '',
    };
    this.secrets.set(w.id, { version: w.version, values });
    return values;
  }

  /** Drops everything held for a deleted webhook: decrypted secrets, its connection pool, its OAuth token. */
  forget(webhookId: string): void {
    this.secrets.delete(webhookId);
    this.sender.forget(webhookId);
    this.tokens.forget(webhookId);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sender.close();
  }
}
