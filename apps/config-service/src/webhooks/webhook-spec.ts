import { AuthType, BadRequest, DEFAULT_RATE_LIMIT, ValidationFailed } from '@app/domain';

/** A complete webhook configuration, as requested (secrets in clear, before encryption). */
export interface WebhookSpec {
  name: string;
  url: string;
  auth_type: AuthType;
  api_key: { header: string; key: string } | null;
  oauth: { client_url: string; client_id: string; client_secret: string } | null;
  event_types: string[];
  rate_limit: number;
}

export type WebhookPatch = Partial<WebhookSpec>;

/** Checks the rules that span fields: the credential block must match the auth type. */
export function normaliseSpec(input: WebhookPatch & Pick<WebhookSpec, 'name' | 'url' | 'auth_type' | 'event_types'>): WebhookSpec {
  const { auth_type } = input;
  if (auth_type === 'API_KEY') {
    if (!input.api_key) throw new ValidationFailed([{ field: 'api_key', message: 'api_key {header, key} is required when auth_type is API_KEY' }]);
    if (input.oauth) throw new ValidationFailed([{ field: 'oauth', message: 'oauth must be absent when auth_type is API_KEY' }]);
  } else {
    if (!input.oauth) throw new ValidationFailed([{ field: 'oauth', message: 'oauth {client_url, client_id, client_secret} is required when auth_type is OAUTH' }]);
    if (input.api_key) throw new ValidationFailed([{ field: 'api_key', message: 'api_key must be absent when auth_type is OAUTH' }]);
  }
  return {
    name: input.name,
    url: input.url,
    auth_type,
    api_key: auth_type === 'API_KEY' ? { header: input.api_key!.header, key: input.api_key!.key } : null,
    oauth: auth_type === 'OAUTH' ? { ...input.oauth! } : null,
    event_types: [...new Set(input.event_types)],
    rate_limit: input.rate_limit ?? DEFAULT_RATE_LIMIT,
  };
}

/** A patch may not change the auth type without the new credentials. */
export function assertPatchComplete(patch: WebhookPatch, currentAuth: AuthType): void {
  if (patch.auth_type && patch.auth_type !== currentAuth) {
    const block = patch.auth_type === 'API_KEY' ? 'api_key' : 'oauth';
    if (!patch[block]) throw new ValidationFailed([{ field: block, message: `${block} is required when changing auth_type to ${patch.auth_type}` }]);
  }
  const effective = patch.auth_type ?? currentAuth;
  if (effective === 'API_KEY' && patch.oauth) throw new ValidationFailed([{ field: 'oauth', message: 'oauth must be absent when auth_type is API_KEY' }]);
  if (effective === 'OAUTH' && patch.api_key) throw new ValidationFailed([{ field: 'api_key', message: 'api_key must be absent when auth_type is OAUTH' }]);
  if (Object.keys(patch).length === 0) throw new BadRequest('empty-patch', 'The request changes nothing: send at least one field.');
}

/** Drops absent and null fields: a patch names only what it changes. */
export function compactPatch(patch: WebhookPatch): WebhookPatch {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined && v !== null));
}

/** The configuration after applying a patch to the current one, checked as a whole. */
export function applyPatch(base: WebhookSpec, patchIn: WebhookPatch): WebhookSpec {
  const patch = compactPatch(patchIn);
  assertPatchComplete(patch, base.auth_type);
  const authType = patch.auth_type ?? base.auth_type;
  return normaliseSpec({
    ...base,
    ...patch,
    auth_type: authType,
    api_key: authType === 'API_KEY' ? (patch.api_key ?? base.api_key) : null,
    oauth: authType === 'OAUTH' ? (patch.oauth ?? base.oauth) : null,
  });
}
