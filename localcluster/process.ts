// A server process of the local cluster: started in its own process group with its output in a log file,
// stopped with SIGTERM then SIGKILL, and killed synchronously if the harness process exits first, so no
// test run leaves processes behind. A harness killed outright (SIGKILL, a CI timeout) runs no exit hook: on Linux
// the process is started through util-linux's setpriv with a parent-death signal, so the kernel kills it then.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';

import { onExit } from './cleanup.js';

const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

export interface ProcessSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly logFile: string;
  readonly cwd?: string;
}

export class ProcessExitedError extends Error {
  constructor(
    readonly processName: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly logFile: string,
  ) {
    super(`${processName} exited (code ${String(code)}, signal ${String(signal)}); see ${logFile}`);
    this.name = 'ProcessExitedError';
  }
}

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private exitedPromise: Promise<void> = Promise.resolve();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(readonly spec: ProcessSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves when the process (of the latest start) has exited. */
  get exited(): Promise<void> {
    return this.exitedPromise;
  }

  /** The exit, once the process has ended; undefined while it runs. */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exitInfo;
  }

  start(): void {
    if (this.child && !this.exitInfo) throw new Error(`${this.spec.name} is already running`);
    this.exitInfo = undefined;
    this.log = createWriteStream(this.spec.logFile, { flags: 'a' });
    this.log.write(`--- ${new Date().toISOString()} starting ${this.spec.command} ${this.spec.args.join(' ')}\n`);
    // setpriv execs the command: the server keeps its pid, and SIGKILL reaches it when this process dies.
    const [command, args] = setpriv === undefined
      ? [this.spec.command, [...this.spec.args]]
      : [setpriv, ['--pdeathsig', 'KILL', '--', this.spec.command, ...this.spec.args]];
    const child = spawn(command, args, {
      cwd: this.spec.cwd,
      env: { ...minimalEnv(), ...this.spec.env },
      detached: true, // own process group: one signal reaches any children it forks
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.child = child;
    // Exit hooks must be synchronous: signal the whole group and let the kernel do the rest.
    const unregister = onExit(() => this.killNow());
    this.exitedPromise = new Promise<void>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        this.exitInfo = { code, signal };
        unregister();
        this.log?.write(`--- ${new Date().toISOString()} exited code=${String(code)} signal=${String(signal)}\n`);
        resolve();
      };
      child.once('exit', done);
      child.once('error', (err) => {
        this.log?.write(`--- spawn error: ${err.message}\n`);
        done(null, null);
      });
    });
  }

  /** Throws ProcessExitedError if the process is no longer running. */
  assertRunning(): void {
    if (this.exitInfo) {
      throw new ProcessExitedError(this.spec.name, this.exitInfo.code, this.exitInfo.signal, this.spec.logFile);
    }
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves once the process has exited and its log is closed. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (!this.exitInfo) {
      signalGroup(child, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
      await this.exitedPromise;
      clearTimeout(timer);
    }
    // Anything the process forked and left behind in its group goes too.
    signalGroup(child, 'SIGKILL');
    const log = this.log;
    this.log = undefined;
    if (log) {
      log.end();
      await once(log, 'close').catch(() => undefined);
    }
  }

  /** Kill at once, e.g. to simulate a crash; resolves when it has exited. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || this.exitInfo) return;
    signalGroup(child, 'SIGKILL');
    await this.exitedPromise;
  }

  killNow(): void {
    if (this.child && !this.exitInfo) signalGroup(this.child, 'SIGKILL');
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Servers get PATH and HOME, nothing else of ours (no cloud credentials, no proxies). */
function minimalEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}
