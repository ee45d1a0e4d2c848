// What a V8 heap snapshot of the operator holds (bench/operator-scale.ts --heap-snapshot): the live heap (a snapshot
// runs a full GC first, so everything in it is reachable) grouped by what each node is: plain objects and arrays
// (the caches, the queues, the metric series), strings, compiled code, closures, ... with counts and bytes. Compared
// between the sizes of one run, the groups that grow with the objects are the per-object cost.
import { readFileSync } from 'node:fs';

interface SnapshotJson {
  readonly snapshot: { readonly meta: { readonly node_fields: readonly string[]; readonly node_types: readonly [readonly string[], ...unknown[]] } };
  readonly nodes: readonly number[];
  readonly strings: readonly string[];
}

export interface HeapGroup {
  readonly what: string;
  readonly count: number;
  readonly bytes: number;
}

export interface HeapSummary {
  /** Sum of every node's self size: the live heap. */
  readonly liveBytes: number;
  /** Largest groups first. */
  readonly groups: readonly HeapGroup[];
}

/**
 * The group of a node: objects by constructor name (`Object` for plain ones, as cached JSON is), other types by the
 * type itself, strings of every kind together.
 */
function groupOf(type: string, name: string): string {
  if (type === 'object') return name === '' ? 'Object' : name;
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') return '(strings)';
  if (type === 'closure') return '(closures)';
  return `(${type})`;
}

export function summarizeHeapSnapshot(path: string): HeapSummary {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as SnapshotJson;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, { count: number; bytes: number }>();
  let liveBytes = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const size = snap.nodes[i + sizeAt] ?? 0;
    const what = groupOf(types[snap.nodes[i + typeAt] ?? 0] ?? '?', snap.strings[snap.nodes[i + nameAt] ?? 0] ?? '');
    const g = groups.get(what) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += size;
    groups.set(what, g);
    liveBytes += size;
  }
  return { liveBytes, groups: [...groups.entries()].map(([what, g]) => ({ what, ...g })).sort((a, b) => b.bytes - a.bytes) };
}
