import { Inject } from '@nestjs/common';

export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const InjectNats = () => Inject(NATS_CONNECTION);
