// The OIP REST transport's answers that need more than a JSON reply: infer (JSON or the binary tensor extension, both
// ways), the model repository index (read-only) and the statistics. app.ts routes to these; errors go back to its
// error path, which answers {"error": "..."} with the OipError's status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, jsonBodyProblem, readBody, send } from '../http-io.js';
import { BadRequestError } from '../requests.js';
import { binaryOutputs, decodeInferRequest, encodeInferResponse, headerLengthOf, type InferTarget } from './rest-json.js';
import { OipError, type OipModelStatistics, type OipRepositoryEntry, type OipService } from './types.js';

export const inferenceHeaderLength = 'inference-header-content-length';

export interface BodyLimits {
  readonly maxBodyBytes: number;
  readonly bodyTimeoutMs: number;
}

/**
 * Why an infer body cannot be read from its headers, or undefined. JSON or the binary extension's octet stream;
 * no Content-Type at all is taken too (tritonclient sends none); the content coding must be identity.
 */
export function inferBodyProblem(contentType: string | undefined, contentEncoding: string | undefined): string | undefined {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json') return jsonBodyProblem(contentType, contentEncoding);
  if (type !== '' && type !== 'application/octet-stream') {
    return `Content-Type ${JSON.stringify((contentType ?? '').slice(0, 100))} is not supported: send application/json, or application/octet-stream with Inference-Header-Content-Length`;
  }
  const coding = (contentEncoding ?? '').trim().toLowerCase();
  if (coding !== '' && coding !== 'identity') return `Content-Encoding ${JSON.stringify(coding.slice(0, 40))} is not supported: send the body uncompressed`;
  return undefined;
}

async function readInferBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const problem = inferBodyProblem(req.headers['content-type'], req.headers['content-encoding']);
  if (problem !== undefined) {
    req.resume();
    throw new HttpError(415, problem);
  }
  return readBody(req, limits.maxBodyBytes, limits.bodyTimeoutMs);
}

export async function answerInfer(oip: OipService, req: IncomingMessage, res: ServerResponse, target: InferTarget, limits: BodyLimits): Promise<void> {
  const body = await readInferBody(req, limits);
  const request = decodeInferRequest(body, headerLengthOf(req.headers[inferenceHeaderLength], body.length), target);
  let response;
  try {
    response = await oip.infer(request);
  } catch (e: unknown) {
    // A full queue or a model not (or no longer) loaded: the client may try again shortly.
    if (e instanceof OipError && e.status === 503 && !res.headersSent) res.setHeader('retry-after', '1');
    throw e;
  }
  const { body: out, headerLength } = encodeInferResponse(response, binaryOutputs(request));
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  res.writeHead(200, {
    'content-type': headerLength === undefined ? 'application/json' : 'application/octet-stream',
    'content-length': out.length,
    'x-model-version': response.modelVersion,
    ...(headerLength === undefined ? {} : { [inferenceHeaderLength]: headerLength }),
  });
  res.end(out);
}

/** Triton's repository index entry in REST's JSON. */
function entryJson(e: OipRepositoryEntry): Record<string, string> {
  return { name: e.name, version: e.version, state: e.state, reason: e.reason };
}

/**
 * POST /v2/repository/index: the served model. The body is optional (tritonclient sends none); {"ready": true}
 * lists only ready models, as Triton does.
 */
export async function answerRepositoryIndex(oip: OipService, req: IncomingMessage, res: ServerResponse, limits: BodyLimits): Promise<void> {
  const body = (await readBody(req, limits.maxBodyBytes, limits.bodyTimeoutMs)).toString('utf8');
  let readyOnly = false;
  if (body.trim() !== '') {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new BadRequestError('malformed JSON: the repository index takes an empty body or {"ready": true|false}');
    }
    const ready = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)['ready'] : undefined;
    if (ready !== undefined && typeof ready !== 'boolean') throw new BadRequestError('"ready" must be a boolean');
    readyOnly = ready === true;
  }
  send(res, 200, oip.repositoryIndex().filter((e) => !readyOnly || e.state === 'READY').map(entryJson));
}

/** Loading and unloading are the ModelDeployment's: the repository here is read-only. */
export function refuseRepositoryChange(): never {
  throw new OipError(403, 'the model repository is read-only: the ModelDeployment chooses the version a server loads (the pipeline\'s champion, or spec.model.version)');
}

function duration(d: { count: number; ns: number }): { count: number; ns: number } {
  return { count: d.count, ns: d.ns };
}

/** Triton's ModelStatistics in REST's JSON (snake_case). */
export function statisticsJson(s: OipModelStatistics): Record<string, unknown> {
  const i = s.inferenceStats;
  return {
    name: s.name,
    version: s.version,
    last_inference: s.lastInference,
    inference_count: s.inferenceCount,
    execution_count: s.executionCount,
    inference_stats: {
      success: duration(i.success), fail: duration(i.fail), queue: duration(i.queue),
      compute_input: duration(i.computeInput), compute_infer: duration(i.computeInfer), compute_output: duration(i.computeOutput),
      cache_hit: { count: 0, ns: 0 }, cache_miss: { count: 0, ns: 0 },
    },
    batch_stats: [],
  };
}

export async function answerStatistics(oip: OipService, res: ServerResponse, name: string | undefined, version: string | undefined): Promise<void> {
  send(res, 200, { model_stats: (await oip.statistics(name, version)).map(statisticsJson) });
}
