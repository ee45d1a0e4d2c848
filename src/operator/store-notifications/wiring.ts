// The store-notification endpoint as the manager runs it: a webhook server beside the controllers that, for each
// notified object, marks the pipelines reading it (data-polls.ts lists their sources on the next reconcile) and
// enqueues them. With shards, only pipelines of shards this replica holds are enqueued here; the others are found
// by their own replica's next poll (the Service sends a notification to any one replica).
import { Counter } from 'prom-client';
import type { TrainingPipeline } from '../../api/training-pipeline.js';
import type { DataPolls } from '../controllers/training-pipeline/data-polls.js';
import type { CacheReader } from '../runtime/informer.js';
import type { Logger } from '../runtime/log.js';
import type { Manager, Runnable } from '../runtime/manager.js';
import { type KubeObject, keyString } from '../runtime/resource.js';
import { pipelinesReading } from './events.js';
import { StoreWebhookServer } from './webhook-server.js';

export interface StoreNotificationsOptions {
  readonly port: number;
  readonly host: string;
  readonly token: string;
  /** The TrainingPipeline controller's name (its queue) and cache. */
  readonly controller: string;
  readonly pipelines: CacheReader<KubeObject>;
  readonly dataPolls: DataPolls;
  readonly defaultBucket: string;
  readonly logger: Logger;
}

/** The webhook as a Runnable of the manager; `port` tells the bound port once started (0 = any free port). */
export function storeNotifications(manager: Manager, o: StoreNotificationsOptions): Runnable & { port(): number | undefined } {
  const requests = new Counter({
    name: 'perennial_store_notifications_total',
    help: 'Store notifications received, by result (accepted, unauthorized, invalid).',
    labelNames: ['result'],
    registers: [manager.metrics.registry],
  });
  const server = new StoreWebhookServer({
    token: o.token,
    logger: o.logger,
    onRequest: (result) => requests.inc({ result }),
    onChanges: (changes) => {
      let enqueued = 0;
      for (const key of pipelinesReading(o.pipelines.list() as unknown as TrainingPipeline[], changes, o.defaultBucket)) {
        o.dataPolls.markChanged(keyString(key));
        if (manager.enqueue(o.controller, key)) enqueued++;
      }
      return enqueued;
    },
  });
  let bound: number | undefined;
  return {
    start: async () => {
      bound = await server.listen(o.port, o.host);
      o.logger.info('store notifications listening', { port: bound });
    },
    stop: () => server.close(),
    port: () => bound,
  };
}
