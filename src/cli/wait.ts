// `status KIND/NAME --for condition=TYPE[=STATUS]`: the verdict on one reading of the object (pure, table-tested)
// and the loop that reads it until the verdict is final or the timeout passes. For CI: exit 0 when the condition
// holds, 1 when the object failed (nothing will change without a person), 2 when the time ran out.
import { ConditionType } from '../api/conditions.js';
import type { WaitFor } from './args.js';

interface Condition { readonly type: string; readonly status: string; readonly reason?: string | undefined; readonly message?: string | undefined }
export interface Waitable {
  readonly metadata: { readonly generation?: number | undefined };
  readonly status?: { readonly observedGeneration?: number | undefined; readonly conditions?: readonly Condition[] | undefined } | undefined;
}

export type WaitVerdict =
  | { readonly state: 'met'; readonly why: string }
  | { readonly state: 'failed'; readonly why: string }
  | { readonly state: 'pending'; readonly why: string };

const said = (c: Condition): string => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`;

/**
 * On a status of the current generation: failed when the spec is rejected (Accepted=False), or when Degraded=True
 * (a failed run, a rolled-back candidate) and no work is under way that could change it (Progressing is not True:
 * a new run or rollout may still clear it), as Argo CD's health calls it Degraded; so a wait for
 * Progressing=False that ends in a rollback fails. Else met when the condition has the wanted status; else pending.
 * Waiting for Degraded or Accepted themselves only looks at them.
 */
export function waitVerdict(obj: Waitable, want: Pick<WaitFor, 'type' | 'status'>): WaitVerdict {
  const s = obj.status;
  if (!s) return { state: 'pending', why: 'no status yet' };
  const generation = obj.metadata.generation;
  if (generation !== undefined && (s.observedGeneration ?? 0) < generation) {
    return { state: 'pending', why: `the operator has not observed generation ${generation} yet` };
  }
  const find = (type: string): Condition | undefined => s.conditions?.find((c) => c.type === type);
  const c = find(want.type);
  if (want.type !== ConditionType.Degraded && want.type !== ConditionType.Accepted) {
    const accepted = find(ConditionType.Accepted);
    if (accepted?.status === 'False') return { state: 'failed', why: said(accepted) };
    const degraded = find(ConditionType.Degraded);
    if (degraded?.status === 'True' && find(ConditionType.Progressing)?.status !== 'True') return { state: 'failed', why: said(degraded) };
  }
  if (c && c.status === want.status) return { state: 'met', why: said(c) };
  return { state: 'pending', why: c ? said(c) : `no ${want.type} condition yet` };
}

export interface WaitDeps {
  readonly read: () => Promise<Waitable>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Progress lines (what changed while waiting). */
  readonly log: (line: string) => void;
  readonly pollMs?: number;
}

/** Reads until the verdict is met or failed, or timeoutMs passes (then the last pending verdict, as 'timeout'). */
export async function waitFor(want: WaitFor, deps: WaitDeps): Promise<{ readonly state: 'met' | 'failed' | 'timeout'; readonly why: string }> {
  const deadline = deps.now() + want.timeoutMs;
  let last = '';
  for (;;) {
    const v = waitVerdict(await deps.read(), want);
    if (v.state !== 'pending') return v;
    if (v.why !== last) deps.log(`waiting for ${want.type}=${want.status}: ${v.why}`);
    last = v.why;
    const left = deadline - deps.now();
    if (left <= 0) return { state: 'timeout', why: v.why };
    await deps.sleep(Math.min(deps.pollMs ?? 2000, left));
  }
}

/** The exit code of a wait, as documented in the usage. */
export function waitExitCode(state: 'met' | 'failed' | 'timeout'): number {
  return state === 'met' ? 0 : state === 'failed' ? 1 : 2;
}
