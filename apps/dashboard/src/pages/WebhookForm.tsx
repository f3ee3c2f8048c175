import { FormEvent, InputHTMLAttributes, ReactNode, useEffect, useRef, useState } from 'react';
import { ApiError, api, AuthType, EventTypeGroup, eventTypeGroups, FieldError, policy, Webhook } from '../api';
import type { Notify } from '../App';
import { ErrorText, Loading, PageTitle } from '../components';
import { go } from '../router';

interface FormState {
  name: string;
  url: string;
  auth_type: AuthType;
  header: string;
  key: string;
  client_url: string;
  client_id: string;
  client_secret: string;
  types: Set<string>;
  rate_limit: string;
}

const EMPTY: FormState = {
  name: '',
  url: '',
  auth_type: 'API_KEY',
  header: 'X-Api-Key',
  key: '',
  client_url: '',
  client_id: '',
  client_secret: '',
  types: new Set(),
  rate_limit: '10',
};

function prefixOf(g: EventTypeGroup): string {
  return `${g.event_types[0]?.type.split('.')[0]}.*`;
}

/** Catalogue types selected by a subscription list (a group wildcard selects its whole group). */
function expand(entries: string[], groups: EventTypeGroup[]): Set<string> {
  const out = new Set<string>();
  for (const g of groups) for (const t of g.event_types) if (entries.includes(t.type) || entries.includes(prefixOf(g))) out.add(t.type);
  return out;
}

/** The subscription list for a selection: a whole group becomes its wildcard (so it includes future types of the group). */
function subscriptions(types: Set<string>, groups: EventTypeGroup[]): string[] {
  const out: string[] = [];
  for (const g of groups) {
    const all = g.event_types.every((t) => types.has(t.type));
    if (all && g.event_types.length) out.push(prefixOf(g));
    else out.push(...g.event_types.filter((t) => types.has(t.type)).map((t) => t.type));
  }
  return out;
}

function fromWebhook(w: Webhook, groups: EventTypeGroup[]): FormState {
  return {
    name: w.name,
    url: w.url,
    auth_type: w.auth_type,
    header: w.api_key?.header ?? 'X-Api-Key',
    key: '',
    client_url: w.oauth?.client_url ?? '',
    client_id: w.oauth?.client_id ?? '',
    client_secret: '',
    types: expand(w.event_types, groups),
    rate_limit: String(w.rate_limit),
  };
}

function rate(value: string): unknown {
  if (value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : value;
}

/** Which input shows an error for an API field name (nested and indexed names map to their block). */
function inputFor(field: string): string {
  const f = field.replace(/\[\d+\]|\.\d+/g, '');
  const map: Record<string, string> = {
    name: 'name',
    url: 'url',
    auth_type: 'auth_type',
    rate_limit: 'rate_limit',
    event_types: 'event_types',
    api_key: 'api_key.key',
    'api_key.header': 'api_key.header',
    'api_key.key': 'api_key.key',
    oauth: 'oauth.client_url',
    'oauth.client_url': 'oauth.client_url',
    'oauth.client_id': 'oauth.client_id',
    'oauth.client_secret': 'oauth.client_secret',
  };
  return map[f] ?? '';
}

const INPUT_ID: Record<string, string> = {
  name: 'f-name',
  url: 'f-url',
  auth_type: 'f-auth-api-key',
  rate_limit: 'f-rate',
  event_types: 'f-events',
  'api_key.header': 'f-header',
  'api_key.key': 'f-key',
  'oauth.client_url': 'f-client-url',
  'oauth.client_id': 'f-client-id',
  'oauth.client_secret': 'f-client-secret',
};

export function WebhookForm({ id, notify }: { id?: string; notify: Notify }) {
  const editing = Boolean(id);
  const [groups, setGroups] = useState<EventTypeGroup[] | null>(null);
  const [current, setCurrent] = useState<Webhook | null>(null);
  const [form, setForm] = useState<FormState>(EMPTY);
  const [approvals, setApprovals] = useState<boolean | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string>('');
  const [busy, setBusy] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [created, setCreated] = useState<Webhook | null>(null);
  const summaryRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    Promise.all([eventTypeGroups(), id ? api.get<Webhook>(`/v2/webhooks/${id}`) : Promise.resolve(null)])
      .then(([g, w]) => {
        setGroups(g);
        if (w) {
          setCurrent(w);
          setForm(fromWebhook(w, g));
        }
      })
      .catch(setLoadError);
    policy().then(
      (p) => setApprovals(p.enabled),
      () => setApprovals(null),
    );
  }, [id]);

  if (created) return <SecretShown webhook={created} />;
  if (loadError) return <ErrorText error={loadError} />;
  if (!groups || (editing && !current)) return <Loading what="the form" />;

  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setForm((f) => ({ ...f, [k]: v }));
  const toggle = (types: string[], on: boolean) =>
    setForm((f) => {
      const next = new Set(f.types);
      for (const t of types)
        if (on) next.add(t);
        else next.delete(t);
      return { ...f, types: next };
    });

  function body(): Record<string, unknown> {
    const full: Record<string, unknown> = {
      name: form.name,
      url: form.url,
      auth_type: form.auth_type,
      event_types: subscriptions(form.types, groups!),
      rate_limit: rate(form.rate_limit),
    };
    if (form.auth_type === 'API_KEY') full.api_key = { header: form.header, key: form.key };
    else full.oauth = { client_url: form.client_url, client_id: form.client_id, client_secret: form.client_secret };
    if (!current) return full;
    // An update sends only what changed; credentials only when a new secret is typed or the auth type changes.
    const patch: Record<string, unknown> = {};
    for (const k of ['name', 'url', 'rate_limit'] as const) if (full[k] !== undefined && full[k] !== current[k]) patch[k] = full[k];
    const before = subscriptions(expand(current.event_types, groups!), groups!);
    if (JSON.stringify(full.event_types) !== JSON.stringify(before)) patch.event_types = full.event_types;
    const authChanged = form.auth_type !== current.auth_type;
    if (authChanged) patch.auth_type = form.auth_type;
    if (form.auth_type === 'API_KEY' && (authChanged || form.key || form.header !== current.api_key?.header)) patch.api_key = full.api_key;
    if (form.auth_type === 'OAUTH' && (authChanged || form.client_secret || form.client_url !== current.oauth?.client_url || form.client_id !== current.oauth?.client_id))
      patch.oauth = full.oauth;
    return patch;
  }

  function localErrors(b: Record<string, unknown>): Record<string, string> {
    const e: Record<string, string> = {};
    if (current && b.api_key && !form.key) e['api_key.key'] = 'Enter the key again to change the API key settings.';
    if (current && b.oauth && !form.client_secret) e['oauth.client_secret'] = 'Enter the client secret again to change the OAuth settings.';
    if (form.types.size === 0) e.event_types = 'Choose at least one event type.';
    return e;
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setErrors({});
    setFormError('');
    const b = body();
    const local = localErrors(b);
    if (Object.keys(local).length) return showErrors(local, 'Some fields need attention.');
    if (current && Object.keys(b).length === 0) return setFormError('Nothing has changed.');
    setBusy(true);
    try {
      const r = current ? await api.send<Webhook>('PATCH', `/v2/webhooks/${current.id}`, b) : await api.send<Webhook>('POST', '/v2/webhooks', b);
      if (!current) {
        setCreated(r.body);
        notify(r.status === 202 ? 'info' : 'success', r.status === 202 ? `Webhook "${r.body.name}" submitted for approval.` : `Webhook "${r.body.name}" created.`);
      } else if (r.status === 202) {
        notify('info', `Your change to "${current.name}" awaits approval (request ${r.body.pending_approval_id}). The webhook keeps its current settings until it is approved.`);
        go(`/webhooks/${current.id}`);
      } else {
        notify('success', `Webhook "${r.body.name}" updated.`);
        go(`/webhooks/${current.id}`);
      }
    } catch (err) {
      if (!(err instanceof ApiError)) return setFormError(String(err));
      const byInput: Record<string, string> = {};
      const loose: FieldError[] = [];
      for (const fe of err.fieldErrors) {
        const k = inputFor(fe.field);
        if (k) byInput[k] = byInput[k] ? `${byInput[k]}; ${fe.message}` : fe.message;
        else loose.push(fe);
      }
      if (err.code === 'duplicate-name') byInput.name = err.message;
      showErrors(byInput, [err.message, ...loose.map((l) => `${l.field}: ${l.message}`)].join(' '));
    } finally {
      setBusy(false);
    }
  }

  function showErrors(byInput: Record<string, string>, summary: string) {
    setErrors(byInput);
    setFormError(summary);
    const first = Object.keys(INPUT_ID).find((k) => byInput[k]);
    requestAnimationFrame(() => (first ? document.getElementById(INPUT_ID[first])?.focus() : summaryRef.current?.focus()));
  }

  const err = (k: string) => errors[k];
  const described = (k: string, help?: string) => [help, err(k) ? `${INPUT_ID[k]}-error` : ''].filter(Boolean).join(' ') || undefined;
  const fieldError = (k: string) =>
    err(k) && (
      <p id={`${INPUT_ID[k]}-error`} className="field-error" data-field={k}>
        {err(k)}
      </p>
    );
  /** A labelled text input for a form field, with its help text and its error from the API. */
  const textInput = (
    k: 'name' | 'url' | 'header' | 'key' | 'client_url' | 'client_id' | 'client_secret' | 'rate_limit',
    field: string,
    label: string,
    opts: { help?: ReactNode; wide?: boolean; input?: InputHTMLAttributes<HTMLInputElement> } = {},
  ) => {
    const inputId = INPUT_ID[field];
    const helpId = opts.help ? `${inputId}-help` : undefined;
    return (
      <div className={opts.wide ? 'field wide' : 'field'}>
        <label htmlFor={inputId}>{label}</label>
        <input
          id={inputId}
          {...opts.input}
          value={form[k]}
          onChange={(e) => set(k, e.target.value)}
          aria-invalid={Boolean(err(field))}
          aria-describedby={described(field, helpId)}
        />
        {opts.help && (
          <p id={helpId} className="help">
            {opts.help}
          </p>
        )}
        {fieldError(field)}
      </div>
    );
  };
  const submitLabel = !editing ? 'Create Webhook' : approvals ? 'Submit for Approval' : 'Update Webhook';

  return (
    <section>
      <PageTitle>{editing ? `Edit webhook "${current!.name}"` : 'Create Webhook'}</PageTitle>
      {approvals && (
        <p className="notice notice-info">
          Approvals are on for this account: {editing ? 'the change' : 'the new webhook'} takes effect once an approver other than you approves it.
        </p>
      )}
      <form onSubmit={submit} noValidate className="webhook-form" aria-describedby={formError ? 'form-error' : undefined}>
        <div ref={summaryRef} tabIndex={-1}>
          {formError && (
            <p id="form-error" role="alert" className="error">
              {formError}
            </p>
          )}
        </div>
        {textInput('name', 'name', 'Name', { help: '1–100 characters, unique in this account.', input: { maxLength: 100, required: true } })}
        {textInput('url', 'url', 'Endpoint URL', {
          help: 'An https:// address, without credentials in it.',
          input: { type: 'url', inputMode: 'url', placeholder: 'https://hooks.example.com/webhooks', required: true },
        })}
        <fieldset className="field">
          <legend>Authentication</legend>
          <div className="radios">
            <label>
              <input type="radio" id="f-auth-api-key" name="auth_type" value="API_KEY" checked={form.auth_type === 'API_KEY'} onChange={() => set('auth_type', 'API_KEY')} /> API
              key
            </label>
            <label>
              <input type="radio" id="f-auth-oauth" name="auth_type" value="OAUTH" checked={form.auth_type === 'OAUTH'} onChange={() => set('auth_type', 'OAUTH')} /> OAuth 2.0
              client credentials
            </label>
          </div>
          {fieldError('auth_type')}
          {form.auth_type === 'API_KEY' ? (
            <div className="grid2">
              {textInput('header', 'api_key.header', 'Header name')}
              {textInput('key', 'api_key.key', 'Key', {
                help: current?.api_key ? `Leave empty to keep the current key (${current.api_key.key}).` : 'Sent in the header above with every delivery. Write-only.',
                input: { type: 'password', autoComplete: 'new-password' },
              })}
            </div>
          ) : (
            <div className="grid2">
              {textInput('client_url', 'oauth.client_url', 'Token URL', {
                wide: true,
                help: 'The https:// token endpoint (client credentials grant).',
                input: { type: 'url', placeholder: 'https://auth.example.com/oauth2/token' },
              })}
              {textInput('client_id', 'oauth.client_id', 'Client ID')}
              {textInput('client_secret', 'oauth.client_secret', 'Client secret', {
                help: current?.oauth ? `Leave empty to keep the current secret (${current.oauth.client_secret}).` : 'Write-only.',
                input: { type: 'password', autoComplete: 'new-password' },
              })}
            </div>
          )}
        </fieldset>
        <fieldset className="field" id="f-events" tabIndex={-1} aria-invalid={Boolean(err('event_types'))} aria-describedby={described('event_types', 'f-events-help')}>
          <legend>Event types</legend>
          <p id="f-events-help" className="help">
            {form.types.size} selected. Selecting a whole group also subscribes to types added to it later.
          </p>
          {fieldError('event_types')}
          {groups.map((g) => (
            <EventGroup key={g.group} group={g} selected={form.types} onToggle={toggle} />
          ))}
        </fieldset>
        {textInput('rate_limit', 'rate_limit', 'Rate limit (requests per second)', {
          help: '1–100; default 10. Deliveries to this webhook never exceed it.',
          input: { type: 'number', min: 1, max: 100, step: 1 },
        })}
        <div className="actions">
          <button type="submit" className="primary" id="save" disabled={busy}>
            {busy ? 'Saving…' : submitLabel}
          </button>
          <a className="button" href={editing ? `#/webhooks/${current!.id}` : '#/webhooks'}>
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}

function EventGroup({ group, selected, onToggle }: { group: EventTypeGroup; selected: Set<string>; onToggle: (types: string[], on: boolean) => void }) {
  const ref = useRef<HTMLInputElement>(null);
  const types = group.event_types.map((t) => t.type);
  const count = types.filter((t) => selected.has(t)).length;
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = count > 0 && count < types.length;
  }, [count, types.length]);
  const [open, setOpen] = useState(count > 0 && count < types.length);
  const gid = group.group.toLowerCase();
  return (
    <fieldset className="event-group" data-group={group.group}>
      <legend>
        {group.group}{' '}
        <span className="muted">
          ({count} of {types.length})
        </span>
      </legend>
      <label className="select-all">
        <input ref={ref} type="checkbox" id={`all-${gid}`} checked={count === types.length} onChange={(e) => onToggle(types, e.target.checked)} /> Select all {group.group} events
      </label>
      <button type="button" className="link" aria-expanded={open} aria-controls={`types-${gid}`} onClick={() => setOpen(!open)}>
        {open ? `Hide ${group.group} types` : `Choose ${group.group} types`}
      </button>
      <div id={`types-${gid}`} className="type-list" hidden={!open}>
        {group.event_types.map((t) => (
          <label key={t.type}>
            <input type="checkbox" value={t.type} checked={selected.has(t.type)} onChange={(e) => onToggle([t.type], e.target.checked)} /> <code>{t.type}</code>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/** The one time the signing secret is shown: after a create, also when the create awaits approval. */
function SecretShown({ webhook }: { webhook: Webhook }) {
  const [copied, setCopied] = useState('');
  const inputRef = useRef<HTMLInputElement>(null);
  const pending = Boolean(webhook.pending_approval_id);
  async function copy() {
    try {
      await navigator.clipboard.writeText(webhook.signing_secret ?? '');
      setCopied('Copied to the clipboard.');
    } catch {
      inputRef.current?.select();
      setCopied('Select the text and copy it yourself (the browser refused clipboard access).');
    }
  }
  return (
    <section aria-labelledby="secret-title" id="secret-panel">
      <PageTitle>
        <span id="secret-title">{pending ? `Webhook "${webhook.name}" submitted for approval` : `Webhook "${webhook.name}" created`}</span>
      </PageTitle>
      {pending && (
        <p className="notice notice-info" id="pending-note">
          It awaits approval (request <code>{webhook.pending_approval_id}</code>) and receives no events until an approver approves it. It will sign with the secret below once it
          is active.
        </p>
      )}
      <h2>Signing secret</h2>
      {webhook.signing_secret ? (
        <>
          <p>
            <strong>This is the only time the secret is shown.</strong> Store it where your endpoint can read it: it verifies the <code>webhook-signature</code> header of every
            delivery.
          </p>
          <div className="secret-row">
            <label htmlFor="signing-secret" className="visually-hidden">
              Signing secret
            </label>
            <input id="signing-secret" ref={inputRef} readOnly value={webhook.signing_secret} onFocus={(e) => e.target.select()} />
            <button type="button" id="copy-secret" onClick={copy}>
              Copy
            </button>
          </div>
          <p role="status" id="copy-status" className="muted">
            {copied}
          </p>
        </>
      ) : (
        <p>The API returned no signing secret for this webhook.</p>
      )}
      <div className="actions">
        <a className="button primary" href={`#/webhooks/${webhook.id}`} id="secret-done">
          I have saved it: view the webhook
        </a>
        <a className="button" href="#/webhooks">
          Back to webhooks
        </a>
      </div>
    </section>
  );
}
