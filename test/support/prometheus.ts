// A real Prometheus (Debian's prometheus package, DEBIAN_PACKAGES) for tests of the series and alerts Perennial
// exports: it scrapes the targets a test names every second (file_sd, rewritten every 2 s as pods come and go) and,
// when given rule groups (the chart's PrometheusRule), evaluates them every second as a Prometheus of the
// kube-prometheus-stack would. Its data lives in a temporary folder removed on stop().
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { freePort } from '../../localcluster/net.js';
import { eventually } from './eventually.js';

/** A file_sd target group: host:port targets with the labels their series get (job at least). */
export interface TargetGroup {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/** A rule group as a PrometheusRule's spec.groups holds it. */
export interface RuleGroup {
  readonly name?: string;
  readonly rules: readonly { readonly alert?: string; readonly record?: string; readonly expr: string }[];
}

export interface PrometheusOptions {
  /** The target groups now; called every 2 s (a failure keeps the last groups). */
  readonly targets: () => Promise<readonly TargetGroup[]>;
  /** Rule groups to evaluate (alerts show in ALERTS{alertname=...}). */
  readonly rules?: readonly RuleGroup[];
}

export interface Alert {
  readonly labels: Readonly<Record<string, string>>;
  /** pending while its `for` runs, then firing. */
  readonly state: 'pending' | 'firing' | 'inactive';
}

export class Prometheus {
  private constructor(
    private readonly process: ChildProcess,
    private readonly dir: string,
    private readonly timer: NodeJS.Timeout,
    readonly port: number,
  ) {}

  static async start(o: PrometheusOptions): Promise<Prometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'perennial-prometheus-'));
    const targetsFile = join(dir, 'targets.json');
    const writeTargets = async (): Promise<void> => {
      const groups = await o.targets().catch(() => undefined);
      if (groups === undefined) return;
      writeFileSync(`${targetsFile}.tmp`, JSON.stringify(groups.filter((g) => g.targets.length > 0)));
      renameSync(`${targetsFile}.tmp`, targetsFile);
    };
    writeFileSync(targetsFile, '[]');
    await writeTargets();
    const timer = setInterval(() => void writeTargets(), 2000);
    const config: Record<string, unknown> = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [{ job_name: 'test', file_sd_configs: [{ files: [targetsFile], refresh_interval: '2s' }] }],
    };
    if (o.rules !== undefined) {
      writeFileSync(join(dir, 'rules.yaml'), dump({ groups: o.rules.map((g, i) => ({ name: g.name ?? `group-${i}`, rules: g.rules })) }));
      config['rule_files'] = [join(dir, 'rules.yaml')];
    }
    writeFileSync(join(dir, 'prometheus.yml'), dump(config));
    const port = await freePort();
    const child = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    const prometheus = new Prometheus(child, dir, timer, port);
    await eventually('Prometheus to answer', async () => (await prometheus.query('vector(1)').catch(() => [])).length > 0, 60_000);
    return prometheus;
  }

  /** An instant query's result vector; throws with Prometheus' error for a bad expression. */
  async query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const r = await fetch(`http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = await r.json() as { status: string; error?: string; data?: { result?: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? r.status}`);
    return body.data?.result ?? [];
  }

  /** The single number an expression gives (undefined when its result is empty). */
  async value(expr: string): Promise<number | undefined> {
    const [first] = await this.query(expr);
    return first === undefined ? undefined : Number(first.value[1]);
  }

  /** The alerts of the loaded rules that are pending or firing now. */
  async alerts(): Promise<Alert[]> {
    const r = await fetch(`http://127.0.0.1:${this.port}/api/v1/alerts`);
    const body = await r.json() as { data?: { alerts?: Alert[] } };
    return body.data?.alerts ?? [];
  }

  stop(): void {
    clearInterval(this.timer);
    this.process.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
