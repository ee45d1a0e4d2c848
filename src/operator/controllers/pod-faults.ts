// What a pod's status says about why its containers do not run or are not ready (an image it cannot get, a Secret
// missing from the namespace, an OOM kill, a crash loop, a failing readiness probe): the kubelet's waiting and
// terminated reasons and the scheduler's PodScheduled condition. Both controllers read their own pods on demand
// (observe.ts, listed by label in one namespace) and decide what a fault means for their resource (run-faults.ts,
// progress-deadline.ts); this module only names the fault, in words a status or an Event can carry. Pure,
// table-tested.
//
// Pods arrive as the API server's JSON (timestamps are strings), so they are typed here rather than as
// client-node's V1Pod (whose Dates they are not).

export interface ContainerStateObject {
  readonly waiting?: { readonly reason?: string; readonly message?: string };
  readonly running?: { readonly startedAt?: string };
  readonly terminated?: { readonly reason?: string; readonly exitCode?: number; readonly message?: string };
}

export interface ContainerStatusObject {
  readonly name: string;
  readonly image?: string;
  readonly ready?: boolean;
  readonly restartCount?: number;
  readonly state?: ContainerStateObject;
  readonly lastState?: ContainerStateObject;
}

export interface PodObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly creationTimestamp?: string;
    readonly deletionTimestamp?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly ownerReferences?: ReadonlyArray<{ readonly uid: string; readonly controller?: boolean }>;
  };
  readonly spec?: {
    readonly containers?: ReadonlyArray<{ readonly name: string; readonly image?: string; readonly resources?: { readonly limits?: Readonly<Record<string, string | number>> } }>;
  };
  readonly status?: {
    readonly phase?: string;
    readonly startTime?: string;
    readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }>;
    readonly containerStatuses?: readonly ContainerStatusObject[];
  };
}

/** Lists the pods of a namespace matching equality labels (the API server's labelSelector). */
export type ReadPods = (namespace: string, labels: Readonly<Record<string, string>>) => Promise<PodObject[]>;

/** The kubelet's waiting reasons for an image it cannot get. */
export const imagePullReasons = ['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName'] as const;
export type ImagePullReason = (typeof imagePullReasons)[number];

/** A fault of one pod, most telling first when a pod has several (see podFault). */
export type PodFault =
  /** A container was killed for exceeding its memory limit (now, or before its last restart). */
  | { readonly kind: 'oomKilled'; readonly pod: string; readonly container: string; readonly memoryLimit: string | undefined }
  /** A container's image cannot be had; since when the kubelet has been trying (the pod's start). */
  | { readonly kind: 'imagePull'; readonly pod: string; readonly container: string; readonly image: string; readonly reason: ImagePullReason; readonly message: string; readonly sinceMs: number | undefined }
  /**
   * The kubelet cannot make a container's configuration (CreateContainerConfigError): most often a Secret an env var
   * refers to is missing from the namespace, or lacks the key; both named when the kubelet's message says them.
   */
  | { readonly kind: 'configMissing'; readonly pod: string; readonly container: string; readonly secret: string | undefined; readonly key: string | undefined; readonly message: string }
  /** A container keeps exiting and the kubelet waits before starting it again. */
  | { readonly kind: 'crashLoop'; readonly pod: string; readonly container: string; readonly lastExit: string | undefined }
  /** A container runs but is not ready: its readiness probe fails. */
  | { readonly kind: 'notReady'; readonly pod: string; readonly container: string }
  /** The scheduler cannot place the pod; its message says why (resources, selectors, taints). */
  | { readonly kind: 'unschedulable'; readonly pod: string; readonly message: string };

const order: Readonly<Record<PodFault['kind'], number>> = { oomKilled: 0, imagePull: 1, configMissing: 2, crashLoop: 3, notReady: 4, unschedulable: 5 };

/** Kubelet messages can be long (a registry's whole answer): status and Events carry the start of them. */
const maxMessage = 300;
function clip(text: string): string {
  const t = text.trim();
  return t.length <= maxMessage ? t : `${t.slice(0, maxMessage - 1)}…`;
}

function timeMs(t: string | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

function isImagePullReason(reason: string | undefined): reason is ImagePullReason {
  return (imagePullReasons as readonly string[]).includes(reason ?? '');
}

type ContainerSpec = NonNullable<NonNullable<PodObject['spec']>['containers']>[number];

function oomKilled(pod: string, c: ContainerStatusObject, spec: ContainerSpec | undefined): PodFault | undefined {
  if (c.state?.terminated?.reason !== 'OOMKilled' && c.lastState?.terminated?.reason !== 'OOMKilled') return undefined;
  const limit = spec?.resources?.limits?.['memory'];
  return { kind: 'oomKilled', pod, container: c.name, memoryLimit: limit === undefined ? undefined : String(limit) };
}

function imagePull(pod: PodObject, c: ContainerStatusObject, spec: ContainerSpec | undefined): PodFault | undefined {
  const waiting = c.state?.waiting;
  if (!isImagePullReason(waiting?.reason)) return undefined;
  return {
    kind: 'imagePull', pod: pod.metadata?.name ?? '', container: c.name, image: spec?.image ?? c.image ?? '', reason: waiting.reason,
    message: clip(waiting.message ?? ''), sinceMs: timeMs(pod.status?.startTime) ?? timeMs(pod.metadata?.creationTimestamp),
  };
}

/** The Secret (and key) a CreateContainerConfigError names: `secret "x" not found`, `couldn't find key k in Secret ns/x`. */
export function missingSecretOf(message: string): { secret: string | undefined; key: string | undefined } {
  const gone = /secret "([^"]+)" not found/i.exec(message);
  if (gone?.[1]) return { secret: gone[1], key: undefined };
  const noKey = /couldn't find key (\S+) in Secret (?:[^/\s]+\/)?(\S+)/i.exec(message);
  if (noKey?.[1] && noKey[2]) return { secret: noKey[2], key: noKey[1] };
  return { secret: undefined, key: undefined };
}

function configMissing(pod: string, c: ContainerStatusObject): PodFault | undefined {
  const waiting = c.state?.waiting;
  if (waiting?.reason !== 'CreateContainerConfigError') return undefined;
  const message = clip(waiting.message ?? '');
  return { kind: 'configMissing', pod, container: c.name, ...missingSecretOf(message), message };
}

function crashLoop(pod: string, c: ContainerStatusObject): PodFault | undefined {
  if (c.state?.waiting?.reason !== 'CrashLoopBackOff') return undefined;
  const last = c.lastState?.terminated;
  const lastExit = last === undefined ? undefined : `exit code ${last.exitCode ?? '?'}${last.reason ? ` (${last.reason})` : ''}`;
  return { kind: 'crashLoop', pod, container: c.name, lastExit };
}

function containerFault(pod: PodObject, c: ContainerStatusObject): PodFault | undefined {
  const name = pod.metadata?.name ?? '';
  const spec = pod.spec?.containers?.find((x) => x.name === c.name);
  const notReady: PodFault | undefined = c.state?.running && c.ready === false ? { kind: 'notReady', pod: name, container: c.name } : undefined;
  return oomKilled(name, c, spec) ?? imagePull(pod, c, spec) ?? configMissing(name, c) ?? crashLoop(name, c) ?? notReady;
}

/** The faults of one pod, most telling first (a pod being deleted has none worth telling). */
export function podFaults(pod: PodObject): PodFault[] {
  if (pod.metadata?.deletionTimestamp !== undefined) return [];
  const faults: PodFault[] = [];
  for (const c of pod.status?.containerStatuses ?? []) {
    const f = containerFault(pod, c);
    if (f) faults.push(f);
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    faults.push({ kind: 'unschedulable', pod: pod.metadata?.name ?? '', message: clip(scheduled.message ?? '') });
  }
  return faults.sort((a, b) => order[a.kind] - order[b.kind]);
}

/** The most telling fault among pods (oomKilled, imagePull, configMissing, crashLoop, notReady, unschedulable). */
export function worstFault(pods: readonly PodObject[]): PodFault | undefined {
  return pods.flatMap(podFaults).sort((a, b) => order[a.kind] - order[b.kind])[0];
}

/** The fault in words, for a status message or an Event ("image ... cannot be pulled (ErrImagePull: ...)"). */
export function describeFault(f: PodFault): string {
  switch (f.kind) {
    case 'oomKilled':
      return `container ${f.container} was killed for using more memory than its limit${f.memoryLimit === undefined ? ' (no limit set: the node ran out)' : ` of ${f.memoryLimit}`} (OOMKilled, exit code 137)`;
    case 'imagePull':
      return `image "${f.image}" cannot be pulled (${f.reason}${f.message === '' ? '' : `: ${f.message}`})`;
    case 'configMissing': {
      const what = f.secret === undefined ? 'its configuration cannot be made'
        : f.key === undefined ? `Secret "${f.secret}" does not exist in the namespace` : `Secret "${f.secret}" has no key "${f.key}"`;
      return `container ${f.container} cannot start: ${what} (CreateContainerConfigError${f.message === '' ? '' : `: ${f.message}`})`;
    }
    case 'crashLoop':
      return `container ${f.container} keeps crashing (CrashLoopBackOff${f.lastExit === undefined ? '' : `, last ${f.lastExit}`})`;
    case 'notReady':
      return `container ${f.container} runs but is not ready (its readiness probe fails)`;
    case 'unschedulable':
      return `pod ${f.pod} cannot be scheduled: ${f.message}`;
  }
}
