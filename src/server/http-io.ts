// The HTTP plumbing both of the server's listeners share (the inference API and the feedback API): JSON answers,
// bounded JSON bodies, and the error an HTTP status stands for; and the edge of each listener, where no request may
// crash the process or hold it: a request target is parsed without throwing, a POST body must be JSON
// (415 otherwise) and arrive within the body timeout (408), headers within the header timeout, a request the HTTP
// parser refuses gets a 4xx in JSON (clientError), and connections are capped.
import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { OipError } from './oip/types.js';
import { BadRequestError } from './requests.js';

/** An answer other than 200 decided by the server (404, 405, 413, 503, ...): the message goes to the client. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function send(res: ServerResponse, status: number, body: unknown, modelVersion?: string): void {
  // An answer already on its way (the body failed after it started) or a connection gone: nothing more to say.
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  const headers: OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
  if (modelVersion !== undefined) headers['x-model-version'] = modelVersion;
  res.writeHead(status, headers);
  res.end(text);
}

/** Bounds of a listener, from the pod contract (config.ts); 0 switches a bound off. */
export interface EdgeLimits {
  /** Longest wait for a request's headers, in ms (0: Node's 60 s). */
  readonly headersTimeoutMs: number;
  /** Longest wait for a request's whole body once its headers are in, in ms (0: none). */
  readonly bodyTimeoutMs: number;
  /** Most open connections per listener; later ones are closed at once (0: no cap). */
  readonly maxConnections: number;
  /**
   * Requests answered on one kept-alive connection before the answer says `Connection: close` (0: no cap). A
   * Service balances connections, not requests: without a cap, clients that keep their connections never reach a
   * pod started after they connected — a canary would get no traffic from them.
   */
  readonly maxRequestsPerConnection: number;
  /**
   * Age in ms past which a kept-alive connection's next answer says `Connection: close` (0: none; each connection's is
   * drawn between half and all of it). With the request
   * cap it bounds how long a client stays on one pod whatever its rate: a slow client rebalances within the age, a fast
   * one within its requests, and a fast one is not made to reconnect every few milliseconds.
   */
  readonly maxConnectionAgeMs: number;
}

/** When a connection reaches its age (performance.now()): its next answer closes it. */
const closeAfter = Symbol('closeAfter');

/** createServer options for a listener with these limits. */
export function listenerOptions(l: EdgeLimits): ServerOptions {
  const headersTimeout = l.headersTimeoutMs > 0 ? l.headersTimeoutMs : 60_000;
  return {
    keepAliveTimeout: 65_000,
    headersTimeout,
    // A backstop for bodies no handler reads (readJson enforces bodyTimeoutMs itself, answering 408).
    requestTimeout: l.bodyTimeoutMs > 0 ? headersTimeout + l.bodyTimeoutMs + 5000 : 300_000,
    // Node checks both timeouts on this period (default 30 s): a stalled request is closed within a second.
    connectionsCheckingInterval: 1000,
  };
}

/**
 * Puts a listener's bounds and its clientError handler in place. `counted` learns the status of every answer
 * given here (requests the HTTP parser refused never reach a handler, but they are counted all the same).
 */
export function guardListener(server: Server, l: EdgeLimits, counted: (status: number) => void): void {
  if (l.maxConnections > 0) server.maxConnections = l.maxConnections;
  if (l.maxRequestsPerConnection > 0) server.maxRequestsPerSocket = l.maxRequestsPerConnection;
  if (l.maxConnectionAgeMs > 0) {
    const maxAgeMs = l.maxConnectionAgeMs;
    // Each connection's age is drawn between half and all of the bound (gRPC's max-connection-age is jittered too):
    // connections a client opened in one burst do not all close, and reconnect, in one burst again.
    server.on('connection', (socket: Socket & { [closeAfter]?: number }) => {
      socket[closeAfter] = performance.now() + maxAgeMs * (0.5 + Math.random() / 2);
    });
    server.prependListener('request', (req: IncomingMessage & { socket: { [closeAfter]?: number } }, res: ServerResponse) => {
      if (performance.now() > (req.socket[closeAfter] ?? 0)) res.setHeader('connection', 'close');
    });
  }
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => answerClientError(err, socket, counted));
}

/** The answer to a request the HTTP parser refused (Node's clientError), by the parser's error code. */
export function clientErrorAnswer(code: string | undefined): { status: number; message: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, message: 'request headers too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADER_TIMEOUT':
      return { status: 408, message: 'request not received in time' };
    case 'HPE_INVALID_URL':
      return { status: 400, message: 'malformed request target' };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { status: 400, message: 'malformed Content-Length' };
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return { status: 400, message: 'malformed Transfer-Encoding' };
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_STRICT':
      return { status: 400, message: 'malformed chunked body' };
    default:
      return { status: 400, message: `malformed HTTP request${code === undefined ? '' : ` (${code})`}` };
  }
}

/** A body being read: how to fail it, and when it is late (performance.now(); Infinity: no timeout). */
interface PendingBody {
  readonly refuse: (e: Error) => void;
  readonly deadline: number;
  readonly timeoutMs: number;
}

/**
 * Bodies being read, by connection: a parser error in the middle of a body fails that request (answered by its
 * handler), and one sweep every `bodySweepMs` fails those past their deadline. No timer per request: a one-packet
 * body is still incomplete when its handler starts (and on the next tick), so a timer armed per request was set and
 * cleared on nearly every one, a few µs of each.
 */
const pendingBodies = new Map<Duplex, PendingBody>();
const bodySweepMs = 250;
let bodySweep: NodeJS.Timeout | undefined;

function sweepLateBodies(): void {
  const now = performance.now();
  for (const [socket, p] of pendingBodies) {
    if (now > p.deadline) p.refuse(new HttpError(408, `request body not received within ${p.timeoutMs / 1000} s`));
    else if (socket.destroyed) pendingBodies.delete(socket);
  }
}

function answerClientError(err: Error & { code?: string }, socket: Duplex, counted: (status: number) => void): void {
  // The client went away (a reset, or its end of the connection closed mid-request): nobody to answer; a request in
  // progress is counted as 499 by its handler.
  if (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' || !socket.writable) {
    socket.destroy();
    return;
  }
  const answer = clientErrorAnswer(err.code);
  const pending = pendingBodies.get(socket);
  if (pending !== undefined) {
    // The request's handler answers (and counts) it, then the connection closes.
    pending.refuse(new HttpError(answer.status, answer.message));
    return;
  }
  const body = JSON.stringify({ error: answer.message });
  socket.end(`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  counted(answer.status);
}

const plainTarget = /^\/[A-Za-z0-9_:/-]{0,512}$/;

/**
 * The path of a request target (origin form `/a/b?q`, or absolute form `http://host/a/b`), normalised as the
 * WHATWG URL parser does; a BadRequestError for anything else. Never throws anything but that.
 */
export function requestPath(target: string): string {
  // The common target (letters, digits, '_', '-', ':', '/'; no dot segment, escape or query) is its own normalised
  // path: the URL parser, a microsecond per request, is left for the rest.
  if (plainTarget.test(target)) return target;
  try {
    if (target.startsWith('/')) return new URL(`http://x${target}`).pathname;
    if (/^https?:\/\//i.test(target)) return new URL(target).pathname;
  } catch {
    // fall through: malformed
  }
  throw new BadRequestError(`malformed request target ${JSON.stringify(target.slice(0, 100))}`);
}

/** Decodes one percent-encoded path segment (a model name, a version); 400 for a malformed escape. */
export function decodeSegment(segment: string, what: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequestError(`malformed percent-escape in the ${what} ${JSON.stringify(segment.slice(0, 100))}`);
  }
}

/**
 * Why a request body cannot be read as JSON from its headers, or undefined: the media type must be
 * application/json (a charset parameter, if any, utf-8), the content coding identity.
 */
export function jsonBodyProblem(contentType: string | undefined, contentEncoding: string | undefined): string | undefined {
  // What nearly every client sends, answered without splitting the header.
  if (contentType === 'application/json' && contentEncoding === undefined) return undefined;
  if (contentType === undefined || contentType.trim() === '') return 'missing Content-Type: send application/json';
  const [type = '', ...params] = contentType.split(';').map((x) => x.trim().toLowerCase());
  if (type !== 'application/json') return `Content-Type ${JSON.stringify(contentType.slice(0, 100))} is not supported: send application/json`;
  for (const p of params) {
    const [k, v = ''] = p.split('=').map((x) => x.trim());
    if (k === 'charset' && !['utf-8', 'utf8', '"utf-8"'].includes(v)) return `charset ${JSON.stringify(v.slice(0, 40))} is not supported: JSON is UTF-8`;
  }
  const coding = (contentEncoding ?? '').trim().toLowerCase();
  if (coding !== '' && coding !== 'identity') return `Content-Encoding ${JSON.stringify(coding.slice(0, 40))} is not supported: send the body uncompressed`;
  return undefined;
}

/**
 * Reads a request body of at most `limit` bytes, whatever its type: 413 past the limit, 408 when it has not fully
 * arrived `timeoutMs` after the headers (0: no limit), 400 for a body the HTTP parser refused midway. A refused body
 * is not buffered: the rest is discarded and the connection closed after the answer.
 */
export function readBody(req: IncomingMessage, limit: number, timeoutMs = 0): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  return new Promise<Buffer>((resolve, reject) => {
    const socket = req.socket;
    let settled = false;
    const forget = (): void => {
      settled = true;
      // A pipelined request on the same connection may have taken the entry since.
      if (pendingBodies.get(socket)?.refuse === refuse) pendingBodies.delete(socket);
    };
    const refuse = (e: Error): void => {
      forget();
      req.removeAllListeners('data');
      req.on('data', () => undefined);
      req.on('error', () => undefined);
      reject(e);
    };
    const tooLarge = (what: string): void => refuse(new HttpError(413, `body too large: ${what}, at most ${limit} bytes`));
    if (Number.isFinite(declared) && declared > limit) return tooLarge(`${declared} bytes`);
    pendingBodies.set(socket, { refuse, deadline: timeoutMs > 0 ? performance.now() + timeoutMs : Infinity, timeoutMs });
    // Started once, for every reader: it also forgets the bodies of connections that went away without an error.
    bodySweep ??= setInterval(sweepLateBodies, bodySweepMs).unref();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return tooLarge(`more than ${limit} bytes`);
      chunks.push(chunk);
      return undefined;
    });
    req.once('end', () => {
      if (settled) return; // refused already
      forget();
      // A small body arrives as one chunk: no copy.
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    // The client went away or broke the stream: its mistake, never a fault of the server.
    req.once('error', (e: Error) => refuse(new HttpError(400, `request body aborted: ${e.message}`)));
    return undefined;
  });
}

/**
 * Reads a JSON body of at most `limit` bytes: 415 for a body that is not declared application/json, 413 past the
 * limit, 408 when it has not fully arrived `timeoutMs` after the headers (0: no limit), 400 for bad JSON or a body
 * the HTTP parser refused midway. A body that is refused is not buffered: the rest is discarded and the connection
 * closed after the answer (the stream is not destroyed, or the client would never see the answer).
 */
export async function readJson(req: IncomingMessage, limit: number, timeoutMs = 0): Promise<unknown> {
  const problem = jsonBodyProblem(req.headers['content-type'], req.headers['content-encoding']);
  if (problem !== undefined) {
    req.resume();
    throw new HttpError(415, problem);
  }
  const text = (await readBody(req, limit, timeoutMs)).toString('utf8');
  if (text.trim() === '') throw new BadRequestError('empty body: expected JSON');
  try {
    return JSON.parse(text) as unknown;
  } catch (e: unknown) {
    throw new BadRequestError(`malformed JSON: ${e instanceof Error ? e.message.slice(0, 200) : String(e)}`);
  }
}

/** Errors a request handler maps to an answer: the status and message, and whether the connection must close. */
export function answerOf(e: unknown): { status: number; message: string; close: boolean } | undefined {
  if (e instanceof BadRequestError) return { status: e.status, message: e.message, close: false };
  if (e instanceof OipError) return { status: e.status, message: e.message, close: false };
  // A refused body (413, 408, 415, a broken stream) may still be arriving: close the connection after the answer.
  if (e instanceof HttpError) return { status: e.status, message: e.message, close: [400, 408, 413, 415].includes(e.status) };
  return undefined;
}
