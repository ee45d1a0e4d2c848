// The HTTP surface of the model server on Node's http module (a dozen fixed routes need no framework; the table
// of paths, methods and route labels is routes.ts, the actions are here):
//   GET  /v2/health/live | /v2/health/ready | /v2 | /v2/models/{name}[/versions/{v}][/ready|/stats] | /v2/models/stats
//   POST /v2/models/{name}[/versions/{v}]/infer          Open Inference Protocol v2: JSON or binary tensors
//   POST /v2/repository/index                            (load/unload: 403, the repository is read-only)
//   GET  /v1/models/{name}    POST /v1/models/{name}:predict   {"instances": [{feature: value}]}
//   GET  /metrics             GET /  (V1 liveness: {"status":"alive"})
// A known path asked with another method is a 405, any other path a 404. Feedback is not here: it has its own
// listener and Service (feedback-api.ts), which the HTTPRoute does not expose.
// OIP's semantics (input forms, outputs, parameters, statistics) are oip/service.ts, shared with the gRPC server
// through `oip`; its REST encoding is oip/rest*.ts. Both predict APIs run the same rows through the same batcher
// (predict below: logging, metrics, drift, confidence, shadow) and answer the same predictions, each with a
// signed prediction id (src/shared/prediction-id.ts: the only ids feedback accepts) and the model version.
// Errors are {"error": "..."} with a 4xx naming the field, 503 while the model is not ready or the queue is
// full, 500 for a bug. No request reaches a 5xx through its own content: the target, the headers, the body and
// every value are checked first (http-io.ts, requests.ts), and a prediction the model cannot make finite (a
// value far outside its training data) is refused with a 422.
// A request mirrored by a shadow (x-perennial-shadow) is never mirrored again, and a shadow-track server never
// mirrors: one request costs at most one mirror, whatever the mirror URLs point at.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'winston';
import { inferenceLogVersion, type PredictionRecord } from '../shared/inference-log.js';
import { newNonce, signPredictionId } from '../shared/prediction-id.js';
import type { LabelSpec, RawRow, RawValue } from '../shared/preprocessing.js';
import { serverRoutes } from '../shared/server-metrics.js';
import { MicroBatcher, QueueFullError } from './batcher.js';
import type { ConfidenceWindow } from './confidence-window.js';
import type { DriftWindow } from './drift-window.js';
import type { LogWriter } from './log-writer.js';
import type { ServerMetrics } from './metrics.js';
import { isFinitePrediction, predictBatch, type Prediction, type ServedModel } from './model.js';
import { answerOf, decodeSegment, HttpError, readJson, requestPath, send } from './http-io.js';
import { OipInference } from './oip/service.js';
import { answerInfer, answerRepositoryIndex, answerStatistics, refuseRepositoryChange } from './oip/rest.js';
import type { OipModelStatistics, OipService } from './oip/types.js';
import { BadRequestError, parseV1Predict, shown, signatureOf, type FeatureSignature, type ParsedRows } from './requests.js';
import { extrasOf, withMeta, type RowExtras, type RowMeta } from './row-extras.js';
import { matchRoute, type RouteMatch } from './routes.js';
import { shouldMirror, type ShadowMirror } from './shadow.js';

export interface AppOptions {
  readonly modelName: string;
  readonly version: string;
  readonly track: string;
  readonly codeVersion: string;
  readonly maxInstances: number;
  readonly maxBodyBytes: number;
  /** Longest wait for a request body after its headers, in ms (0: none): 408 past it. */
  readonly bodyTimeoutMs: number;
  /** Most UTF-8 bytes of any string value (categorical and date features, the v2 id); 0: no cap. */
  readonly maxStringBytes: number;
  readonly batch: { readonly maxSize: number; readonly maxWaitMs: number; readonly maxQueueRows: number };
  readonly metrics: ServerMetrics;
  readonly predictionLog: LogWriter;
  /** The Kafka sink (spec.server.kafka): each logged record is also published there. */
  readonly events?: { publish(record: PredictionRecord, json?: string): void } | undefined;
  /** `<namespace>/<deployment>` and its signing key: every prediction id is signed with them. */
  readonly deployment: string;
  readonly signingKey: Buffer;
  readonly shadow: ShadowMirror | undefined;
  /** On the shadow track: every answered row is held for pairing with the serving version's (shadow-scoring.ts). */
  readonly shadowScoring?: { hold(rows: readonly RawRow[], predictions: readonly Prediction[], atMs: number): void } | undefined;
  /** The confidence window (estimated accuracy without labels): every answered classification row goes in. */
  readonly confidence?: Pick<ConfidenceWindow, 'add'> | undefined;
  /**
   * With several serving processes (cluster-worker.ts): whether every other worker of the pod is ready too, and why
   * not. The pod reports ready only when all of them are, so no request routed by readiness meets a worker still loading.
   */
  readonly peersReady?: (() => string | undefined) | undefined;
  /** With several serving processes: /metrics and the OIP statistics of the whole pod (the primary sums them). */
  readonly pod?: {
    metrics(): Promise<{ readonly text: string; readonly contentType: string }>;
    statistics(own: OipModelStatistics): Promise<OipModelStatistics>;
  } | undefined;
  readonly log: Logger;
  readonly now: () => Date;
}

/** One request on its way to a route's action. */
interface Call {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  readonly path: string;
  readonly params: RouteMatch['params'];
}

interface Loaded {
  readonly served: ServedModel;
  readonly features: readonly FeatureSignature[];
  /** The timestamp and row-id columns requests may carry for the log; undefined when the spec declares neither. */
  readonly extras: RowExtras | undefined;
  /** The drift window (this process's, or the pod's one in the primary through cluster-worker.ts). */
  readonly drift: Pick<DriftWindow, 'add'>;
}

export class ServerApp {
  private loaded: Loaded | undefined;
  private notReadyReason = 'model not loaded yet';
  private draining = false;
  /** Told to stop but still serving (the shutdown delay): unready, and every answer closes its connection. */
  private leaving = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  readonly batcher: MicroBatcher<RawRow, Prediction>;
  /** The model's batch runs so far (the OIP statistics' execution_count). */
  private batches = 0;
  private readonly oipService: OipInference;

  constructor(private readonly o: AppOptions) {
    this.batcher = new MicroBatcher<RawRow, Prediction>((rows) => {
      const m = this.loaded;
      if (!m) throw new HttpError(503, this.notReadyReason);
      return predictBatch(m.served, rows);
    }, {
      ...o.batch,
      onBatch: (n) => {
        this.batches += 1;
        o.metrics.batchSize.observe(n);
      },
    });
    this.oipService = new OipInference({
      modelName: o.modelName, version: o.version, codeVersion: o.codeVersion,
      limits: { maxInstances: o.maxInstances, maxStringBytes: o.maxStringBytes },
      ready: () => this.ready,
      notReadyReason: () => this.unreadyReason,
      model: () => {
        const m = this.need();
        return { features: m.features, extras: m.extras, label: m.served.spec.label };
      },
      predict: (parsed, mirror) => this.predict(parsed, mirror),
      executions: () => this.batches,
      podStatistics: o.pod === undefined ? undefined : (own) => o.pod!.statistics(own).catch((e: unknown) => {
        throw new HttpError(503, `the pod's statistics are not available: ${e instanceof Error ? e.message : String(e)}`);
      }),
      nowMs: () => this.o.now().getTime(),
    });
  }

  /** The Open Inference Protocol's semantics, which the REST routes here and the gRPC server call. */
  get oip(): OipService {
    return this.oipService;
  }

  /** This process: the model loaded, not leaving. */
  get ownReady(): boolean {
    return this.loaded !== undefined && !this.draining && !this.leaving;
  }

  /** What the readiness endpoints report: this process ready, and with workers every other one too. */
  /** The OIP statistics this process counted (with workers, the primary sums every worker's). */
  localStatistics(): OipModelStatistics {
    return this.oipService.localStatistics();
  }

  get ready(): boolean {
    return this.ownReady && this.o.peersReady?.() === undefined;
  }

  /** Why the readiness endpoints report unready. */
  private get unreadyReason(): string {
    return this.ownReady ? (this.o.peersReady?.() ?? this.notReadyReason) : this.notReadyReason;
  }

  get task(): 'classification' | 'regression' | undefined {
    return this.loaded?.served.spec.label.task;
  }

  /** The served model's label (classes or range): what feedback is checked against. */
  get label(): LabelSpec | undefined {
    return this.loaded?.served.spec.label;
  }

  /** Called once the model is loaded and warmed up: from here on the server reports ready. */
  setModel(served: ServedModel, drift: Pick<DriftWindow, 'add'>): void {
    this.loaded = { served, features: signatureOf(served.spec), extras: extrasOf(served.spec), drift };
    this.o.metrics.modelReady.set(1);
  }

  setNotReady(reason: string): void {
    this.notReadyReason = reason;
  }

  /**
   * Report unready but go on serving: the pod's endpoint is still being removed from the EndpointSlices (and from
   * kube-proxy's rules or a client's list) when SIGTERM arrives; refusing at once would fail those requests.
   */
  leave(): void {
    this.leaving = true;
    this.notReadyReason = 'shutting down';
    this.o.metrics.modelReady.set(0);
  }

  /** Stop taking new requests (they get 503 and Connection: close); resolves when in-flight ones are answered. */
  drain(): Promise<void> {
    this.draining = true;
    this.notReadyReason = 'shutting down';
    this.o.metrics.modelReady.set(0);
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const method = req.method ?? 'GET';
    let path: string | undefined;
    let malformed: Error | undefined;
    try {
      path = requestPath(req.url ?? '/');
    } catch (e: unknown) {
      malformed = e instanceof Error ? e : undefined;
    }
    const matched = path === undefined ? undefined : matchRoute(method, path);
    const route = matched?.label ?? serverRoutes.other;
    if (this.draining || this.leaving) res.setHeader('connection', 'close');
    // One listener for both ends of a response: 'close' follows 'finish' on an answered request; a connection closed
    // before the answer was written (the client went away mid-request) is counted as nginx's 499, a client error,
    // never as an answer the server gave.
    res.once('close', () => {
      this.o.metrics.observeRequest(route, res.writableFinished ? res.statusCode : 499, (performance.now() - started) / 1000);
    });
    this.inFlight += 1;
    void this.answer(matched === undefined || path === undefined ? (malformed ?? new BadRequestError('malformed request target')) : { req, res, method, path, params: matched.params }, matched, res);
  }

  /** Runs a route's action (or answers the request target's problem), then counts the request as done. */
  private async answer(call: Call | Error, matched: RouteMatch | undefined, res: ServerResponse): Promise<void> {
    try {
      if (call instanceof Error) throw call;
      if (matched === undefined) throw new BadRequestError('malformed request target');
      await this.actions[matched.action](call);
    } catch (e: unknown) {
      try {
        this.fail(res, e);
      } catch (e2: unknown) {
        this.o.log.error('answering a failed request failed', { error: e2 instanceof Error ? e2.message : String(e2) });
      }
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0 && this.draining) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      }
    }
  }

  private fail(res: ServerResponse, e: unknown): void {
    const answer = answerOf(e);
    if (answer !== undefined) {
      if (answer.close && !res.headersSent) res.setHeader('connection', 'close');
      return send(res, answer.status, { error: answer.message });
    }
    if (e instanceof QueueFullError) {
      if (!res.headersSent) res.setHeader('retry-after', '1');
      return send(res, 503, { error: e.message });
    }
    this.o.log.error('request failed', { error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
    return send(res, 500, { error: 'internal error' });
  }

  /** What each route of the table in routes.ts does. */
  private readonly actions: Readonly<Record<RouteMatch['action'], (c: Call) => Promise<void> | void>> = {
    metrics: async ({ res }) => {
      const { text, contentType } = this.o.pod === undefined
        ? { text: await this.o.metrics.registry.metrics(), contentType: this.o.metrics.registry.contentType }
        : await this.o.pod.metrics().catch((e: unknown) => {
          throw new HttpError(503, `the pod's metrics are not available: ${e instanceof Error ? e.message : String(e)}`);
        });
      res.writeHead(200, { 'content-type': contentType });
      res.end(text);
    },
    alive: ({ res }) => send(res, 200, { status: 'alive' }),
    live: ({ res }) => send(res, 200, { live: true }),
    ready: ({ res }) => (this.ready ? send(res, 200, { ready: true }) : send(res, 503, { ready: false, error: this.unreadyReason })),
    server: ({ res }) => send(res, 200, this.oipService.serverMetadata()),
    feedbackElsewhere: () => {
      throw new HttpError(404, 'feedback is not taken on the inference port: send it to the deployment\'s feedback Service (port PERENNIAL_SERVER_FEEDBACK_PORT) with its token');
    },
    v2Infer: (c) => {
      const { name, version } = this.modelOf(c.params);
      const target = { modelName: name, modelVersion: version, mirror: shouldMirror(this.o.track, c.req.headers) };
      return answerInfer(this.oipService, c.req, c.res, target, { maxBodyBytes: this.o.maxBodyBytes, bodyTimeoutMs: this.o.bodyTimeoutMs });
    },
    v2ModelReady: (c) => {
      this.checkModel(c.params);
      this.sendModelReady(c.res);
    },
    v2ModelMetadata: (c) => {
      const { name, version } = this.modelOf(c.params);
      send(c.res, 200, this.oipService.modelMetadata(name, version));
    },
    v2Statistics: (c) => {
      const [encodedName] = c.params;
      const { name, version } = encodedName === undefined ? { name: undefined, version: undefined } : this.modelOf(c.params);
      return answerStatistics(this.oipService, c.res, name, version);
    },
    v2RepositoryIndex: (c) => answerRepositoryIndex(this.oipService, c.req, c.res, { maxBodyBytes: this.o.maxBodyBytes, bodyTimeoutMs: this.o.bodyTimeoutMs }),
    v2RepositoryChange: (c) => {
      c.req.resume();
      refuseRepositoryChange();
    },
    v1Predict: (c) => {
      this.checkModel(c.params);
      return this.predictV1(c.req, c.res, shouldMirror(this.o.track, c.req.headers));
    },
    v1Model: (c) => {
      this.checkModel(c.params);
      this.sendModelReady(c.res);
    },
    notAllowed: ({ method, path }) => {
      throw new HttpError(405, `${method} not allowed on ${path}`);
    },
    notFound: ({ method, path }) => {
      throw new HttpError(404, `no route for ${method} ${shown(path, 200)}`);
    },
  };

  private sendModelReady(res: ServerResponse): void {
    if (this.ready) send(res, 200, { name: this.o.modelName, ready: true });
    else send(res, 503, { name: this.o.modelName, ready: false, error: this.unreadyReason });
  }

  /** The model name and version of the path's params, decoded (a 400 for a malformed escape). */
  private modelOf([encodedName = '', encodedVersion]: readonly (string | undefined)[]): { name: string; version: string | undefined } {
    return { name: decodeSegment(encodedName, 'model name'), version: encodedVersion === undefined ? undefined : decodeSegment(encodedVersion, 'model version') };
  }

  /** params: the model name and version of the path, percent-encoded as they came. */
  private checkModel([encodedName = '', encodedVersion]: readonly (string | undefined)[]): void {
    const name = decodeSegment(encodedName, 'model name');
    const version = encodedVersion === undefined ? undefined : decodeSegment(encodedVersion, 'model version');
    if (name !== this.o.modelName) throw new HttpError(404, `model ${shown(name)} is not served here (serving "${this.o.modelName}")`);
    if (version !== undefined && version !== this.o.version) throw new HttpError(404, `model ${shown(name)} version ${shown(version)} is not served here (serving "${this.o.version}")`);
  }

  private need(): Loaded {
    if (this.draining) throw new HttpError(503, 'shutting down');
    if (!this.loaded) throw new HttpError(503, `model not ready: ${this.notReadyReason}`);
    return this.loaded;
  }

  /**
   * Predicts rows and records them (log, metrics, drift, shadow) before the answer goes out; `mirror` false for a
   * request that is itself a mirror (or on the shadow track). `meta`: per row, the event time and row id its record
   * carries (only when the model declares those columns).
   */
  private async predict({ rows, meta }: ParsedRows, mirror: boolean): Promise<{ ids: string[]; predictions: Prediction[] }> {
    const m = this.need();
    const predictions = await this.batcher.submit(rows);
    // Checked values can still scale past float32 inside the model (a value far outside the training data):
    // NaN is no prediction, and nothing of the request is recorded.
    const bad = predictions.findIndex((p) => !isFinitePrediction(p));
    if (bad >= 0) throw new BadRequestError(`row ${bad}: the model's output is not a finite number (feature values far outside what it was trained on?)`, 422);
    const now = this.o.now();
    const nowMs = now.getTime();
    const time = now.toISOString();
    const { version, deployment, signingKey } = this.o;
    const track = this.o.track;
    const ids: string[] = [];
    for (let i = 0; i < predictions.length; i++) {
      const p = predictions[i] as Prediction;
      const probabilities = 'label' in p ? p.probabilities : undefined;
      const out = 'label' in p ? p.label : p.value;
      const nonce = newNonce();
      const id = signPredictionId(signingKey, deployment, probabilities === undefined
        ? { nonce, version, track, timeMs: nowMs, prediction: out }
        : { nonce, version, track, timeMs: nowMs, prediction: out, probabilities });
      ids.push(id);
      const record = predictionRecord(id, time, version, track, rows[i] as Readonly<Record<string, RawValue>>, out, probabilities, meta?.[i]);
      // The log's line is the record's JSON: the Kafka sink publishes it as it is.
      const line = this.o.predictionLog.append(record);
      this.o.events?.publish(record, line);
      if ('label' in p) this.o.metrics.countPrediction(p.label);
      else this.o.metrics.predictionValue.observe(p.value);
    }
    m.drift.add(rows, nowMs);
    this.o.confidence?.add(predictions, nowMs);
    // A mirror carries the extras too, so a shadow that declares them logs them alike.
    const extras = m.extras;
    if (mirror) this.o.shadow?.mirror(meta === undefined || extras === undefined ? rows : rows.map((r, i) => withMeta(r, extras, meta[i])), predictions);
    this.o.shadowScoring?.hold(rows, predictions, now.getTime());
    return { ids, predictions };
  }

  private async predictV1(req: IncomingMessage, res: ServerResponse, mirror: boolean): Promise<void> {
    const m = this.need();
    const parsed = parseV1Predict(await readJson(req, this.o.maxBodyBytes, this.o.bodyTimeoutMs), m.features, this.o.maxInstances, this.o.maxStringBytes, m.extras);
    const { ids, predictions } = await this.predict(parsed, mirror);
    send(res, 200, v1Answer(this.o.modelName, this.o.version, m.served.spec.label, predictions, ids), this.o.version);
  }
}

/** The inference-log record of one prediction; the optional fields only when there are (the log's JSON omits them). */
function predictionRecord(
  id: string, time: string, modelVersion: string, track: string, features: Readonly<Record<string, RawValue>>, prediction: string | number,
  probabilities: readonly number[] | undefined, meta: RowMeta | undefined,
): PredictionRecord {
  const record: { -readonly [K in keyof PredictionRecord]: PredictionRecord[K] } = { v: inferenceLogVersion, kind: 'prediction', id, time, modelVersion, track, features, prediction };
  if (probabilities !== undefined) record.probabilities = probabilities;
  if (meta?.eventTime !== undefined) record.eventTime = meta.eventTime;
  if (meta?.rowId !== undefined) record.rowId = meta.rowId;
  return record;
}

/** The v1 :predict answer: classes and probabilities for a classifier. */
function v1Answer(modelName: string, version: string, label: LabelSpec, predictions: readonly Prediction[], ids: readonly string[]): object {
  const answer: Record<string, unknown> = { model_name: modelName, model_version: version, predictions: predictions.map((p) => ('label' in p ? p.label : p.value)), prediction_ids: ids };
  if (label.task === 'classification') {
    answer['classes'] = label.classes;
    answer['probabilities'] = predictions.map((p) => ('label' in p ? p.probabilities : []));
  }
  return answer;
}
