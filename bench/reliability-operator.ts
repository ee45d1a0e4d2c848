// The operator as the container of a pod, for the reliability benchmark: the real bundle (dist/operator/main.js)
// in a child process, restarted whenever it exits on its own (restartPolicy Always, with the kubelet's doubling
// back-off), and SIGKILLed on demand like a crashed container.
//
// Leader election is on, as the chart runs it. The Lease identity is POD_NAME, so a kill can play either:
//   - a container restarted in the same pod (same identity): the restarted process renews its own Lease at once;
//   - a replacement pod (new identity): it waits a full lease duration (15 s, not configurable) for the old
//     holder's Lease to expire, as after a node failure.
import { join } from 'node:path';
import { repoRoot } from '../localcluster/cluster.js';
import { ManagedProcess } from '../localcluster/process.js';

export interface SupervisedOperatorOptions {
  /** The operator's environment (KUBECONFIG included). */
  readonly env: Readonly<Record<string, string>>;
  /** Folder of operator.log (every start appends to it). */
  readonly logDir: string;
  /** Where restarts on its own are reported. */
  readonly report: (line: string) => void;
}

/** A process that lived this long before exiting starts the back-off over, as the kubelet does after 10 min. */
const stableMs = 30_000;

export class SupervisedOperator {
  private proc: ManagedProcess | undefined;
  private pod = 1;
  private startedAt = 0;
  private backoffMs = 1000;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  kills = 0;
  /** Exits the benchmark did not cause (e.g. leadership lost while the API server was down). */
  selfExits = 0;

  constructor(private readonly o: SupervisedOperatorOptions) {}

  get podName(): string {
    return `perennial-operator-${this.pod}`;
  }

  start(): void {
    const proc = new ManagedProcess({
      name: 'operator',
      command: process.execPath,
      args: [join(repoRoot, 'dist/operator/main.js')],
      env: { ...this.o.env, POD_NAME: this.podName },
      logFile: join(this.o.logDir, 'operator.log'),
      cwd: repoRoot,
    });
    proc.start();
    this.proc = proc;
    this.startedAt = Date.now();
    void proc.exited.then(() => this.exitedByItself(proc));
  }

  private exitedByItself(proc: ManagedProcess): void {
    // A kill() replaces this.proc before the old one's exit is seen here, and stop() sets stopping.
    if (proc !== this.proc || this.stopping) return;
    this.selfExits++;
    if (Date.now() - this.startedAt > stableMs) this.backoffMs = 1000;
    const exit = proc.exit;
    this.o.report(`operator ${this.podName} exited by itself (code ${String(exit?.code)}, signal ${String(exit?.signal)}); restarting in ${this.backoffMs / 1000} s`);
    void proc.stop(); // closes its log stream
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopping && proc === this.proc) this.start();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
  }

  /** SIGKILL and start again at once, as the same pod's container or (newPod) as a replacement pod. */
  async kill(newPod: boolean): Promise<void> {
    const old = this.proc;
    this.proc = undefined;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await old?.kill();
    await old?.stop();
    this.kills++;
    if (newPod) this.pod++;
    if (!this.stopping) this.start();
  }

  /** SIGTERM (it releases its Lease), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    await this.proc?.stop(15_000);
  }
}
