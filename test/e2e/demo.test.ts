// `make demo` cannot rot: this runs scripts/demo.ts the way a person does (npx tsx, a child process in its own
// process group, as a terminal runs it) and checks what they would see.
//   1. With --exit-after-scenario it plays the whole closed loop and exits 0: the milestones of the three acts in
//      order, status lines, no failed request, no PROBLEM line; and it leaves nothing behind.
//   2. Ctrl-C (SIGINT to the process group) while the first model trains stops everything: no process of its
//      cluster, operator or pods, no network namespace, no cluster data, no node cgroup, claim or containerd shim.
// The demo's own lines are echoed as `# demo | ...`.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { repoRoot } from '../../localcluster/cluster.js';

interface DemoRun {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves once the demo and everything holding its output have exited (so its cleanup is over). */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first line matching re. */
  line(re: RegExp): Promise<string>;
}

const running = new Set<ChildProcess>();

function startDemo(args: readonly string[]): DemoRun {
  const child = spawn('npx', ['tsx', 'scripts/demo.ts', ...args], { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  const onLine = (line: string): void => {
    lines.push(line);
    console.log(`# demo | ${line}`);
    for (const w of [...waiters]) {
      if (!w.re.test(line)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  };
  if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
  if (child.stderr) createInterface({ input: child.stderr }).on('line', onLine);
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return {
    child, lines, closed,
    line: (re) => {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return Promise.race([
        new Promise<string>((resolve) => waiters.push({ re, resolve })),
        closed.then(() => { throw new Error(`the demo ended before printing ${String(re)}`); }),
      ]);
    },
  };
}

/** As a terminal's Ctrl-C: SIGINT to every process of the group (make, npx, tsx, the demo). */
function interrupt(child: ChildProcess, signal: NodeJS.Signals = 'SIGINT'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Each line matching the patterns in order; fails naming the first one missing. */
function assertInOrder(lines: readonly string[], patterns: readonly RegExp[]): void {
  let from = 0;
  for (const re of patterns) {
    const i = lines.findIndex((l, k) => k >= from && re.test(l));
    assert.ok(i >= 0, `no line matching ${String(re)} after line ${from}: ${lines[from - 1] ?? ''}`);
    from = i + 1;
  }
}

/** What a local node leaves if it is not torn down: its cgroups, its address claim, containerd shims. */
function nodeLeftovers(): Set<string> {
  const cgroups = existsSync('/sys/fs/cgroup/memory') ? readdirSync('/sys/fs/cgroup/memory').filter((n) => n.startsWith('perennial-node-')) : [];
  const claims = existsSync('/run/perennial-nodes') ? readdirSync('/run/perennial-nodes').map((n) => `claim ${n}`) : [];
  return new Set([...cgroups, ...claims, ...processesWith('containerd-shim', '\0').filter((p) => p.includes('/node/containerd/'))]);
}

function netns(): Set<string> {
  try {
    return new Set(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n !== ''));
  } catch {
    return new Set();
  }
}

/** Processes whose command line contains `text`, or whose environment holds `envEntry` (other than this one). */
function processesWith(text: string, envEntry: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (cmdline.includes(text) || environ.split('\0').includes(envEntry)) out.push(`${pid} ${cmdline.replaceAll('\0', ' ').slice(0, 200)}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

interface Before {
  readonly netns: ReadonlySet<string>;
  readonly node: ReadonlySet<string>;
}

const before = (): Before => ({ netns: netns(), node: nodeLeftovers() });

/**
 * Nothing of the demo's run is left: its cluster's data folder, any process of it, any new network namespace or
 * pod folder (the e2e tier runs under the loop lock, so no other loop makes any meanwhile).
 */
function assertNothingLeft(run: DemoRun, was: Before): void {
  const text = run.lines.join('\n');
  const dataDir = /export KUBECONFIG=(\S+)\/kubeconfig/.exec(text)?.[1];
  const s3Port = /MinIO at http:\/\/[\d.]+:(\d+)/.exec(text)?.[1];
  assert.ok(dataDir !== undefined && s3Port !== undefined, 'the demo printed its KUBECONFIG and its store');
  assert.equal(existsSync(dataDir), false, `cluster data left in ${dataDir}`);
  // The cluster's servers name the data folder on their command line; the operator and every pod get the store's
  // port in their environment.
  assert.deepEqual(processesWith(dataDir, `PERENNIAL_S3_PORT=${s3Port}`), []);
  assert.deepEqual([...netns()].filter((n) => !was.netns.has(n)), [], 'network namespaces left');
  assert.deepEqual([...nodeLeftovers()].filter((n) => !was.node.has(n)), [], 'node cgroups, claims or containerd shims left');
}

describe('make demo (scripts/demo.ts)', () => {
  after(async () => {
    // A failed or timed-out test leaves no demo running: Ctrl-C, then kill.
    for (const child of running) {
      interrupt(child);
      const gone = await Promise.race([new Promise<boolean>((r) => child.once('close', () => r(true))), new Promise<boolean>((r) => setTimeout(() => r(false), 60_000).unref())]);
      if (!gone) interrupt(child, 'SIGKILL');
    }
  });

  it('plays the closed loop to the end and exits 0 with --exit-after-scenario', { timeout: 20 * 60_000 }, async () => {
    const was = before();
    const run = startDemo(['--exit-after-scenario']);
    const { code } = await run.closed;
    assert.equal(code, 0, 'exit code');
    assertInOrder(run.lines, [
      /\] cluster up/,
      /\] operator installed by helm in perennial-system: 2 replicas, \S+ leading/,
      /export KUBECONFIG=/,
      /\] applied TrainingPipeline weather/,
      /\] run weather-1 started for v1 by Initial/,
      /\] v1 blessed: holdout accuracy 0\.\d+/,
      /\] v1 serving on 2 pods/,
      /\] Seattle traffic/,
      /\] v1 live on Seattle: accuracy 0\.\d+/,
      /\] New York arrives/,
      /\] (drift: (max PSI|the servers' sequential test detected a shift)|performance: live accuracy)/,
      /\] run weather-\d+ started for v2 by (Drift|Performance)/,
      /\] v2 blessed: holdout accuracy 0\.\d+ vs champion v1 0\.\d+/,
      /\] v2 canary at [1-9]\d*%/,
      /\] {3}analysis of v2: Passed/,
      /\] v2 promoted/,
      /\] live accuracy on New York: v1 0\.\d+ .*→ v2 0\.\d+/,
      /\] drift on New York: max PSI v1 \d\.\d+ → v2 0\.[0-2]\d+ /,
      /\] bad candidate requested/,
      /\] run weather-\d+ started for v3 by Manual/,
      /\] v3 blessed/,
      /\] v3 canary at [1-9]\d*%/,
      /\] v3 rolled back: .*accuracy/,
      /\] back to v2 on 2 pods/,
      /\] champion back to v2: v3 demoted \(rolled back by ModelDeployment weather\)/,
      /\] scenario complete/,
      /^Timeline/,
      /^Requests: \d+ sent, 0 failed; \d+ feedback posts, 0 failed/,
      /\] stopped: no process/,
    ]);
    assert.ok(run.lines.some((l) => /\] · pipeline .* \| deployment .* \| live .* \| \d+ requests, 0 failed/.test(l)), 'status lines');
    assert.deepEqual(run.lines.filter((l) => /PROBLEM|step failed/.test(l)), []);
    assertNothingLeft(run, was);
  });

  it('stops everything on Ctrl-C while the first model trains', { timeout: 10 * 60_000 }, async () => {
    const was = before();
    const run = startDemo([]);
    await run.line(/Job weather-1 trains in pod/);
    interrupt(run.child);
    await run.closed;
    assert.ok(run.lines.some((l) => /\] stopped: no process/.test(l)), 'the demo said it stopped');
    assertNothingLeft(run, was);
  });
});
