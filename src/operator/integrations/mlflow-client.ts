// MLflow's REST API (api/2.0/mlflow/...) over plain HTTP: the few calls the export makes. Errors are typed here,
// where they enter: MlflowUnavailableError (no answer, a timeout, 5xx, 429: retried later) and MlflowRequestError
// (MLflow refused the request, with its error_code: the export stops and says so).

export class MlflowUnavailableError extends Error {
  override readonly name = 'MlflowUnavailableError';
}

export class MlflowRequestError extends Error {
  override readonly name = 'MlflowRequestError';
  constructor(message: string, readonly status: number, readonly code: string | undefined) {
    super(message);
  }
}

export type MlflowAuth = { readonly token: string } | { readonly username: string; readonly password: string } | undefined;

export interface MlflowTag {
  readonly key: string;
  readonly value: string;
}

export interface MlflowMetric {
  readonly key: string;
  readonly value: number;
  readonly timestamp: number;
  readonly step: number;
}

export interface MlflowRun {
  readonly runId: string;
  readonly artifactUri: string;
  readonly tags: Readonly<Record<string, string>>;
}

const timeoutMs = 15_000;

export class MlflowClient {
  constructor(private readonly baseUrl: string, private readonly auth: MlflowAuth) {}

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json' };
    if (this.auth && 'token' in this.auth) h['authorization'] = `Bearer ${this.auth.token}`;
    else if (this.auth) h['authorization'] = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}`;
    return h;
  }

  /** One call; the answer's JSON, or a typed error. */
  async call<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, query?: Readonly<Record<string, string>>, raw?: Buffer): Promise<T> {
    const url = new URL(this.baseUrl.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    let res: Response;
    try {
      const payload = raw ?? (body === undefined ? undefined : JSON.stringify(body));
      res = await fetch(url, {
        method, headers: raw ? { ...this.headers(), 'content-type': 'application/octet-stream' } : this.headers(),
        signal: AbortSignal.timeout(timeoutMs), ...(payload === undefined ? {} : { body: payload }),
      });
    } catch (e: unknown) {
      throw new MlflowUnavailableError(`MLflow at ${url.origin} did not answer (${e instanceof Error ? e.message : String(e)})`);
    }
    const text = await res.text().catch(() => '');
    if (res.status >= 500 || res.status === 429) throw new MlflowUnavailableError(`MLflow answered ${res.status} to ${method} ${url.pathname}`);
    if (res.status >= 400) {
      let code: string | undefined;
      let message = text.slice(0, 300);
      try {
        const parsed = JSON.parse(text) as { error_code?: string; message?: string };
        code = parsed.error_code;
        message = parsed.message ?? message;
      } catch {
        // not JSON: the text itself says why
      }
      throw new MlflowRequestError(`MLflow refused ${method} ${url.pathname} (${res.status}${code ? ` ${code}` : ''}): ${message.slice(0, 300)}`, res.status, code);
    }
    return (text === '' ? {} : JSON.parse(text)) as T;
  }

  /** The experiment's id, created if missing. */
  async experimentId(name: string): Promise<string> {
    try {
      const got = await this.call<{ experiment: { experiment_id: string } }>('GET', '/api/2.0/mlflow/experiments/get-by-name', undefined, { experiment_name: name });
      return got.experiment.experiment_id;
    } catch (e: unknown) {
      if (!(e instanceof MlflowRequestError && e.code === 'RESOURCE_DOES_NOT_EXIST')) throw e;
    }
    try {
      return (await this.call<{ experiment_id: string }>('POST', '/api/2.0/mlflow/experiments/create', { name })).experiment_id;
    } catch (e: unknown) {
      if (!(e instanceof MlflowRequestError && e.code === 'RESOURCE_ALREADY_EXISTS')) throw e;
      return this.experimentId(name);
    }
  }

  /** The run carrying this tag value, if one was created before (an export interrupted after creating it). */
  async findRun(experimentId: string, tag: string, value: string): Promise<MlflowRun | undefined> {
    const filter = `tags.\`${tag}\` = '${value.replace(/'/g, "\\'")}'`;
    const found = await this.call<{ runs?: RawRun[] }>('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [experimentId], filter, max_results: 1 });
    const run = found.runs?.[0];
    return run ? toRun(run) : undefined;
  }

  async createRun(experimentId: string, runName: string, startTime: number, tags: readonly MlflowTag[]): Promise<MlflowRun> {
    const created = await this.call<{ run: RawRun }>('POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId, run_name: runName, start_time: startTime, tags });
    return toRun(created.run);
  }

  /** Parameters, metrics and tags, in MLflow's batch limits (100 parameters, 1000 metrics, 100 tags a call). */
  async logBatch(runId: string, params: readonly MlflowTag[], metrics: readonly MlflowMetric[], tags: readonly MlflowTag[]): Promise<void> {
    for (let i = 0; i < Math.max(params.length, 1); i += 100) {
      const p = params.slice(i, i + 100);
      const t = i === 0 ? tags : [];
      if (p.length > 0 || t.length > 0) await this.call('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, params: p, metrics: [], tags: t });
    }
    for (let i = 0; i < metrics.length; i += 1000) {
      await this.call('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, params: [], metrics: metrics.slice(i, i + 1000), tags: [] });
    }
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.call('POST', '/api/2.0/mlflow/runs/set-tag', { run_id: runId, key, value });
  }

  async endRun(runId: string, status: 'FINISHED' | 'FAILED', endTime: number): Promise<void> {
    await this.call('POST', '/api/2.0/mlflow/runs/update', { run_id: runId, status, end_time: endTime });
  }

  /**
   * Uploads a document as a run artifact through the tracking server's artifact proxy (`mlflow server`'s default,
   * artifact URIs mlflow-artifacts:/...). Returns false where the server does not proxy artifacts.
   */
  async putArtifact(run: MlflowRun, name: string, content: Buffer): Promise<boolean> {
    const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.+)$/.exec(run.artifactUri);
    if (!m) return false;
    const path = `${m[1]?.replace(/\/+$/, '') ?? ''}/${name}`.split('/').map(encodeURIComponent).join('/');
    await this.call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${path}`, undefined, undefined, content);
    return true;
  }

  async ensureRegisteredModel(name: string, description: string): Promise<void> {
    try {
      await this.call('POST', '/api/2.0/mlflow/registered-models/create', { name, description });
    } catch (e: unknown) {
      if (!(e instanceof MlflowRequestError && e.code === 'RESOURCE_ALREADY_EXISTS')) throw e;
    }
  }

  /** The model version registered from this run before, if any (an export interrupted after registering it). */
  async findModelVersion(name: string, runId: string): Promise<string | undefined> {
    const found = await this.call<{ model_versions?: Array<{ version: string }> }>('GET', '/api/2.0/mlflow/model-versions/search', undefined, {
      filter: `name='${name.replace(/'/g, "\\'")}' and run_id='${runId}'`,
    });
    return found.model_versions?.[0]?.version;
  }

  async createModelVersion(name: string, source: string, runId: string, tags: readonly MlflowTag[]): Promise<string> {
    const created = await this.call<{ model_version: { version: string } }>('POST', '/api/2.0/mlflow/model-versions/create', { name, source, run_id: runId, tags });
    return created.model_version.version;
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.call('POST', '/api/2.0/mlflow/registered-models/alias', { name, alias, version });
  }
}

interface RawRun {
  readonly info: { readonly run_id: string; readonly artifact_uri?: string };
  readonly data?: { readonly tags?: ReadonlyArray<{ key: string; value: string }> };
}

function toRun(r: RawRun): MlflowRun {
  return { runId: r.info.run_id, artifactUri: r.info.artifact_uri ?? '', tags: Object.fromEntries((r.data?.tags ?? []).map((t) => [t.key, t.value])) };
}
