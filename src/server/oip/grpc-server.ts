// The OIP v2 gRPC transport: `inference.GRPCInferenceService` (grpc_predict_v2.proto) and grpc.health.v1 on the
// pod's gRPC port, on @grpc/grpc-js. It decodes each message (grpc-codec.ts), calls the one OipService REST calls
// too (so checks, batching, logging, drift and shadow are the same), encodes the answer, and maps OipError once
// (grpcCodeOf). Every call is counted as its HTTP equivalent on the route REST counts it under (ModelInfer as
// v2_infer, with the status REST would answer and its latency), so the canary gates see gRPC traffic as REST.
// A message that does not parse is INVALID_ARGUMENT with a reason (grpc-js itself would answer INTERNAL).
// The edge is REST's (http-io.ts): our own TCP listener caps the open connections (PERENNIAL_SERVER_MAX_CONNECTIONS)
// and hands each to grpc-js through a connection injector of its own, so that one connection can be sent GOAWAY alone:
// in a pod of several workers, a worker over its share of the pod's gRPC connections sends one that carries a call
// GOAWAY the way HTTP/2 shuts a connection down gracefully (RFC 9113, 6.8): first a GOAWAY that refuses no stream
// (last stream id 2^31-1), so the client stops starting calls on it, and a second later the one with the last stream
// id, its calls in flight finishing (connection-balance.ts); the client reconnects, to whichever worker accepts. A
// single GOAWAY refused the calls a client had already started: ghz (grpc-go) saw 21-42 of ~30,000 calls fail
// "the connection is draining" in 4 s of eight connections at 64 calls in flight.
// grpc-js bounds the streams of one connection, closes idle
// connections, and ends every connection after its maximum age with a GOAWAY — a gRPC channel is one HTTP/2
// connection for as long as the client lives, so without an age a Service would never move a client's calls to a
// pod started after it connected (a canary would get no gRPC traffic from it): REST's requests-per-connection cap.
import { EventEmitter } from 'node:events';
import { constants as http2Constants, type ServerHttp2Session } from 'node:http2';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { Server, ServerCredentials, status, type ConnectionInjector, type handleUnaryCall, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition, type ServiceError, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { serverRoutes, type ServerRoute } from '../../shared/server-metrics.js';
import type { ConnectionShare } from '../connection-balance.js';
import { shadowHeader, shouldMirror } from '../shadow.js';
import { decodeInferRequest, encodeInferResponse, type GrpcInferRequest } from './grpc-codec.js';
import { loadOipServices } from './grpc-proto.js';
import { OipError, type OipModelStatistics, type OipService } from './types.js';

export interface GrpcServerOptions {
  readonly service: OipService;
  readonly host: string;
  /** 0: any free port (tests). */
  readonly port: number;
  /** Largest request message (the server's body limit): larger ones are RESOURCE_EXHAUSTED before decoding. */
  readonly maxMessageBytes: number;
  /** The pod's track now: a shadow never mirrors (shadow.ts). */
  readonly track: () => string;
  /** Counts a call as its HTTP equivalent (ServerMetrics.observeRequest). */
  readonly observe: (route: ServerRoute, code: number, seconds: number) => void;
  /** Errors that are bugs (INTERNAL): logged with the method, never the request. */
  readonly onInternalError?: (method: string, e: unknown) => void;
  /** The listener's bounds (config.ts). */
  readonly limits: GrpcEdgeLimits;
  /** In a worker of a pod: its share of the pod's gRPC connections, counted and kept (connection-balance.ts). */
  readonly share?: ConnectionShare | undefined;
}

/** Bounds of the gRPC listener; 0 switches a bound off. */
export interface GrpcEdgeLimits {
  /** Most open connections; later ones are closed at once (REST's PERENNIAL_SERVER_MAX_CONNECTIONS). */
  readonly maxConnections: number;
  /** Most concurrent calls (HTTP/2 streams) on one connection; more are refused by HTTP/2 flow control. */
  readonly maxConcurrentStreams: number;
  /** A connection's age at which it is sent GOAWAY (calls in flight finish within the grace), so clients reconnect. */
  readonly maxConnectionAgeMs: number;
  /** Longest a connection may stay open with no call before it is closed. */
  readonly maxConnectionIdleMs: number;
}

/** Calls in flight on a connection past its age get this long to finish before it is cut. */
const connectionAgeGraceMs = 10_000;

/** grpc-js's channel options for these bounds (a bound at 0 is left out: grpc-js's own default, none). */
export function grpcServerOptions(maxMessageBytes: number, l: GrpcEdgeLimits): Record<string, number> {
  const options: Record<string, number> = { 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.max_send_message_length': -1 };
  if (l.maxConcurrentStreams > 0) options['grpc.max_concurrent_streams'] = l.maxConcurrentStreams;
  if (l.maxConnectionAgeMs > 0) {
    options['grpc.max_connection_age_ms'] = l.maxConnectionAgeMs;
    options['grpc.max_connection_age_grace_ms'] = connectionAgeGraceMs;
  }
  if (l.maxConnectionIdleMs > 0) options['grpc.max_connection_idle_ms'] = l.maxConnectionIdleMs;
  return options;
}

/** OipError's HTTP status as a gRPC code (the one place it is mapped). */
export function grpcCodeOf(httpStatus: number): status {
  switch (httpStatus) {
    case 400: case 422: return status.INVALID_ARGUMENT;
    case 404: return status.NOT_FOUND;
    case 408: return status.DEADLINE_EXCEEDED;
    case 413: return status.RESOURCE_EXHAUSTED;
    case 503: return status.UNAVAILABLE;
    default: return status.INTERNAL;
  }
}

/** What REST would have answered for a call that ended with this error: OipError's status, else 500. */
export function httpStatusOf(e: unknown): number {
  return e instanceof OipError ? e.status : 500;
}

/** A request message as the wrapped deserializer hands it over: decoded, or why it could not be. */
type Parsed<T> = { readonly message: T } | { readonly malformed: string };

/** The definition with deserializers that never throw: a message that does not parse reaches the handler as such. */
function tolerant(def: ServiceDefinition): ServiceDefinition {
  const out: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(def)) {
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): Parsed<unknown> => {
        try {
          return { message: method.requestDeserialize(bytes) };
        } catch (e: unknown) {
          return { malformed: `the ${name} message does not parse as protobuf: ${e instanceof Error ? e.message : String(e)}` };
        }
      },
    };
  }
  return out;
}

function seconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** One accepted connection: its injector (grpc-js serves it through that), its HTTP/2 session, whether it is moving. */
interface Connection {
  readonly injector: ConnectionInjector;
  /** performance.now() when it was accepted. */
  readonly acceptedMs: number;
  session: ServerHttp2Session | undefined;
  shed: boolean;
}

/** Between the two GOAWAYs of a connection moved to another worker: more than a round trip in any cluster. */
const goawayNoticeMs = 1000;

/**
 * A connection younger than this is not moved: the pod's counts do not include it yet (each worker reports every
 * 100 ms), and a client's channels arriving at once made both workers move one, each counting the other's as none;
 * a moved connection's replacement is not moved again before it is counted either. Each move can cost a client
 * without retries a call it was starting (its own race), so a move that need not happen is one too many.
 */
const youngestMovedMs = 250;

/**
 * The http2 server grpc-js made for the injector created last: the newest entry of its Server's map of them. That map
 * is grpc-js's own (1.14), not its API: grpc-js gives no other way to a connection's session, which the first GOAWAY
 * needs; where it is missing (another grpc-js), undefined, and no connection is moved (grpc-server.test.ts fails).
 */
function newestHttp2Server(server: Server): EventEmitter | undefined {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) return undefined;
  let newest: unknown;
  for (const s of servers.keys()) newest = s;
  return newest instanceof EventEmitter ? newest : undefined;
}

/**
 * The listener's open connections by peer address (what a call's getPeer() says), each handed to grpc-js through an
 * injector of its own (a few kB: an unlistened http2 server), destroyed when its socket closes.
 */
class Connections {
  private readonly byPeer = new Map<string, Connection>();

  constructor(private readonly server: Server, private readonly share: ConnectionShare | undefined) {}

  accept(socket: Socket): void {
    const peer = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`;
    const c: Connection = { injector: this.server.createConnectionInjector(ServerCredentials.createInsecure()), acceptedMs: performance.now(), session: undefined, shed: false };
    if (this.share !== undefined) newestHttp2Server(this.server)?.once('session', (session: ServerHttp2Session) => (c.session = session));
    this.byPeer.set(peer, c);
    this.share?.opened();
    socket.once('close', () => {
      this.byPeer.delete(peer);
      this.share?.closed(c.shed);
      c.injector.destroy();
    });
    c.injector.injectConnection(socket);
  }

  /**
   * A call came on `peer`'s connection: while this worker holds more than its share, that connection is moved: a
   * GOAWAY that refuses nothing, then, a second later, grpc-js's drain (GOAWAY with the last stream; the calls in
   * flight get the age's grace before the connection is cut).
   */
  called(peer: () => string): void {
    if (this.share === undefined || !this.share.wantsShed()) return;
    const c = this.byPeer.get(peer());
    if (c === undefined || c.shed || c.session === undefined || c.session.closed || c.session.destroyed) return;
    if (performance.now() - c.acceptedMs < youngestMovedMs) return;
    c.shed = true;
    this.share.shedding();
    c.session.goaway(http2Constants.NGHTTP2_NO_ERROR, 2 ** 31 - 1, Buffer.from('rebalance'));
    setTimeout(() => c.injector.drain(connectionAgeGraceMs), goawayNoticeMs).unref();
  }
}

/** The model server's gRPC listener. */
export class OipGrpcServer {
  private leaving = false;

  private constructor(private readonly server: Server, private readonly listener: TcpServer, private readonly connections: Connections, readonly port: number, private readonly o: GrpcServerOptions) {}

  static async start(o: GrpcServerOptions): Promise<OipGrpcServer> {
    const defs = loadOipServices();
    const limits = o.limits;
    const server = new Server(grpcServerOptions(o.maxMessageBytes, limits));
    const connections = new Connections(server, o.share);
    const listener = createTcpServer({ noDelay: true }, (socket: Socket) => connections.accept(socket));
    if (limits.maxConnections > 0) listener.maxConnections = limits.maxConnections;
    const port = await new Promise<number>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(o.port, o.host, () => {
        listener.off('error', reject);
        const address = listener.address();
        resolve(typeof address === 'object' && address !== null ? address.port : o.port);
      });
    });
    // After the listen: a failed accept (out of file descriptors) is logged, never an unhandled 'error'.
    listener.on('error', (e) => o.onInternalError?.('listener', e));
    const grpcServer = new OipGrpcServer(server, listener, connections, port, o);
    server.addService(tolerant(defs.inference), grpcServer.inferenceHandlers());
    server.addService(tolerant(defs.health), grpcServer.healthHandlers());
    return grpcServer;
  }

  /** Shutting down: readiness and health say NOT_SERVING while calls are still answered (the shutdown delay). */
  leave(): void {
    this.leaving = true;
  }

  /** Stops taking calls (GOAWAY), waits for those in flight up to `deadlineMs`, then cuts what remains. */
  async drain(deadlineMs: number): Promise<void> {
    this.leave();
    this.listener.close();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, Math.max(0, deadlineMs));
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Ends every connection at once (tests, the last step of a shutdown). */
  close(): void {
    this.listener.close();
    this.server.forceShutdown();
  }

  private ready(): boolean {
    return !this.leaving && this.o.service.serverReady();
  }

  /**
   * A unary handler: decodes, runs `fn`, answers, counts. `fn` throws OipError for what the caller got wrong; any
   * other error is a bug, answered INTERNAL with no detail of it.
   */
  private unary<Req, Res>(method: string, route: ServerRoute, fn: (req: Req, call: ServerUnaryCall<Parsed<Req>, Res>) => Res | Promise<Res>): handleUnaryCall<Parsed<Req>, Res> {
    return (call, callback: sendUnaryData<Res>) => {
      const started = process.hrtime.bigint();
      let cancelled = false;
      call.on('cancelled', () => {
        cancelled = true;
      });
      const finish = (code: number, error: Partial<ServiceError> | null, value?: Res): void => {
        // grpc-js has already answered a call whose deadline passed (DEADLINE_EXCEEDED) or that the client cancelled.
        const deadline = call.getDeadline();
        const late = cancelled && deadline instanceof Date ? deadline.getTime() <= Date.now() : cancelled && typeof deadline === 'number' && deadline <= Date.now();
        this.o.observe(route, cancelled ? (late ? 408 : 499) : code, seconds(started));
        if (!cancelled) callback(error, value);
      };
      this.connections.called(() => call.getPeer());
      const parsed = call.request;
      if ('malformed' in parsed) return finish(400, { code: status.INVALID_ARGUMENT, details: parsed.malformed });
      Promise.resolve()
        .then(() => fn(parsed.message, call))
        .then((value) => finish(200, null, value), (e: unknown) => {
          const http = httpStatusOf(e);
          if (http === 500) this.o.onInternalError?.(method, e);
          finish(http, { code: grpcCodeOf(http), details: e instanceof OipError ? e.message : 'internal error' });
        });
    };
  }

  private inferenceHandlers(): UntypedServiceImplementation {
    const s = this.o.service;
    const r = serverRoutes;
    return {
      ServerLive: this.unary('ServerLive', r.health, () => ({ live: s.serverLive() })),
      ServerReady: this.unary('ServerReady', r.health, () => ({ ready: this.ready() })),
      ModelReady: this.unary('ModelReady', r.health, (m: { name: string; version: string }) => ({ ready: !this.leaving && s.modelReady(m.name, m.version || undefined) })),
      ServerMetadata: this.unary('ServerMetadata', r.metadata, () => s.serverMetadata()),
      ModelMetadata: this.unary('ModelMetadata', r.metadata, (m: { name: string; version: string }) => s.modelMetadata(m.name, m.version || undefined)),
      // Mirrored to the shadow (over HTTP, as REST's) unless this pod is the shadow or the call is itself a mirror.
      ModelInfer: this.unary('ModelInfer', r.v2Infer, async (m: GrpcInferRequest, call) => {
        const mirror = shouldMirror(this.o.track(), { [shadowHeader]: call.metadata.get(shadowHeader)[0]?.toString() });
        return encodeInferResponse(await s.infer(decodeInferRequest(m, mirror)));
      }),
      ModelStatistics: this.unary('ModelStatistics', r.metadata, async (m: { name: string; version: string }) => ({
        model_stats: (await s.statistics(m.name || undefined, m.version || undefined)).map(statisticsMessage),
      })),
      RepositoryIndex: this.unary('RepositoryIndex', r.metadata, (m: { repository_name: string; ready: boolean }) => ({
        models: s.repositoryIndex().filter((e) => !m.ready || e.state === 'READY'),
      })),
    };
  }

  private healthHandlers(): UntypedServiceImplementation {
    const known = new Set(['', 'inference.GRPCInferenceService']);
    return {
      Check: this.unary('Check', serverRoutes.health, (m: { service: string }) => {
        if (!known.has(m.service)) throw new OipError(404, `unknown service ${JSON.stringify(m.service)}: this port serves inference.GRPCInferenceService`);
        return { status: this.ready() ? 'SERVING' : 'NOT_SERVING' };
      }),
    };
  }
}

function statisticsMessage(st: OipModelStatistics): Record<string, unknown> {
  const d = (x: { count: number; ns: number }): { count: number; ns: number } => ({ count: x.count, ns: Math.round(x.ns) });
  const i = st.inferenceStats;
  return {
    name: st.name, version: st.version, last_inference: Math.round(st.lastInference), inference_count: st.inferenceCount, execution_count: st.executionCount,
    inference_stats: {
      success: d(i.success), fail: d(i.fail), queue: d(i.queue), compute_input: d(i.computeInput), compute_infer: d(i.computeInfer), compute_output: d(i.computeOutput),
    },
  };
}
