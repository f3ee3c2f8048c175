import { Injectable, Optional } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import type { NodeLoadReport } from '@app/messaging';
import { DeliveryMetrics } from '../delivery-metrics';
import { PartitionConsumers } from '../delivery/partition-consumers';
import type { PartitionOwnership } from './partition-ownership';

const WINDOW_MS = 60_000;

/**
 * What this node tells the cluster (heartbeat, GET /v2/cluster) and Prometheus about its share:
 * attempts in the last minute and how old its partition leases' last renewals are, so an operator
 * sees an unbalanced or a fenced node at a glance.
 */
@Injectable()
export class NodeLoad {
  private readonly samples: Array<{ at: number; attempts: number }> = [];
  private ownership?: PartitionOwnership;
  readonly attemptsLastMinute: Gauge;
  readonly oldestLeaseRenewal: Gauge;
  readonly heldLeases: Gauge;
  readonly stalledPartitions: Gauge;

  constructor(
    private readonly metrics: DeliveryMetrics,
    registry: Registry,
    @Optional() private readonly consumers?: PartitionConsumers,
  ) {
    const registers = [registry];
    this.attemptsLastMinute = new Gauge({ name: 'webhook_node_attempts_last_minute', help: 'Delivery attempts this node made in the last minute', registers });
    this.oldestLeaseRenewal = new Gauge({
      name: 'webhook_oldest_lease_renewal_seconds',
      help: 'Age of the least recently renewed partition lease this node holds (a node stops delivering a partition past lease TTL minus the fence margin)',
      registers,
    });
    this.heldLeases = new Gauge({ name: 'webhook_held_leases', help: 'Partition leases this node holds (delivering or in their handover gap)', registers });
    this.stalledPartitions = new Gauge({
      name: 'webhook_stalled_partitions',
      help: 'Partitions this node owns whose stream consumer has not been running for 3 s or more (tasks from other nodes wait in the stream meanwhile)',
      registers,
      collect: () => this.stalledPartitions.set(this.consumers?.stalled().length ?? 0),
    });
  }

  use(ownership: PartitionOwnership): void {
    this.ownership = ownership;
  }

  async report(): Promise<NodeLoadReport> {
    const now = Date.now();
    const total = (await this.metrics.attempts.get()).values.reduce((s, v) => s + v.value, 0);
    this.samples.push({ at: now, attempts: total });
    while (this.samples.length > 1 && now - this.samples[1].at >= WINDOW_MS) this.samples.shift();
    const attempts = total - this.samples[0].attempts;
    const ages = this.ownership?.leaseAges() ?? new Map<number, number>();
    const oldest = ages.size ? Math.max(...ages.values()) : 0;
    this.attemptsLastMinute.set(attempts);
    this.oldestLeaseRenewal.set(oldest / 1000);
    this.heldLeases.set(ages.size);
    return { attempts_last_minute: attempts, held_leases: ages.size, oldest_lease_renewal_ms: Math.round(oldest), stalled_partitions: this.consumers?.stalled() ?? [] };
  }
}
