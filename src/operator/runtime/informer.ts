// A supervised informer: it lists (paged, through KubeHttp) and then watches from the list's resourceVersion with
// client-node's Watch (one streaming request, one JSON.parse per event line), and survives what a bare ListWatch
// does not (client-node issues #364 #596 #958 #1933 #1598 #2893):
//   - a watch or list error ends the run: it is restarted with exponential backoff, one restart at a time (errors
//     arriving while a restart is pending are ignored); a watch the server ends cleanly resumes from the last
//     resourceVersion seen (events or bookmarks), and one the server answers with 410 Gone relists at once;
//   - silent stalls: a watchdog forces a relist when nothing (event, connect, list) happened for watchdogMs;
//   - every (re)start relists, and the relist REPLACES this cache: objects missing from the new list are deleted
//     and handlers told, the way client-go's DeltaFIFO.Replace does (a plain restart would miss deletions that
//     happened while the watch was down);
//   - events and errors from an abandoned run are ignored (each start has an epoch), so the abort of an old watch
//     cannot trigger a restart storm;
//   - replayed events with a resourceVersion we already hold change nothing and reach no handler;
//   - `synced` resolves after the first complete list.
// The cache is the informer's one map of plain JSON objects, by namespace (client-node's ListWatch would keep a
// second map of every object). Each listed or watched object goes through the `transform` first, so the cache
// holds only what the controllers read (cache-shapes.ts says what that is per resource); the full object is
// garbage as soon as the event is handled. Handlers get (event, object) and, in the manager, only enqueue keys.
// Indexes (client-go's Indexers): a named function gives the values an object is found under in its namespace, kept
// as the cache changes, so "the ModelDeployments serving pipeline P" reads those few objects, not every object of
// the namespace on each reconcile (quadratic: at 2,500 of each in a namespace it was most of a reconcile's CPU).
import { type KubeConfig, Watch } from '@kubernetes/client-node';
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
/** The values an object is found under in an index (in its own namespace); must not throw. */
export type IndexValues<T> = (obj: T) => readonly string[];

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
  /**
   * What the cache keeps of each object (e.g. without managedFields, or only the fields a controller reads). It
   * gets the object as the server sent it and must return a new object or the same one; it must not throw.
   * Default: the object as it is.
   */
  readonly transform?: (obj: KubeObject) => KubeObject;
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

interface WatchEvent {
  readonly type?: string;
  readonly object?: KubeObject & { readonly code?: number };
}

/** The index indexLabel adds for a label key. */
function labelIndex(key: string): string {
  return `label ${key}`;
}

/** A ListWatch that ran this long without an error counts as healthy: the restart backoff starts over. */
const stableRunMs = 60_000;

export class Informer<T extends KubeObject> implements CacheReader<T> {
  readonly ref: ResourceRef;
  /** Resolves after the first complete list. */
  readonly synced: Promise<void>;
  /** namespace → name → object ('' for a cluster-scoped type). */
  private readonly store = new Map<string, Map<string, T>>();
  private size = 0;
  private readonly handlers: Array<InformerHandler<T>> = [];
  /** index name → its function and `namespace \0 value` → names of the objects found under it. */
  private readonly indexes = new Map<string, { readonly values: IndexValues<T>; readonly entries: Map<string, Set<string>> }>();
  private readonly backoff: ExponentialBackoff;
  private readonly watchdogMs: number;
  private readonly log: Logger;
  private watchAbort: AbortController | undefined;
  /** The resourceVersion the next watch starts from: the list's, then each event's and bookmark's. */
  private resourceVersion = '';
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

  /**
   * Adds an index before the informer starts (a second call with the same name keeps the first: controllers that
   * share the informer share the index).
   */
  addIndex(name: string, values: IndexValues<T>): void {
    if (this.indexes.has(name)) return;
    if (this.running) throw new Error(`index ${name} added after the informer started`);
    this.indexes.set(name, { values, entries: new Map() });
  }

  /** Indexes a label: list() with an equality on it in a namespace reads only the objects carrying that value. */
  indexLabel(key: string): void {
    this.addIndex(labelIndex(key), (obj) => {
      const value = obj.metadata?.labels?.[key];
      return value === undefined ? [] : [value];
    });
  }

  /** The objects of a namespace that an index finds under a value. */
  byIndex(name: string, namespace: string, value: string): T[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`no index ${name} on ${this.resourceName()}`);
    const out: T[] = [];
    for (const objName of index.entries.get(`${namespace}\0${value}`) ?? []) {
      const obj = this.get(namespace, objName);
      if (obj) out.push(obj);
    }
    return out;
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
    this.abortWatch();
    await Promise.resolve();
  }

  hasSynced(): boolean {
    return this.isSynced;
  }

  /** Complete lists so far (the first one, plus one per restart or forced relist). */
  get listCount(): number {
    return this.relists;
  }

  /** Objects in the cache. */
  get objectCount(): number {
    return this.size;
  }

  get(namespace: string, name: string): T | undefined {
    return this.store.get(this.options.ref.namespaced ? namespace : '')?.get(name);
  }

  list(namespace?: string, labelSelector?: string | Readonly<Record<string, string>>): T[] {
    const selector = labelSelector === undefined ? undefined : parseSelector(labelSelector);
    // An equality on an indexed label reads only the objects carrying that value.
    const indexed = namespace !== undefined && namespace !== '' ? selector?.find((r) => r.op === 'eq' && this.indexes.has(labelIndex(r.key))) : undefined;
    if (indexed?.op === 'eq' && namespace !== undefined && selector) {
      return this.byIndex(labelIndex(indexed.key), namespace, indexed.value).filter((obj) => matches(selector, obj.metadata?.labels));
    }
    const out: T[] = [];
    const scopes = namespace !== undefined && namespace !== '' ? [this.store.get(namespace)] : [...this.store.values()];
    for (const objects of scopes) {
      for (const obj of objects?.values() ?? []) {
        if (selector && !matches(selector, obj.metadata?.labels)) continue;
        out.push(obj);
      }
    }
    return out;
  }

  private resourceName(): string {
    const { group, plural } = this.options.ref;
    return group === '' ? plural : `${plural}.${group}`;
  }

  /** A new run: list, then watch from the list's resourceVersion. */
  private startListWatch(): void {
    const epoch = ++this.epoch;
    this.lastStartAt = this.options.clock.now();
    this.abortWatch();
    this.listAll(epoch).then(() => this.watchFrom(epoch), (e: unknown) => {
      if (this.current(epoch)) this.scheduleRestart('error', e);
    });
  }

  private current(epoch: Epoch): boolean {
    return epoch === this.epoch && this.running;
  }

  private abortWatch(): void {
    const abort = this.watchAbort;
    this.watchAbort = undefined;
    abort?.abort();
  }

  /** Watches from this.resourceVersion; a clean end resumes from the last one seen, 410 Gone relists. */
  private watchFrom(epoch: Epoch): void {
    if (!this.current(epoch)) return;
    const { kubeConfig, ref, namespace, labelSelector } = this.options;
    let gone = false;
    const query = { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, labelSelector };
    const onEvent = (type: string, obj: WatchEvent['object']): void => {
      if (!this.current(epoch) || !obj) return;
      if (type === 'ERROR') {
        if (obj.code === 410) gone = true;
        return;
      }
      const rv = obj.metadata?.resourceVersion;
      if (rv) this.resourceVersion = rv;
      if (type === 'ADDED' || type === 'MODIFIED') this.upsert(this.shape(obj));
      else if (type === 'DELETED') this.remove(obj as T);
      else this.touch(); // BOOKMARK: only a newer resourceVersion
    };
    const onDone = (err: unknown): void => {
      if (!this.current(epoch)) return;
      if (err) this.scheduleRestart('error', err);
      else if (gone) this.startListWatch();
      else this.watchFrom(epoch);
    };
    new Watch(kubeConfig).watch(resourcePath(ref, namespace), query, onEvent, onDone).then((abort) => {
      if (this.current(epoch)) {
        this.watchAbort = abort;
        this.touch();
      } else {
        abort.abort();
      }
    }, (e: unknown) => onDone(e ?? new Error('watch failed')));
  }

  private shape(obj: KubeObject): T {
    const { transform } = this.options;
    return (transform ? transform(obj) : obj) as T;
  }

  /** Pages through the collection, then replaces the cache with it. */
  private async listAll(epoch: Epoch): Promise<void> {
    const { http, ref, namespace, labelSelector, pageSize } = this.options;
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await http.request<{ metadata?: { resourceVersion?: string; continue?: string }; items?: KubeObject[] }>(
        'GET', resourcePath(ref, namespace), {
          query: { limit: pageSize ?? 500, continue: cont, labelSelector },
        });
      // List items carry no apiVersion/kind; set them so cached objects look like watched ones.
      for (const item of page.items ?? []) items.push(this.shape({ ...item, apiVersion: apiVersionOf(ref), kind: ref.kind }));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    if (!this.current(epoch)) return;
    this.resourceVersion = resourceVersion;
    this.replace(items);
    this.relists++;
    this.touch();
    if (!this.isSynced) {
      this.isSynced = true;
      this.resolveSynced();
      this.log.info('informer synced', { objects: items.length });
    }
  }

  private replace(items: readonly T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      seen.add(keyString({ namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' }));
      this.upsert(obj, false);
    }
    for (const [namespace, objects] of [...this.store.entries()]) {
      for (const [name, obj] of [...objects.entries()]) {
        if (!seen.has(keyString({ namespace, name }))) this.remove(obj, false);
      }
    }
  }

  private upsert(obj: T, touch = true): void {
    if (touch) this.touch();
    const namespace = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    let objects = this.store.get(namespace);
    if (!objects) {
      objects = new Map();
      this.store.set(namespace, objects);
    }
    const old = objects.get(name);
    const rv = obj.metadata?.resourceVersion;
    if (old && rv !== undefined && old.metadata?.resourceVersion === rv) return;
    objects.set(name, obj);
    if (!old) this.size++;
    this.reindex(old, obj);
    this.emit(old ? 'update' : 'add', obj);
  }

  private remove(obj: T, touch = true): void {
    if (touch) this.touch();
    const namespace = obj.metadata?.namespace ?? '';
    const objects = this.store.get(namespace);
    const old = objects?.get(obj.metadata?.name ?? '');
    if (!objects || !old) return;
    objects.delete(obj.metadata?.name ?? '');
    if (objects.size === 0) this.store.delete(namespace);
    this.size--;
    this.reindex(old, undefined);
    // Handlers get the cached (shaped) object: what they were told about before.
    this.emit('delete', old);
  }

  /** Moves an object in every index from where its old version was found to where its new one is. */
  private reindex(old: T | undefined, obj: T | undefined): void {
    const { namespace = '', name = '' } = (obj ?? old)?.metadata ?? {};
    for (const { values, entries } of this.indexes.values()) {
      const before = old ? values(old) : [];
      const after = obj ? values(obj) : [];
      for (const v of before) {
        if (after.includes(v)) continue;
        const key = `${namespace}\0${v}`;
        const names = entries.get(key);
        names?.delete(name);
        if (names?.size === 0) entries.delete(key);
      }
      for (const v of after) {
        const key = `${namespace}\0${v}`;
        let names = entries.get(key);
        if (!names) {
          names = new Set();
          entries.set(key, names);
        }
        names.add(name);
      }
    }
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
    this.abortWatch();
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
