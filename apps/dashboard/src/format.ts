export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export const AUTH_LABEL: Record<string, string> = { API_KEY: 'API key', OAUTH: 'OAuth 2.0' };

export const STATUS_LABEL: Record<string, string> = {
  ACTIVE: 'Active',
  PENDING: 'Pending approval',
  PENDING_UPDATE: 'Update pending approval',
  PENDING_DELETION: 'Deletion pending approval',
  ERROR: 'Error',
};

/** A value of a webhook field or a proposed change, as one line of text. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) return value.map(show).join(', ');
  if (typeof value === 'object')
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${show(v)}`)
      .join('; ');
  return String(value);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
