import { Injectable } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';

@Injectable()
export class RelayMetrics {
  private readonly relayed: Counter;

  constructor(registry: Registry) {
    this.relayed = new Counter({
      name: 'approval_decisions_relayed_total',
      help: 'Concluded webhook approval requests handed to the config service over NATS',
      registers: [registry],
    });
  }

  countRelayed(n: number): void {
    this.relayed.inc(n);
  }
}
