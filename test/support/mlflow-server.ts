// A real MLflow tracking server for the tests: `mlflow server` from the pinned venv (test/python/mlflow-requirements.txt,
// built by scripts/python-envs.sh, which make test runs), a sqlite backend and proxied artifacts in a temporary
// folder, on a free loopback port. stop() and start() again keep the folder and the port: an outage, then the same
// server back.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../localcluster/net.js';
import { venvPath } from './python-env.js';

export class MlflowServer {
  private child: ChildProcess | undefined;
  private out = '';

  private constructor(readonly dir: string, readonly port: number, private readonly bin: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<MlflowServer> {
    const server = new MlflowServer(mkdtempSync(join(tmpdir(), 'perennial-mlflow-')), await freePort(), join(venvPath('mlflow'), 'bin', 'mlflow'));
    await server.restart();
    return server;
  }

  /** Starts the server on its folder and port (again, after stop()); resolves once /health answers. */
  async restart(): Promise<void> {
    this.child = spawn(this.bin, [
      'server', '--backend-store-uri', `sqlite:///${join(this.dir, 'mlflow.db')}`, '--artifacts-destination', join(this.dir, 'artifacts'),
      '--host', '127.0.0.1', '--port', String(this.port), '--workers', '1',
    ], { cwd: this.dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' } });
    this.child.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
    for (let i = 0; i < 1200; i++) {
      if (this.child.exitCode !== null) throw new Error(`mlflow exited ${String(this.child.exitCode)}: ${this.out.slice(-3000)}`);
      const r = await fetch(`${this.url}/health`).catch(() => undefined);
      if (r?.status === 200) return;
      await sleep(100);
    }
    throw new Error(`mlflow did not answer on ${this.port}: ${this.out.slice(-3000)}`);
  }

  /** Stops the server and waits for its process to end. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const ended = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Its own process group (detached): `mlflow server` runs uvicorn as a child, and both must go.
    const group = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    group('SIGTERM');
    const killed = setTimeout(() => group('SIGKILL'), 15_000);
    await ended;
    clearTimeout(killed);
    // The port is free once nothing answers on it (uvicorn's worker may outlive its parent by a moment).
    for (let i = 0; i < 100 && (await fetch(`${this.url}/health`).catch(() => undefined)) !== undefined; i++) await sleep(100);
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** One call of MLflow's REST API, its JSON answer. */
  async api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const r = await fetch(`${this.url}/api/2.0/mlflow/${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`MLflow ${method} ${path}: ${r.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  output(): string {
    return this.out;
  }
}
