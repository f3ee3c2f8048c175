import { Injectable } from '@nestjs/common';
import { partitionOf } from '@app/hashing';
import { checkEvent, EventCheck, storableText, ValidEvent } from '@app/domain';
import { isDependencyUnavailable } from '@app/http-common';
import type { DeliveryTask } from '@app/messaging';
import { AccountsRepository, EventsRepository } from '@app/persistence';
import { Database } from '../database';
import { ACK_WAIT_MS } from '../delivery/partition-consumers';
import { WebhookIndex } from '../webhook-index/webhook-index';

/**
 * How long a row fan-out hands to this node's lanes is claimed: as long as a stream message's ack
 * wait, so a dead node's deliveries come back as soon on either path. A claim that runs out while
 * its delivery is still held here (a lane's few seconds of work, a send's 10 s) is taken by the
 * retry scanner as a duplicate and renewed, never sent twice.
 */
export const FANOUT_CLAIM_SECONDS = ACK_WAIT_MS / 1000;

export interface RawEvent {
  subject: string;
  data: string;
}

export interface Rejection {
  code: string;
  reason: string;
}

/** checkEvent, with anything it might throw on a hostile event turned into a rejection of that event alone. */
function checkSafely(raw: RawEvent): EventCheck {
  try {
    return checkEvent(raw.data, raw.subject.startsWith('events.') ? raw.subject.slice('events.'.length) : undefined);
  } catch (err) {
    return { ok: false, code: 'invalid', reason: storableText(`event could not be checked: ${(err as Error)?.message ?? String(err)}`, 500) };
  }
}

export interface FanoutPlan {
  /** Index-aligned with the input: null when the event is accepted, else why it goes aside. */
  rejected: (Rejection | null)[];
  /** `source`: the index of the event in the input batch; `recheck`: its event was recorded before (see DeliveryTaskBatch). */
  tasks: PlannedTask[];
}

export interface PlannedTask {
  source: number;
  partition: number;
  task: DeliveryTask;
  recheck: boolean;
  /** Recorded claimed by this node (its partition is consumed here): for its lane, not for the stream. */
  claimed: boolean;
  /** When its row was written, by the database's clock (see DeliveryTaskBatch.recorded_at). */
  recordedAt?: number;
}

/**
 * Turns a batch of published events into delivery tasks: checks each against the contract, records
 * the valid ones and one delivery row per subscribed webhook (idempotently, so a re-run after a
 * crash adds nothing), and returns the tasks: to publish, or, for the partitions `consumedHere`
 * says this node consumes, claimed for this node's lanes. A claimed row is written with a due time
 * (FANOUT_CLAIM_SECONDS ahead, as a claim of the retry scanner is), so if this node dies before it
 * sends, the due-time queue delivers it; the task skips the stream's round trip. An event recorded
 * before claims nothing: its deliveries go out as copies to recheck.
 */
@Injectable()
export class FanoutService {
  private readonly knownAccounts = new Set<string>();
  /** partitionOf per webhook, for one partition count: a sha256 per task was 2 % of a busy node's CPU. */
  private readonly partitionOfWebhook = new Map<string, number>();
  private partitionCount = 0;

  constructor(
    private readonly db: Database,
    private readonly accounts: AccountsRepository,
    private readonly events: EventsRepository,
    private readonly index: WebhookIndex,
  ) {}

  async plan(batch: RawEvent[], partitions: number, consumedHere: (partition: number) => boolean = () => false): Promise<FanoutPlan> {
    const rejected: FanoutPlan['rejected'] = [];
    const valid: { i: number; event: ValidEvent }[] = [];
    batch.forEach((raw, i) => {
      const check = checkSafely(raw);
      rejected.push(check.ok ? null : { code: check.code, reason: check.reason });
      if (check.ok) valid.push({ i, event: check.event });
    });
    await this.loadAccounts(valid.map((v) => v.event.account_id));
    const accepted = valid.filter(({ i, event }) => {
      if (this.knownAccounts.has(event.account_id)) return true;
      rejected[i] = { code: 'unknown-account', reason: `account ${event.account_id} does not exist` };
      return false;
    });
    const tasks: FanoutPlan['tasks'] = [];
    // One event published twice into one batch (a publisher retrying without Nats-Msg-Id): its
    // deliveries once. Two first copies of one delivery could both be sent unchecked.
    const planned = new Set<string>();
    for (const { i, event } of accepted) {
      const key = `${event.account_id}:${event.id}`;
      if (planned.has(key)) continue;
      planned.add(key);
      for (const w of this.index.subscribers(event.account_id, event.type)) {
        const partition = this.partitionOf(w.id, partitions);
        tasks.push({
          source: i,
          partition,
          task: { event_id: event.id, webhook_id: w.id, account_id: event.account_id, type: event.type, time: event.time, is_test: false },
          recheck: false,
          claimed: consumedHere(partition),
        });
      }
    }
    const repeated = new Set<string>();
    const refused = await this.recordIsolating(
      accepted.map((a) => a.event),
      tasks,
      repeated,
    );
    for (const t of tasks) {
      t.recheck = repeated.has(t.task.event_id);
      if (t.recheck) t.claimed = false; // the statement claims nothing of a repeated event (see recordEventsWithDeliveries)
    }
    for (const { i, event } of accepted) {
      const why = refused.get(event.id);
      if (why) rejected[i] = why;
    }
    return { rejected, tasks: tasks.filter((t) => !refused.has(t.task.event_id)) };
  }

  private partitionOf(webhookId: string, partitions: number): number {
    if (partitions !== this.partitionCount) {
      this.partitionOfWebhook.clear();
      this.partitionCount = partitions;
    }
    let p = this.partitionOfWebhook.get(webhookId);
    if (p === undefined) {
      p = partitionOf(webhookId, partitions);
      if (this.partitionOfWebhook.size >= 200_000) this.partitionOfWebhook.clear();
      this.partitionOfWebhook.set(webhookId, p);
    }
    return p;
  }

  /**
   * Records the batch. When that fails for any reason but an unreachable database, the batch is
   * split in halves and each recorded alone, down to the one event that cannot be stored, which
   * goes aside: one bad event never holds back the rest. Returns the refused events with reasons.
   */
  private async recordIsolating(events: ValidEvent[], tasks: FanoutPlan['tasks'], repeated: Set<string>): Promise<Map<string, Rejection>> {
    try {
      return await this.record(events, tasks, repeated);
    } catch (err) {
      if (isDependencyUnavailable(err) || !(await this.db.reachable())) throw err;
      if (events.length === 1) return new Map([[events[0].id, { code: 'unstorable', reason: storableText((err as Error)?.message ?? String(err), 500) }]]);
    }
    const half = Math.ceil(events.length / 2);
    const refused = new Map<string, Rejection>();
    for (const part of [events.slice(0, half), events.slice(half)]) {
      const ids = new Set(part.map((e) => e.id));
      for (const [id, why] of await this.recordIsolating(
        part,
        tasks.filter((t) => ids.has(t.task.event_id)),
        repeated,
      ))
        refused.set(id, why);
    }
    return refused;
  }

  /**
   * Index-aligned: true for each event that plan() would still act on, because it is not recorded
   * (a valid event) or would go aside (an invalid one, whose dead-letter copy is stored once by id).
   */
  async unrecorded(batch: RawEvent[]): Promise<boolean[]> {
    const ids = batch.map((raw) => {
      const check = checkSafely(raw);
      return check.ok ? check.event.id : undefined;
    });
    const recorded = await this.events.findRecordedIds(ids.filter((id): id is string => id !== undefined));
    return ids.map((id) => id === undefined || !recorded.has(id));
  }

  private async loadAccounts(ids: string[]): Promise<void> {
    const unknown = [...new Set(ids)].filter((id) => !this.knownAccounts.has(id));
    if (!unknown.length) return;
    for (const id of await this.accounts.findExistingIds(unknown)) this.knownAccounts.add(id); // accounts are never deleted while events flow
  }

  /** Records the batch; adds to `repeated` the events recorded before. */
  private async record(events: ValidEvent[], tasks: FanoutPlan['tasks'], repeated: Set<string>): Promise<Map<string, Rejection>> {
    const recorded = await this.events.recordEventsWithDeliveries(
      events,
      tasks.map((t) => ({
        eventId: t.task.event_id,
        webhookId: t.task.webhook_id,
        accountId: t.task.account_id,
        partition: t.partition,
        claimSeconds: t.claimed ? FANOUT_CLAIM_SECONDS : undefined,
      })),
    );
    for (const id of recorded.repeated) repeated.add(id);
    if (recorded.recordedAt !== undefined) for (const t of tasks) t.recordedAt = recorded.recordedAt;
    // An id already recorded for another account is not this event: never mix the two.
    return new Map([...recorded.foreign].map((id) => [id, { code: 'duplicate-id', reason: `event id ${id} is already used by another account` }]));
  }
}
