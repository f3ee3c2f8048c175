import { JetStreamManager, RetentionPolicy, StorageType, StreamConfig, nanos } from 'nats';
import { alreadyExists, streamNotFound } from './nats-errors';
import { DELIVERIES_SUBJECT_PREFIX, EVENTS_DEAD_SUBJECT_PREFIX, EVENTS_SUBJECT_PREFIX, STREAM_DELIVERIES, STREAM_EVENTS, STREAM_EVENTS_DEAD } from './names';

const DAY_MS = 24 * 60 * 60 * 1000;

function streamConfigs(replicas: number): Partial<StreamConfig>[] {
  return [
    {
      name: STREAM_EVENTS,
      subjects: [`${EVENTS_SUBJECT_PREFIX}>`],
      retention: RetentionPolicy.Limits,
      max_age: nanos(7 * DAY_MS),
      duplicate_window: nanos(10 * 60 * 1000),
    },
    {
      name: STREAM_EVENTS_DEAD,
      subjects: [`${EVENTS_DEAD_SUBJECT_PREFIX}>`],
      retention: RetentionPolicy.Limits,
      max_age: nanos(30 * DAY_MS),
    },
    {
      // One subject per partition; each partition has its own consumer, so a work queue fits.
      name: STREAM_DELIVERIES,
      subjects: [`${DELIVERIES_SUBJECT_PREFIX}>`],
      retention: RetentionPolicy.Workqueue,
      max_age: nanos(7 * DAY_MS),
      duplicate_window: nanos(10 * 60 * 1000),
    },
  ].map((c) => ({ ...c, storage: StorageType.File, num_replicas: replicas }));
}

/** Creates the platform's streams when missing; safe to call from every app at start-up. */
export async function ensureStreams(jsm: JetStreamManager, replicas = 1): Promise<void> {
  for (const cfg of streamConfigs(replicas)) {
    try {
      await jsm.streams.info(cfg.name!);
    } catch (err) {
      if (!streamNotFound(err)) throw err;
      try {
        await jsm.streams.add(cfg);
      } catch (addErr) {
        // Another process created it meanwhile.
        if (!alreadyExists(addErr)) throw addErr;
      }
    }
  }
}
