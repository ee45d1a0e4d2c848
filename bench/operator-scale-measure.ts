// What the operator-scale benchmark measures, and from where:
//   - memory and CPU of a process from /proc (VmRSS; utime + stime), sampled for the peak;
//   - API requests of one user from the kube-apiserver's audit log (the honest source: every request the server
//     answered, whatever the client thinks it sent), split into writes by kind and reads;
//   - the operator's own reconcile counters, queue depths, reconcile-duration histogram, V8 heap and store calls
//     (perennial_store_requests_total, where the operator counts them) from its /metrics.
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { parsePrometheusText } from '../src/shared/server-metrics.js';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on every Linux architecture Node runs on). */
const ticksPerSecond = 100;

export interface ProcSample {
  readonly rssBytes: number;
  readonly cpuSeconds: number;
}

export function procSample(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its closing ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return { rssBytes: Number(rss?.[1] ?? 0) * 1024, cpuSeconds: (utime + stime) / ticksPerSecond };
}

/** Samples a process's RSS every intervalMs and keeps the peak since the last reset. */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number, intervalMs = 250) {
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): number {
    try {
      const rss = procSample(this.pid).rssBytes;
      this.peak = Math.max(this.peak, rss);
      return rss;
    } catch {
      return 0; // the process has exited
    }
  }

  /** The peak since the last reset (sampling once more first), and starts a new period. */
  takePeak(): number {
    this.sample();
    const p = this.peak;
    this.peak = 0;
    return p;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export const auditPolicy = (users: readonly string[]): string => [
  'apiVersion: audit.k8s.io/v1',
  'kind: Policy',
  // One event per request, when it is answered (a watch: when it ends).
  'omitStages: [RequestReceived, ResponseStarted]',
  'rules:',
  '- level: Metadata',
  `  users: [${users.map((u) => JSON.stringify(u)).join(', ')}]`,
  '- level: None',
  '',
].join('\n');

interface AuditEvent {
  readonly verb?: string;
  readonly user?: { readonly username?: string };
  readonly objectRef?: { readonly resource?: string; readonly subresource?: string; readonly namespace?: string; readonly name?: string };
  readonly requestReceivedTimestamp?: string;
  readonly responseStatus?: { readonly code?: number };
}

export interface RequestCounts {
  /** Writes other than Lease and Event writes. */
  readonly writes: number;
  readonly leaseWrites: number;
  readonly eventWrites: number;
  readonly reads: number;
  /** Writes by verb and resource, e.g. "patch trainingpipelines/status" → 3 (all kinds, for the report). */
  readonly writesBy: Readonly<Record<string, number>>;
  /** Reads by verb and resource, e.g. "list pods". */
  readonly readsBy: Readonly<Record<string, number>>;
}

const writeVerbs = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** Requests of `user` received in [fromMs, toMs), from the audit log (JSON lines). */
export function countRequests(auditLogPath: string, user: string, fromMs: number, toMs: number): RequestCounts {
  let writes = 0;
  let leaseWrites = 0;
  let eventWrites = 0;
  let reads = 0;
  const writesBy: Record<string, number> = {};
  const readsBy: Record<string, number> = {};
  for (const line of auditLines(auditLogPath)) {
    if (line === '') continue;
    const e = JSON.parse(line) as AuditEvent;
    if (e.user?.username !== user) continue;
    const at = Date.parse(e.requestReceivedTimestamp ?? '');
    if (!(at >= fromMs && at < toMs)) continue;
    const verb = e.verb ?? '?';
    const resource = e.objectRef?.resource ?? '?';
    const code = e.responseStatus?.code ?? 0;
    // A refused request (a 409 conflict, say) is still a request the server handled: counted, and named by its code.
    const what = `${verb} ${resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}${code >= 400 ? ` (${code})` : ''}`;
    if (writeVerbs.has(verb)) {
      writesBy[what] = (writesBy[what] ?? 0) + 1;
      if (resource === 'leases') leaseWrites++;
      else if (resource === 'events') eventWrites++;
      else writes++;
    } else {
      readsBy[what] = (readsBy[what] ?? 0) + 1;
      reads++;
    }
  }
  return { writes, leaseWrites, eventWrites, reads, writesBy, readsBy };
}

/** The audit log's lines, read in chunks (at 10,000 + 10,000 it may outgrow what one string holds). No file yet: no lines. */
function* auditLines(path: string): Generator<string> {
  if (!existsSync(path)) return;
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.alloc(16 << 20);
    let rest = '';
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) {
      // A chunk may end inside a line (and a UTF-8 character): only whole lines are decoded.
      const end = chunk.lastIndexOf(0x0a, n - 1);
      if (end < 0) {
        rest += chunk.toString('utf8', 0, n);
        continue;
      }
      const lines = (rest + chunk.toString('utf8', 0, end)).split('\n');
      rest = chunk.toString('utf8', end + 1, n);
      yield* lines;
    }
    if (rest !== '') yield rest;
  } finally {
    closeSync(fd);
  }
}

export interface OperatorCounters {
  /** Reconciles that ran to the end (success or requeue), by controller. */
  readonly reconciled: Readonly<Record<string, number>>;
  /** Failed reconciles, by controller. */
  readonly failed: Readonly<Record<string, number>>;
  /** Reconcile attempts of any result (stale-cache waits included), by controller. */
  readonly attempts: Readonly<Record<string, number>>;
  /** Keys waiting for a worker, summed over controllers. */
  readonly queueDepth: number;
  /** Cumulative reconcile-duration histogram over both controllers: upper bound (s) → reconciles at or under it. */
  readonly durationBuckets: ReadonlyMap<number, number>;
  /** V8 heap in use (nodejs_heap_size_used_bytes). */
  readonly heapUsedBytes: number;
  /** Where the process's memory is, as Node reports it (process.memoryUsage() and v8.getHeapSpaceStatistics()). */
  readonly memory: MemoryBreakdown;
  /** Object-store requests the operator made, all operations; undefined when it does not count them. */
  readonly storeRequests: number | undefined;
  /** Shards this replica holds (perennial_shards_held); undefined when not sharded. */
  readonly shardsHeld: number | undefined;
}

export interface MemoryBreakdown {
  /** V8 heap reserved (nodejs_heap_size_total_bytes): used + what V8 keeps for garbage and growth. */
  readonly heapTotalBytes: number;
  /** Memory of C++ objects bound to JS (Buffers, sockets): nodejs_external_memory_bytes. */
  readonly externalBytes: number;
  /** Per V8 heap space (new, old, code, large_object, ...): bytes reserved (nodejs_heap_space_size_total_bytes). */
  readonly spaceTotalBytes: Readonly<Record<string, number>>;
  /** Per V8 heap space: bytes in use (nodejs_heap_space_size_used_bytes). */
  readonly spaceUsedBytes: Readonly<Record<string, number>>;
}

/**
 * The metric families the benchmark reads, and only those: a full scrape renders every per-object series of the
 * loop metrics, which at 1,000 + 1,000 objects costs the operator about 0.3 s of its event loop each time; polled
 * every 0.2–0.5 s that is the operator's whole CPU, and the benchmark would measure itself.
 */
export const benchFamilies = [
  'perennial_reconcile_total', 'perennial_workqueue_depth', 'perennial_reconcile_duration_seconds', 'perennial_store_requests_total',
  'perennial_shards_held',
  // prom-client reads the heap figures when it collects the "total" gauge, which sets "used" and "external" too:
  // each total comes before its used.
  'nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes',
  'nodejs_heap_space_size_total_bytes', 'nodejs_heap_space_size_used_bytes',
] as const;

/**
 * The q-quantile of the reconciles between two scrapes of the histogram, linearly interpolated inside its bucket
 * (Prometheus' histogram_quantile); undefined with no reconcile in between.
 */
export function histogramQuantile(q: number, before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number | undefined {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    const upper = bounds[i] ?? 0;
    const n = counts[i] ?? 0;
    if (n >= rank) {
      // The +Inf bucket has no width: answer its lower bound, as Prometheus does.
      if (!Number.isFinite(upper)) return lower;
      return lower + ((upper - lower) * (rank - below)) / Math.max(n - below, 1e-9);
    }
    lower = upper;
    below = n;
  }
  return lower;
}

export async function scrapeOperator(metricsUrl: string): Promise<OperatorCounters | undefined> {
  let text: string;
  try {
    const query = benchFamilies.map((n) => `name=${n}`).join('&');
    const res = await fetch(`${metricsUrl}?${query}`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    text = await res.text();
  } catch {
    return undefined; // not listening yet
  }
  const reconciled: Record<string, number> = {};
  const failed: Record<string, number> = {};
  const attempts: Record<string, number> = {};
  let queueDepth = 0;
  const durationBuckets = new Map<number, number>();
  let heapUsedBytes = 0;
  let heapTotalBytes = 0;
  let externalBytes = 0;
  const spaceTotalBytes: Record<string, number> = {};
  const spaceUsedBytes: Record<string, number> = {};
  let storeRequests: number | undefined;
  let shardsHeld: number | undefined;
  for (const s of parsePrometheusText(text)) {
    const controller = s.labels['controller'] ?? '';
    if (s.name === 'perennial_reconcile_duration_seconds_bucket') {
      const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
      durationBuckets.set(le, (durationBuckets.get(le) ?? 0) + s.value);
    } else if (s.name === 'nodejs_heap_size_used_bytes') {
      heapUsedBytes = s.value;
    } else if (s.name === 'nodejs_heap_size_total_bytes') {
      heapTotalBytes = s.value;
    } else if (s.name === 'nodejs_external_memory_bytes') {
      externalBytes = s.value;
    } else if (s.name === 'nodejs_heap_space_size_total_bytes') {
      spaceTotalBytes[s.labels['space'] ?? '?'] = s.value;
    } else if (s.name === 'nodejs_heap_space_size_used_bytes') {
      spaceUsedBytes[s.labels['space'] ?? '?'] = s.value;
    } else if (s.name === 'perennial_shards_held') {
      shardsHeld = s.value;
    } else if (s.name === 'perennial_store_requests_total') {
      storeRequests = (storeRequests ?? 0) + s.value;
    } else if (s.name === 'perennial_reconcile_total') {
      const result = s.labels['result'];
      attempts[controller] = (attempts[controller] ?? 0) + s.value;
      if (result === 'success' || result === 'requeue') reconciled[controller] = (reconciled[controller] ?? 0) + s.value;
      else if (result === 'error') failed[controller] = (failed[controller] ?? 0) + s.value;
    } else if (s.name === 'perennial_workqueue_depth') {
      queueDepth += s.value;
    }
  }
  const memory = { heapTotalBytes, externalBytes, spaceTotalBytes, spaceUsedBytes };
  return { reconciled, failed, attempts, queueDepth, durationBuckets, heapUsedBytes, memory, storeRequests, shardsHeld };
}
