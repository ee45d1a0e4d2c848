// Typed errors for everything a controller can meet from the Kubernetes API, mapped ONCE where they enter: the
// operator's HTTP client (kube-http.ts) throws them for every response and network failure (errorForResponse), and
// toKubeError maps what client-node's watch throws. Classified ONCE for the worker (classify): retry with backoff,
// or requeue after the server's hint. Mapping uses the HTTP status code and the Status object's `reason`, never the
// message text, which is neither stable nor localised-proof. The shape follows kueue's errors.go: a few sentinel
// types, checked by instanceof. A spec the controller cannot act on is no error: it is a condition (acceptance.ts),
// and the reconcile ends normally; nothing is dropped without one.
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

/** Seconds of a Retry-After header (given as a record of header names to values), or undefined. */
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

/** The typed error of a response that is not 2xx: its status code, body (a metav1.Status, as text) and headers. */
export function errorForResponse(code: number, body: unknown, headers: Readonly<Record<string, string>>): Error {
  return errorForStatus(code, parseStatusBody(body), retryAfterHeader(headers), undefined);
}

/**
 * The mapping from whatever a client threw to a typed error. Typed errors pass through; an ApiException (client-node)
 * maps by code and body.reason; a network failure becomes a TransientError; anything else is returned as an Error,
 * which the worker retries with backoff.
 */
export function toKubeError(e: unknown): Error {
  if (e instanceof KubeApiError) return e;
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
  | { readonly action: 'requeueAfter'; readonly ms: number };

export interface Classified {
  readonly disposition: Disposition;
  /** Low-cardinality label for the errors metric. */
  readonly label: string;
}

/**
 * What the worker does with a failed reconcile: retry with the per-key backoff (so a broken dependency never becomes
 * a hot loop), or requeue after the server's hint. What only a new spec can fix never gets here: the controllers
 * say it in a condition and end the reconcile, and the spec's next edit brings a new event.
 */
export function classify(e: unknown): Classified {
  const err = toKubeError(e);
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
