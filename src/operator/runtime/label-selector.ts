// Label selectors for reading the cache: the string syntax of `kubectl -l` (=, ==, !=, in, notin, exists, !key)
// or a matchLabels map. Pure; used by Informer.list().

type Requirement =
  | { readonly op: 'eq'; readonly key: string; readonly value: string }
  | { readonly op: 'ne'; readonly key: string; readonly value: string }
  | { readonly op: 'in'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists'; readonly key: string }
  | { readonly op: 'absent'; readonly key: string };

export type Selector = readonly Requirement[];

/** Splits on commas that are not inside a parenthesised set. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

export function parseSelector(selector: string | Readonly<Record<string, string>>): Selector {
  if (typeof selector !== 'string') return Object.entries(selector).map(([key, value]) => ({ op: 'eq', key, value }));
  return splitTopLevel(selector).map((part): Requirement => {
    const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (set) {
      const values = (set[3] ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '');
      return { op: set[2] === 'in' ? 'in' : 'notin', key: set[1] ?? '', values };
    }
    const ne = /^([^\s!=]+)\s*!=\s*(\S*)$/.exec(part);
    if (ne) return { op: 'ne', key: ne[1] ?? '', value: ne[2] ?? '' };
    const eq = /^([^\s!=]+)\s*==?\s*(\S*)$/.exec(part);
    if (eq) return { op: 'eq', key: eq[1] ?? '', value: eq[2] ?? '' };
    const absent = /^!\s*(\S+)$/.exec(part);
    if (absent) return { op: 'absent', key: absent[1] ?? '' };
    if (/^[^\s!=(),]+$/.test(part)) return { op: 'exists', key: part };
    throw new Error(`invalid label selector: ${part}`);
  });
}

export function matches(selector: Selector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'eq': return has && v === r.value;
      case 'ne': return !has || v !== r.value;
      case 'in': return has && v !== undefined && r.values.includes(v);
      case 'notin': return !has || v === undefined || !r.values.includes(v);
      case 'exists': return has;
      case 'absent': return !has;
    }
    return false;
  });
}
