// A loop event → the webhooks that want it: the install-time one and its namespace's (Secret
// perennial-notifications, read by name and kept for cacheMs, a missing Secret too). notify() never throws and
// never waits for a delivery: the sink queues.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../runtime/clock.js';
import { errorFields, type Logger } from '../runtime/log.js';
import type { ReadSecret } from '../controllers/store-credentials.js';
import { notificationBody } from './body.js';
import { namespaceSecretName, secretDestination, type Destination } from './destinations.js';
import type { LoopEvent } from './loop-events.js';
import type { WebhookSink } from './webhook-sink.js';

export interface NotifierOptions {
  readonly sink: Pick<WebhookSink, 'send'>;
  readonly install: Destination | undefined;
  readonly readSecret: ReadSecret;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long a namespace's Secret (or its absence) is kept before it is read again; default 30 s. */
  readonly cacheMs?: number;
}

interface Cached {
  readonly destination: Destination | undefined;
  readonly atMs: number;
}

export class Notifier {
  private readonly namespaces = new Map<string, Cached>();
  /** The last problem told per namespace, so a bad Secret is logged once, not at every event. */
  private readonly told = new Map<string, string>();

  constructor(private readonly o: NotifierOptions) {}

  async notify(e: LoopEvent): Promise<void> {
    try {
      const id = randomUUID();
      const targets = [this.o.install, await this.namespaceDestination(e.namespace)].filter((d): d is Destination => d !== undefined);
      for (const d of targets) this.o.sink.send(d, notificationBody(e, d.format, id), id);
    } catch (err: unknown) {
      this.o.logger.warn('notification not sent', { type: e.type, namespace: e.namespace, name: e.name, ...errorFields(err) });
    }
  }

  private async namespaceDestination(namespace: string): Promise<Destination | undefined> {
    const now = this.o.clock.now();
    const cached = this.namespaces.get(namespace);
    if (cached && now - cached.atMs < (this.o.cacheMs ?? 30_000)) return cached.destination;
    const secret = await this.o.readSecret(namespace, namespaceSecretName);
    const parsed = secretDestination(secret?.data, namespace);
    let destination: Destination | undefined;
    if (parsed?.ok === false) {
      if (this.told.get(namespace) !== parsed.problem) this.o.logger.warn('notifications secret unusable', { namespace, secret: namespaceSecretName, problem: parsed.problem });
      this.told.set(namespace, parsed.problem);
    } else {
      this.told.delete(namespace);
      destination = parsed?.destination;
    }
    this.namespaces.set(namespace, { destination, atMs: now });
    return destination;
  }
}
