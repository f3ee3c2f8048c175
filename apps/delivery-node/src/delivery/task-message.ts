import { isUuid } from '@app/domain';
import type { DeliveryTask } from '@app/messaging';

/** What a message on `deliveries.<p>` carries: one task (as the config service writes) or a batch (as fan-out writes). */
export interface TaskMessageContent {
  tasks: DeliveryTask[];
  /** Entries that are not a task: left out (and logged by the caller). */
  invalid: number;
  /** Copies of deliveries recorded before: send only those still waiting for a first send. */
  recheck: boolean;
  /** When fan-out wrote the deliveries' rows, by the database's clock (ms since the epoch), if the message says. */
  recordedAt?: number;
}

/** A task as fan-out or the config service wrote it, or undefined for anything else. */
export function asTask(t: unknown): DeliveryTask | undefined {
  if (!t || typeof t !== 'object') return undefined;
  const c = t as Partial<DeliveryTask>;
  const ok =
    isUuid(c.event_id) &&
    isUuid(c.webhook_id) &&
    isUuid(c.account_id) &&
    typeof c.type === 'string' &&
    typeof c.time === 'string' &&
    !Number.isNaN(Date.parse(c.time)) &&
    typeof c.is_test === 'boolean';
  return ok ? (c as DeliveryTask) : undefined;
}

/** The tasks of a message, or undefined when it holds no task at all (not JSON, not a task, an empty batch). */
export function readTaskMessage(data: Uint8Array): TaskMessageContent | undefined {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!body || typeof body !== 'object') return undefined;
  const list = (body as { tasks?: unknown }).tasks;
  if (!Array.isArray(list)) {
    const task = asTask(body);
    return task && { tasks: [task], invalid: 0, recheck: false };
  }
  const tasks = list.map(asTask).filter((t): t is DeliveryTask => t !== undefined);
  if (!tasks.length) return undefined;
  const recordedAt = (body as { recorded_at?: unknown }).recorded_at;
  return {
    tasks,
    invalid: list.length - tasks.length,
    recheck: (body as { recheck?: unknown }).recheck === true,
    ...(typeof recordedAt === 'number' && Number.isFinite(recordedAt) ? { recordedAt } : {}),
  };
}
