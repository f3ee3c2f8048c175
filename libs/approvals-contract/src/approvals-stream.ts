import { JetStreamManager, RetentionPolicy, StorageType, StreamConfig, nanos } from 'nats';
import { APPROVALS_SUBJECT_PREFIX, STREAM_APPROVALS } from './names';
import { alreadyExists, streamNotFound } from '@app/messaging';

const DAY_MS = 24 * 60 * 60 * 1000;

function approvalsStreamConfig(replicas: number): Partial<StreamConfig> {
  return {
    name: STREAM_APPROVALS,
    subjects: [`${APPROVALS_SUBJECT_PREFIX}>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    // Kept long enough for a config service that is down for days to catch up.
    max_age: nanos(14 * DAY_MS),
    duplicate_window: nanos(10 * 60 * 1000),
  };
}

/** Creates the stream when missing; both services call it at start-up. */
export async function ensureApprovalsStream(jsm: JetStreamManager, replicas = 1): Promise<void> {
  const cfg = approvalsStreamConfig(replicas);
  try {
    await jsm.streams.info(STREAM_APPROVALS);
    return;
  } catch (err) {
    if (!streamNotFound(err)) throw err;
  }
  try {
    await jsm.streams.add(cfg);
  } catch (err) {
    // Another process created it meanwhile.
    if (!alreadyExists(err)) throw err;
  }
}
