// The feedback API, on its own listener (PERENNIAL_SERVER_FEEDBACK_PORT, the ModelDeployment's feedback Service),
// never on the inference port that an HTTPRoute exposes:
//   POST /v1/feedback   Authorization: Bearer <token>   {"id", "label"} or {"feedback": [{"id", "label"}, ...]}
// A label is taken only when
//   1. the request carries one of the feedback tokens (401 otherwise; nothing is read),
//   2. its id is a prediction id this deployment signed (src/shared/prediction-id.ts) no older than the feedback
//      age limit — so a label can only be given to a prediction the server really made,
//   3. the label is one the model can take (src/shared/label-check.ts: one of its classes; a finite number inside the
//      declared range), and
//   4. it is the first label this replica has seen for the id (later ones are duplicates).
// Taken labels go to the feedback log (the trainer joins them with the logged predictions) and are scored at once
// under the version that made the prediction, whichever replica made it. Every refusal is counted by outcome.
// One item: 200 taken, 409 duplicate, 400 malformed, 422 refused. A list: 200 with what happened to each item, or 422
// when not one item was taken or already known.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'winston';
import { inferenceLogVersion, type FeedbackRecord } from '../shared/inference-log.js';
import { checkLabel } from '../shared/label-check.js';
import { verifyPredictionId } from '../shared/prediction-id.js';
import type { LabelSpec } from '../shared/preprocessing.js';
import { serverRoutes } from '../shared/server-metrics.js';
import { answerOf, HttpError, readJson, requestPath, send } from './http-io.js';
import type { LabelledIds } from './labelled-ids.js';
import type { LogWriter } from './log-writer.js';
import type { ServerMetrics } from './metrics.js';
import { BadRequestError, parseFeedback } from './requests.js';

export interface FeedbackApiOptions {
  /** `<namespace>/<deployment>`: prediction ids are bound to it. */
  readonly deployment: string;
  readonly signingKey: Buffer;
  /** Bearer tokens accepted (more than one during a rotation). */
  readonly tokens: readonly string[];
  readonly maxItems: number;
  readonly maxBodyBytes: number;
  /** A body not fully arrived this long after the headers is answered 408 (0: no limit). */
  readonly bodyTimeoutMs: number;
  /** Labels for predictions older than this are refused. */
  readonly maxLabelAgeMs: number;
  /** The served model's label (undefined until it is loaded: 503). */
  readonly label: () => LabelSpec | undefined;
  readonly labelled: LabelledIds;
  readonly feedbackLog: LogWriter;
  /** The Kafka sink (spec.server.kafka): each logged label is also published there. */
  readonly events?: { publish(record: FeedbackRecord, json?: string): void } | undefined;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
  readonly now: () => Date;
}

export interface FeedbackAnswer {
  readonly accepted: number;
  readonly duplicate: readonly string[];
  readonly rejected: readonly { readonly index: number; readonly reason: string }[];
}

/** Tolerated clock difference between replicas for ids stamped "in the future". */
const clockSkewMs = 5 * 60_000;

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export class FeedbackApi {
  private readonly tokenDigests: readonly Buffer[];
  private draining = false;
  /** Told to stop but still taking labels (the shutdown delay): every answer closes its connection. */
  private leaving = false;

  constructor(private readonly o: FeedbackApiOptions) {
    this.tokenDigests = o.tokens.map(digest);
  }

  /**
   * The pod is leaving (SIGTERM): labels are still taken while kube-proxy takes the endpoint out of rotation, but every
   * answer says `Connection: close`, so a client on a kept-alive connection (a label sender posting a batch) opens its
   * next one through the Service to a pod that stays, instead of posting the rest of the batch here.
   */
  leave(): void {
    this.leaving = true;
  }

  /** New requests get 503 from here on (shutdown). */
  drain(): void {
    this.leaving = true;
    this.draining = true;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    if (this.leaving) res.setHeader('connection', 'close');
    res.once('finish', () => this.o.metrics.observeRequest(serverRoutes.feedback, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9));
    this.dispatch(req, res).catch((e: unknown) => {
      const answer = answerOf(e);
      if (answer !== undefined) {
        if (answer.close && !res.headersSent) res.setHeader('connection', 'close');
        return send(res, answer.status, { error: answer.message });
      }
      this.o.log.error('feedback request failed', { error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
      return send(res, 500, { error: 'internal error' });
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestPath(req.url ?? '/');
    if (path !== '/v1/feedback') throw new HttpError(404, `no route for ${req.method ?? 'GET'} ${path.slice(0, 200)} (this port serves POST /v1/feedback only)`);
    if (req.method !== 'POST') throw new HttpError(405, `${req.method ?? 'GET'} not allowed on /v1/feedback`);
    if (!this.authorized(req.headers.authorization)) {
      this.o.metrics.feedbackOutcome('unauthorized');
      res.setHeader('www-authenticate', 'Bearer realm="perennial-feedback"');
      req.resume();
      res.setHeader('connection', 'close');
      throw new HttpError(401, 'feedback needs the deployment\'s feedback token: Authorization: Bearer <token>');
    }
    if (this.draining) throw new HttpError(503, 'shutting down');
    const label = this.o.label();
    if (label === undefined) throw new HttpError(503, 'model not loaded yet: labels cannot be checked');
    const body = await readJson(req, this.o.maxBodyBytes, this.o.bodyTimeoutMs);
    if (this.draining) throw new HttpError(503, 'shutting down'); // the feedback log may be closed by now
    const single = typeof body === 'object' && body !== null && !Array.isArray(body) && !('feedback' in body);
    const parsed = parseFeedback(body, this.o.maxItems);
    const rejected: { index: number; reason: string }[] = parsed.invalid.map((x) => ({ ...x }));
    const duplicate: string[] = [];
    let accepted = 0;
    const now = this.o.now();
    for (const item of parsed.items) {
      const outcome = this.take(item.id, item.label, label, now);
      if (outcome === 'accepted') accepted++;
      else if (outcome === 'duplicate') duplicate.push(item.id);
      else rejected.push({ index: item.index, reason: outcome.reason });
    }
    this.o.metrics.feedbackOutcome('rejected', parsed.invalid.length);
    const answer: FeedbackAnswer = { accepted, duplicate, rejected: rejected.sort((a, b) => a.index - b.index) };
    if (single) {
      const r = answer.rejected[0];
      if (r !== undefined) throw new BadRequestError(`feedback: ${r.reason}`, parsed.invalid.length > 0 ? 400 : 422);
      return send(res, duplicate.length > 0 ? 409 : 200, answer);
    }
    return send(res, accepted === 0 && duplicate.length === 0 && rejected.length > 0 ? 422 : 200, answer);
  }

  private authorized(header: string | undefined): boolean {
    const m = /^Bearer\s+(\S{1,4096})\s*$/i.exec(header ?? '');
    if (!m) return false;
    const given = digest(m[1] ?? '');
    // Digests have one length, so the comparison takes the same time whatever the token.
    return this.tokenDigests.reduce((ok, d) => timingSafeEqual(d, given) || ok, false);
  }

  private take(id: string, value: string | number, spec: LabelSpec, now: Date): 'accepted' | 'duplicate' | { reason: string } {
    const verified = verifyPredictionId(this.o.signingKey, this.o.deployment, id);
    if (!verified.ok) return this.refuse(verified.reason);
    const { claim } = verified;
    const age = now.getTime() - claim.timeMs;
    if (age > this.o.maxLabelAgeMs) return this.refuse(`the prediction is older than the feedback age limit (${Math.round(this.o.maxLabelAgeMs / 1000)} s)`, claim.version);
    if (age < -clockSkewMs) return this.refuse('the prediction id is stamped in the future', claim.version);
    const checked = checkLabel(spec, value);
    if (!checked.ok) return this.refuse(checked.reason, claim.version);
    if (!this.o.labelled.first(id, now.getTime())) {
      this.o.metrics.feedbackOutcome('duplicate', 1, claim.version);
      return 'duplicate';
    }
    const record: FeedbackRecord = { v: inferenceLogVersion, kind: 'feedback', id, label: checked.value, time: now.toISOString() };
    const line = this.o.feedbackLog.append(record);
    this.o.events?.publish(record, line);
    this.o.metrics.scoreFeedback(claim.version, claim, checked.value, spec.task === 'classification' ? spec.classes : []);
    return 'accepted';
  }

  private refuse(reason: string, version?: string): { reason: string } {
    this.o.metrics.feedbackOutcome('rejected', 1, version);
    return { reason };
  }
}
