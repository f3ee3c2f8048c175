/** The dashboard's only way out: same-origin fetches to the config API and, under /approval-api, the approval API. */
import type { ApprovalHistoryEntry, ApprovalView, AttemptView, AuthType, EventView, WebhookView } from '../../../libs/api-views/src';

// The services' own response types (type-only: nothing of the services reaches the bundle).
export type { ApprovalHistoryEntry, AuthType };
export type Webhook = WebhookView;
export type ApprovalRequest = ApprovalView;

export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  meta?: { errors?: FieldError[]; [k: string]: unknown };
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
  }
  get status(): number {
    return this.problem.status;
  }
  get fieldErrors(): FieldError[] {
    return this.problem.meta?.errors ?? [];
  }
  /** The last segment of the problem type, e.g. "duplicate-name". */
  get code(): string {
    return (this.problem.type ?? '').split('/').pop() ?? '';
  }
}

export const APPROVAL_API = '/approval-api';
const TOKEN_KEY = 'webhooks-dashboard-token';

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function storeToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let onUnauthenticated: () => void = () => undefined;
export function whenUnauthenticated(fn: () => void): void {
  onUnauthenticated = fn;
}

export interface Answer<T> {
  status: number;
  body: T;
}

export async function call<T = unknown>(method: string, path: string, body?: unknown, token = storedToken()): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store' });
  } catch {
    throw new ApiError({ status: 0, title: 'Network error', detail: 'The server cannot be reached. Check your connection and try again.' });
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const problem: Problem = parsed && typeof parsed === 'object' ? { status: res.status, ...(parsed as object) } : { status: res.status, detail: text || res.statusText };
    if (res.status === 401 && token === storedToken()) onUnauthenticated();
    throw new ApiError(problem);
  }
  return { status: res.status, body: parsed as T };
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path).then((a) => a.body),
  send: <T>(method: string, path: string, body?: unknown) => call<T>(method, path, body),
};

export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

// ---- shapes of the public contract -------------------------------------------------------------

export interface Me {
  account_id: string;
  account_name: string;
  user: string;
  roles: string[];
}

export interface EventTypeGroup {
  group: string;
  event_types: { type: string; object_type: string }[];
}

export type Attempt = AttemptView;

export type EventItem = EventView;

export interface Policy {
  enabled: boolean;
  required_approvals: number;
  pending_approval_id: string | null;
}

let catalogue: Promise<EventTypeGroup[]> | null = null;
export function eventTypeGroups(): Promise<EventTypeGroup[]> {
  catalogue ??= api
    .get<{ groups: EventTypeGroup[] }>('/v2/event-types')
    .then((r) => r.groups)
    .catch((err) => {
      catalogue = null;
      throw err;
    });
  return catalogue;
}

export function policy(): Promise<Policy> {
  return api.get<Policy>(`${APPROVAL_API}/v2/approval-policies/webhooks`);
}
