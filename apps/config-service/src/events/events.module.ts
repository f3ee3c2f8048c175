import { Module } from '@nestjs/common';
import { DeliveriesOrmRepository, DeliveryAttemptsOrmRepository, EventsOrmRepository, WebhooksOrmRepository } from '@app/persistence';
import { DeliveriesController } from '../deliveries/deliveries.controller';
import { DeliveriesService } from '../deliveries/deliveries.service';
import { DeliveryPublisher } from '../deliveries/delivery-publisher';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

/** Events, delivery attempts, test sends and redelivery. */
@Module({
  controllers: [EventsController, DeliveriesController],
  providers: [EventsService, DeliveriesService, DeliveryPublisher, EventsOrmRepository, DeliveriesOrmRepository, DeliveryAttemptsOrmRepository, WebhooksOrmRepository],
})
export class EventsModule {}
