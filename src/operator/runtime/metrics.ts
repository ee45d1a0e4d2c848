// The operator's Prometheus metrics, on a registry of its own (never prom-client's global default, so tests and
// several managers in one process do not collide), plus Node's default process metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly reconcileErrors: Counter<'controller' | 'error'>;
  readonly queueDepth: Gauge<'controller'>;
  readonly queueAdds: Counter<'controller'>;
  readonly queueRetries: Counter<'controller'>;
  readonly statusWrites: Counter<'controller'>;
  readonly leader: Gauge;
  readonly informerRestarts: Counter<'resource' | 'cause'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.reconcileTotal = new Counter({
      name: 'perennial_reconcile_total',
      help: 'Reconciles by controller and result (success, requeue, error, stale).',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'perennial_reconcile_duration_seconds',
      help: 'Time spent in one reconcile.',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'perennial_reconcile_errors_total',
      help: 'Failed reconciles by controller and error class.',
      labelNames: ['controller', 'error'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'perennial_workqueue_depth',
      help: 'Keys waiting for a worker.',
      labelNames: ['controller'],
      registers,
    });
    this.queueAdds = new Counter({
      name: 'perennial_workqueue_adds_total',
      help: 'Keys added to the work queue.',
      labelNames: ['controller'],
      registers,
    });
    this.queueRetries = new Counter({
      name: 'perennial_workqueue_retries_total',
      help: 'Keys re-added with backoff after a failure.',
      labelNames: ['controller'],
      registers,
    });
    this.statusWrites = new Counter({
      name: 'perennial_status_writes_total',
      help: 'Status subresource writes.',
      labelNames: ['controller'],
      registers,
    });
    this.leader = new Gauge({
      name: 'perennial_leader',
      help: '1 while this instance holds the leader Lease.',
      registers,
    });
    this.informerRestarts = new Counter({
      name: 'perennial_informer_restarts_total',
      help: 'Informer restarts by resource and cause (error, watchdog).',
      labelNames: ['resource', 'cause'],
      registers,
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Current value of a counter or gauge series (for tests and the status writer's callers). */
  async value(name: string, labels: Readonly<Record<string, string>> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) return 0;
    const data = await metric.get();
    let sum = 0;
    for (const v of data.values) {
      const l = v.labels as Record<string, string | number | undefined>;
      if (Object.entries(labels).every(([k, want]) => String(l[k]) === want)) sum += v.value;
    }
    return sum;
  }
}
