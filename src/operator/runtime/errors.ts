// Typed errors for everything a controller can meet, mapped ONCE from API responses and network failures
// (toKubeError), and classified ONCE for the worker (classify): retry with backoff, requeue after a delay, or drop.
// Mapping uses the HTTP status code and the Status object's `reason`, never the message text, which is neither
// stable nor localised-proof. The shape follows kueue's errors.go: a few sentinel types, checked by instanceof.
import { ApiException } from '@kubernetes/client-node';

/** Base of every error the runtime maps from the Kubernetes API. */
export class KubeApiError extends Error {
  constructor(
    message: string,
    /** HTTP status code, when the error came from a response. */
    readonly code: number | undefined,
    /** metav1.Status reason, e.g. "AlreadyExists", when the body carried one. */
    readonly reason: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class NotFoundError extends KubeApiError {}
export class AlreadyExistsError extends KubeApiError {}
/** 409 on a write carrying a stale resourceVersion (optimistic concurrency). */
export class ConflictError extends KubeApiError {}
/** 401 or 403: RBAC or authentication; retried slowly, since an admin may fix it. */
export class ForbiddenError extends KubeApiError {}
/** 422 Invalid or 400 BadRequest: the API server rejected what we sent. */
export class InvalidError extends KubeApiError {}
/** 429, 5xx, and network errors: worth retrying. */
export class TransientError extends KubeApiError {
  constructor(
    message: string,
    code: number | undefined,
    reason: string | undefined,
    /** Server's hint (Retry-After / details.retryAfterSeconds), in milliseconds. */
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, code, reason, options);
  }
}

/**
 * The user's spec cannot be acted on. The controller records it in a condition; the worker does not retry,
 * because only a new spec (which brings a new watch event) can change the outcome.
 */
export class InvalidSpecError extends Error {
  constructor(message: string, readonly reason = 'InvalidSpec', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidSpecError';
  }
}

/** A failure that retrying cannot fix (e.g. a training run that failed for good). Not retried. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/** The cache has not yet seen our own last write; reconciling now would act on old state. */
export class StaleCacheError extends Error {
  constructor(readonly key: string, readonly expectedResourceVersion: string) {
    super(`cache of ${key} is older than our write at resourceVersion ${expectedResourceVersion}`);
    this.name = 'StaleCacheError';
  }
}

/** Error codes of Node's net/tls/dns layers and undici/node-fetch that mean "the server was not reachable". */
const networkCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH',
  'ENETDOWN', 'EAI_AGAIN', 'ENOTFOUND', 'ESOCKETTIMEDOUT', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

interface StatusBody {
  readonly reason: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly message: string | undefined;
}

/** Reads a metav1.Status from an ApiException body, which client-node gives as text (or sometimes parsed). */
export function parseStatusBody(body: unknown): StatusBody {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return { reason: undefined, retryAfterSeconds: undefined, message: undefined };
    }
  }
  if (typeof value !== 'object' || value === null) {
    return { reason: undefined, retryAfterSeconds: undefined, message: undefined };
  }
  const rec = value as { reason?: unknown; message?: unknown; details?: { retryAfterSeconds?: unknown } };
  return {
    reason: typeof rec.reason === 'string' && rec.reason !== '' ? rec.reason : undefined,
    message: typeof rec.message === 'string' ? rec.message : undefined,
    retryAfterSeconds: typeof rec.details?.retryAfterSeconds === 'number' ? rec.details.retryAfterSeconds : undefined,
  };
}

function retryAfterHeader(headers: unknown): number | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const raw = (headers as Record<string, unknown>)['retry-after'];
  const n = typeof raw === 'string' ? Number(raw) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function errorCode(e: object): string | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function statusCodeOf(e: object): number | undefined {
  // client-node's Watch throws a plain Error with statusCode for a non-200 watch response.
  const sc = (e as { statusCode?: unknown }).statusCode;
  return typeof sc === 'number' ? sc : undefined;
}

/** Maps an HTTP status and Status reason to a typed error. */
export function errorForStatus(
  code: number,
  status: StatusBody,
  retryAfterSecondsHeader: number | undefined,
  cause: unknown,
): Error {
  const reason = status.reason;
  const message = `kubernetes api: ${code}${reason ? ` ${reason}` : ''}${status.message ? `: ${status.message}` : ''}`;
  const opts = { cause };
  if (code === 404) return new NotFoundError(message, code, reason, opts);
  if (code === 409) {
    return reason === 'AlreadyExists'
      ? new AlreadyExistsError(message, code, reason, opts)
      : new ConflictError(message, code, reason, opts);
  }
  if (code === 401 || code === 403) return new ForbiddenError(message, code, reason, opts);
  if (code === 422 || code === 400) return new InvalidError(message, code, reason, opts);
  if (code === 429 || code >= 500 || code === 408 || code === 410) {
    const seconds = status.retryAfterSeconds ?? retryAfterSecondsHeader;
    return new TransientError(message, code, reason, seconds === undefined ? undefined : seconds * 1000, opts);
  }
  return new KubeApiError(message, code, reason, opts);
}

/**
 * The one mapping from whatever the client library threw to a typed error. Typed errors pass through; an
 * ApiException maps by code and body.reason; a network failure becomes a TransientError; anything else is
 * returned as an Error, which the worker retries with backoff.
 */
export function toKubeError(e: unknown): Error {
  if (
    e instanceof KubeApiError || e instanceof InvalidSpecError || e instanceof TerminalError ||
    e instanceof StaleCacheError
  ) {
    return e;
  }
  if (e instanceof ApiException) {
    return errorForStatus(e.code, parseStatusBody(e.body), retryAfterHeader(e.headers), e);
  }
  if (typeof e === 'object' && e !== null) {
    const sc = statusCodeOf(e);
    if (sc !== undefined) return errorForStatus(sc, parseStatusBody(undefined), undefined, e);
    const code = errorCode(e);
    const name = (e as { name?: unknown }).name;
    const type = (e as { type?: unknown }).type;
    if ((code !== undefined && networkCodes.has(code)) || name === 'AbortError' || name === 'TimeoutError' ||
      type === 'system' || type === 'request-timeout') {
      const what = code ?? (typeof name === 'string' ? name : 'network error');
      return new TransientError(`kubernetes api unreachable: ${what}`, undefined, undefined, undefined, { cause: e });
    }
  }
  return e instanceof Error ? e : new Error(String(e));
}

export type Disposition =
  | { readonly action: 'retry' }
  | { readonly action: 'requeueAfter'; readonly ms: number }
  | { readonly action: 'drop' };

export interface Classified {
  readonly disposition: Disposition;
  /** Low-cardinality label for the errors metric. */
  readonly label: string;
}

/**
 * What the worker does with a failed reconcile. Drop only what waiting cannot fix (an invalid spec: the
 * controller has set a condition and the next spec change brings a new event; a terminal failure). Everything
 * else retries with the per-key backoff, so a broken dependency never becomes a hot loop either.
 */
export function classify(e: unknown): Classified {
  const err = toKubeError(e);
  if (err instanceof InvalidSpecError) return { disposition: { action: 'drop' }, label: 'invalid_spec' };
  if (err instanceof TerminalError) return { disposition: { action: 'drop' }, label: 'terminal' };
  if (err instanceof StaleCacheError) return { disposition: { action: 'retry' }, label: 'stale_cache' };
  if (err instanceof ConflictError) return { disposition: { action: 'retry' }, label: 'conflict' };
  if (err instanceof TransientError) {
    return err.retryAfterMs !== undefined && err.retryAfterMs > 0
      ? { disposition: { action: 'requeueAfter', ms: err.retryAfterMs }, label: 'transient' }
      : { disposition: { action: 'retry' }, label: 'transient' };
  }
  if (err instanceof NotFoundError) return { disposition: { action: 'retry' }, label: 'not_found' };
  if (err instanceof AlreadyExistsError) return { disposition: { action: 'retry' }, label: 'already_exists' };
  if (err instanceof ForbiddenError) return { disposition: { action: 'retry' }, label: 'forbidden' };
  if (err instanceof InvalidError) return { disposition: { action: 'retry' }, label: 'invalid' };
  if (err instanceof KubeApiError) return { disposition: { action: 'retry' }, label: 'api' };
  return { disposition: { action: 'retry' }, label: 'unknown' };
}
