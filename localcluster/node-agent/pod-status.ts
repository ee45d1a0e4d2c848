// The pod status the agent reports, computed from what it knows of its processes (pure, like the kubelet's
// status manager): phase from the container states and the restart policy, Ready/ContainersReady from the
// readiness probes, container states with exit codes and termination messages.

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface ContainerRun {
  readonly name: string;
  readonly image: string;
  readonly state:
    | { readonly kind: 'waiting'; readonly reason: string; readonly message?: string }
    | { readonly kind: 'running'; readonly startedAt: number }
    | { readonly kind: 'terminated'; readonly exitCode: number; readonly reason: string; readonly message?: string; readonly startedAt: number; readonly finishedAt: number };
  readonly lastTerminated?: { readonly exitCode: number; readonly reason: string; readonly message?: string; readonly startedAt: number; readonly finishedAt: number };
  readonly ready: boolean;
  readonly restartCount: number;
}

export interface PodRun {
  readonly podIP: string;
  readonly hostIP: string;
  readonly startTime: number;
  readonly restartPolicy: RestartPolicy;
  readonly containers: readonly ContainerRun[];
}

const time = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export function podPhase(run: PodRun): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  const states = run.containers.map((c) => c.state);
  if (states.some((s) => s.kind === 'running')) return 'Running';
  const terminated = states.filter((s) => s.kind === 'terminated');
  if (terminated.length === states.length && states.length > 0 && run.restartPolicy !== 'Always') {
    if (terminated.every((s) => s.exitCode === 0)) return 'Succeeded';
    if (run.restartPolicy === 'Never') return 'Failed';
  }
  // Restarting after an exit counts as Running, as the kubelet reports it.
  if (run.containers.some((c) => c.restartCount > 0)) return 'Running';
  return 'Pending';
}

function containerStatus(c: ContainerRun): Record<string, unknown> {
  const term = (t: NonNullable<ContainerRun['lastTerminated']>) => ({
    terminated: {
      exitCode: t.exitCode, reason: t.reason, ...(t.message ? { message: t.message } : {}),
      startedAt: time(t.startedAt), finishedAt: time(t.finishedAt),
    },
  });
  const s = c.state;
  const state = s.kind === 'waiting'
    ? { waiting: { reason: s.reason, ...(s.message ? { message: s.message } : {}) } }
    : s.kind === 'running' ? { running: { startedAt: time(s.startedAt) } } : term(s);
  return {
    name: c.name,
    image: c.image,
    imageID: `local://${c.image}`,
    containerID: `local://${c.name}`,
    ready: c.ready,
    started: s.kind === 'running',
    restartCount: c.restartCount,
    state,
    lastState: c.lastTerminated ? term(c.lastTerminated) : {},
  };
}

export function podStatus(run: PodRun, previousConditions: ReadonlyArray<{ type: string; status: string; lastTransitionTime?: string }>, nowMs: number): Record<string, unknown> {
  const phase = podPhase(run);
  const allReady = run.containers.length > 0 && run.containers.every((c) => c.ready) && phase === 'Running';
  const wanted: Array<[string, boolean]> = [
    ['PodReadyToStartContainers', true],
    ['Initialized', true],
    ['Ready', allReady],
    ['ContainersReady', allReady],
    ['PodScheduled', true],
  ];
  const conditions = wanted.map(([type, ok]) => {
    const status = ok ? 'True' : 'False';
    const prev = previousConditions.find((c) => c.type === type);
    return {
      type,
      status,
      lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : time(nowMs),
      ...(ok || type === 'PodScheduled' || type === 'Initialized' ? {} : { reason: phase === 'Running' ? 'ContainersNotReady' : 'PodCompleted' }),
    };
  });
  return {
    phase,
    conditions,
    hostIP: run.hostIP,
    hostIPs: [{ ip: run.hostIP }],
    podIP: run.podIP,
    podIPs: [{ ip: run.podIP }],
    startTime: time(run.startTime),
    containerStatuses: run.containers.map(containerStatus),
    // No qosClass: the API server sets it from the pod's resources at creation and refuses any change to it.
  };
}
