// A supervised informer: client-node's makeInformer/ListWatch does the list and the watch, and this class makes
// it survive what it does not (client-node issues #364 #596 #958 #1933 #1598 #2893):
//   - ListWatch stops for good on any watch or list error other than 410: restart it, with exponential backoff,
//     one restart at a time (errors arriving while a restart is pending are ignored);
//   - silent stalls: a watchdog forces a relist when nothing (event, connect, list) happened for watchdogMs;
//   - every (re)start is a fresh ListWatch, so it relists, and the relist REPLACES this cache: objects missing
//     from the new list are deleted and handlers told, the way client-go's DeltaFIFO.Replace does (a plain
//     restart would miss deletions that happened while the watch was down);
//   - events and errors from an abandoned ListWatch are ignored (each start has an epoch), so the abort of an old
//     watch cannot trigger a restart storm;
//   - replayed events with a resourceVersion we already hold change nothing and reach no handler;
//   - `synced` resolves after the first complete list.
// The cache is the informer's own map of plain JSON objects; handlers get (event, object) and, in the manager,
// only enqueue keys.
import { type KubeConfig, type KubernetesListObject, type KubernetesObject, makeInformer } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from './clock.js';
import { toKubeError } from './errors.js';
import type { KubeHttp } from './kube-http.js';
import { matches, parseSelector } from './label-selector.js';
import { type Logger, errorFields } from './log.js';
import type { RuntimeMetrics } from './metrics.js';
import { ExponentialBackoff } from './work-queue.js';
import { type KubeObject, type ResourceRef, apiVersionOf, keyString, resourcePath } from './resource.js';

export type InformerEvent = 'add' | 'update' | 'delete';
export type InformerHandler<T> = (event: InformerEvent, obj: T) => void;

/** Read-only view of an informer's cache. Returned objects are shared: never mutate them. */
export interface CacheReader<T extends KubeObject> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string, labelSelector?: string | Readonly<Record<string, string>>): T[];
  hasSynced(): boolean;
}

export interface InformerOptions {
  readonly kubeConfig: KubeConfig;
  readonly http: KubeHttp;
  readonly ref: ResourceRef;
  /** '' = all namespaces (or a cluster-scoped type). */
  readonly namespace: string;
  readonly labelSelector?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: RuntimeMetrics;
  readonly restartBaseMs?: number;
  readonly restartCapMs?: number;
  /** Relist when nothing was heard for this long. Default 5 minutes. */
  readonly watchdogMs?: number;
  readonly pageSize?: number;
}

type Epoch = number;

/** A ListWatch that ran this long without an error counts as healthy: the restart backoff starts over. */
const stableRunMs = 60_000;

export class Informer<T extends KubeObject> implements CacheReader<T> {
  readonly ref: ResourceRef;
  /** Resolves after the first complete list. */
  readonly synced: Promise<void>;
  private readonly store = new Map<string, T>();
  private readonly handlers: Array<InformerHandler<T>> = [];
  private readonly backoff: ExponentialBackoff;
  private readonly watchdogMs: number;
  private readonly log: Logger;
  private listWatch: { stop(): Promise<void> } | undefined;
  private epoch: Epoch = 0;
  private running = false;
  private isSynced = false;
  private resolveSynced: () => void = () => undefined;
  private restartTimer: TimerHandle | undefined;
  private watchdogTimer: TimerHandle | undefined;
  private lastActivity = 0;
  private lastStartAt = 0;
  private relists = 0;

  constructor(private readonly options: InformerOptions) {
    this.ref = options.ref;
    this.backoff = new ExponentialBackoff(options.restartBaseMs ?? 500, options.restartCapMs ?? 30_000);
    this.watchdogMs = options.watchdogMs ?? 5 * 60_000;
    this.log = options.logger.child({ informer: this.resourceName() });
    this.synced = new Promise((resolve) => {
      this.resolveSynced = resolve;
    });
  }

  /** Registers a handler; it must be cheap and must not throw (errors are logged and swallowed). */
  onEvent(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.lastActivity = this.options.clock.now();
    this.armWatchdog(this.watchdogMs);
    this.startListWatch();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.epoch++;
    if (this.restartTimer) this.options.clock.clearTimeout(this.restartTimer);
    if (this.watchdogTimer) this.options.clock.clearTimeout(this.watchdogTimer);
    this.restartTimer = undefined;
    this.watchdogTimer = undefined;
    const lw = this.listWatch;
    this.listWatch = undefined;
    await lw?.stop();
  }

  hasSynced(): boolean {
    return this.isSynced;
  }

  /** Complete lists so far (the first one, plus one per restart or forced relist). */
  get listCount(): number {
    return this.relists;
  }

  get(namespace: string, name: string): T | undefined {
    return this.store.get(keyString({ namespace: this.options.ref.namespaced ? namespace : '', name }));
  }

  list(namespace?: string, labelSelector?: string | Readonly<Record<string, string>>): T[] {
    const selector = labelSelector === undefined ? undefined : parseSelector(labelSelector);
    const out: T[] = [];
    for (const obj of this.store.values()) {
      if (namespace !== undefined && namespace !== '' && obj.metadata?.namespace !== namespace) continue;
      if (selector && !matches(selector, obj.metadata?.labels)) continue;
      out.push(obj);
    }
    return out;
  }

  private resourceName(): string {
    const { group, plural } = this.options.ref;
    return group === '' ? plural : `${plural}.${group}`;
  }

  private startListWatch(): void {
    const epoch = ++this.epoch;
    this.lastStartAt = this.options.clock.now();
    const { kubeConfig, ref, namespace, labelSelector } = this.options;
    const path = resourcePath(ref, namespace);
    const lw = makeInformer<KubernetesObject>(kubeConfig, path, () => this.listAll(epoch), labelSelector);
    const current = (): boolean => epoch === this.epoch && this.running;
    lw.on('add', (obj) => {
      if (current()) this.upsert(obj as unknown as T);
    });
    lw.on('update', (obj) => {
      if (current()) this.upsert(obj as unknown as T);
    });
    lw.on('delete', (obj) => {
      if (current()) this.remove(obj as unknown as T);
    });
    lw.on('connect', () => {
      if (current()) this.touch();
    });
    lw.on('error', (err?: unknown) => {
      if (current()) this.scheduleRestart('error', err);
    });
    this.listWatch = lw;
    lw.start().catch((e: unknown) => {
      if (current()) this.scheduleRestart('error', e);
    });
  }

  /** The list function given to ListWatch: pages through the collection, then replaces the cache with it. */
  private async listAll(epoch: Epoch): Promise<KubernetesListObject<KubernetesObject>> {
    const { http, ref, namespace, labelSelector, pageSize } = this.options;
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await http.request<{ metadata?: { resourceVersion?: string; continue?: string }; items?: T[] }>(
        'GET', resourcePath(ref, namespace), {
          query: { limit: pageSize ?? 500, continue: cont, labelSelector },
        });
      // List items carry no apiVersion/kind; set them so cached objects look like watched ones.
      for (const item of page.items ?? []) items.push({ ...item, apiVersion: apiVersionOf(ref), kind: ref.kind });
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    if (epoch === this.epoch && this.running) {
      this.replace(items);
      this.relists++;
      this.touch();
      if (!this.isSynced) {
        this.isSynced = true;
        this.resolveSynced();
        this.log.info('informer synced', { objects: items.length });
      }
    }
    return {
      apiVersion: apiVersionOf(ref),
      kind: `${ref.kind}List`,
      metadata: { resourceVersion },
      items: items as unknown as KubernetesObject[],
    };
  }

  private replace(items: readonly T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      seen.add(this.keyOf(obj));
      this.upsert(obj, false);
    }
    for (const [key, obj] of [...this.store.entries()]) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.emit('delete', obj);
      }
    }
  }

  private upsert(obj: T, touch = true): void {
    if (touch) this.touch();
    const key = this.keyOf(obj);
    const old = this.store.get(key);
    const rv = obj.metadata?.resourceVersion;
    if (old && rv !== undefined && old.metadata?.resourceVersion === rv) return;
    this.store.set(key, obj);
    this.emit(old ? 'update' : 'add', obj);
  }

  private remove(obj: T): void {
    this.touch();
    const key = this.keyOf(obj);
    if (!this.store.delete(key)) return;
    this.emit('delete', obj);
  }

  private keyOf(obj: T): string {
    return keyString({ namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' });
  }

  private emit(event: InformerEvent, obj: T): void {
    for (const h of this.handlers) {
      try {
        h(event, obj);
      } catch (e: unknown) {
        this.log.error('informer handler failed', errorFields(e));
      }
    }
  }

  private touch(): void {
    this.lastActivity = this.options.clock.now();
  }

  private scheduleRestart(cause: 'error' | 'watchdog', err?: unknown): void {
    if (!this.running || this.restartTimer) return;
    // Abandon the current ListWatch at once: its late events and errors belong to an old epoch.
    this.epoch++;
    const old = this.listWatch;
    this.listWatch = undefined;
    void old?.stop();
    // The backoff resets only after a run that lasted: a list that succeeds followed by a watch that fails at once
    // must not restart (and relist) at the base rate forever (client-node #1933).
    if (this.options.clock.now() - this.lastStartAt > stableRunMs) this.backoff.forget('restart');
    const delay = cause === 'watchdog' ? 0 : this.backoff.when('restart');
    this.options.metrics?.informerRestarts.inc({ resource: this.resourceName(), cause });
    this.log.warn('informer restarting', {
      cause, delayMs: delay, ...(err === undefined ? {} : errorFields(toKubeError(err))),
    });
    this.restartTimer = this.options.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.running) return;
      this.startListWatch();
    }, delay);
  }

  private armWatchdog(ms: number): void {
    this.watchdogTimer = this.options.clock.setTimeout(() => {
      this.watchdogTimer = undefined;
      if (!this.running) return;
      const silent = this.options.clock.now() - this.lastActivity;
      if (silent >= this.watchdogMs) {
        this.touch(); // the restart itself counts, so a dead server gives one forced relist per period
        if (!this.restartTimer) this.scheduleRestart('watchdog');
        this.armWatchdog(this.watchdogMs);
      } else {
        this.armWatchdog(this.watchdogMs - silent);
      }
    }, ms);
  }
}
