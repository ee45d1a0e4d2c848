// gRPC load on the model server's OIP v2 port with ghz (github.com/bojand/ghz, built once from the Go module proxy by
// scripts/build-ghz.sh): `concurrency` workers (default one per connection) over `connections` HTTP/2 connections,
// unary ModelInfer for `seconds`; req/s, p50 and p99. bench/server-throughput.ts calls grpcLoad for its gRPC row
// beside wrk's REST rows; alone it drives a running server:
//   npx tsx bench/grpc-load.ts --port 9000 --model weather [--connections 8] [--concurrency 64] [--seconds 5]
// (the request: one weather row as a [1, 6] BYTES tensor in the weather model's feature order, or --request '<JSON>',
// a ModelInferRequest with the proto's field names). The request is encoded once here with the repository's proto and
// handed to ghz as a binary message, so what ghz sends is exactly what a client of this proto sends.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { GrpcInferRequest } from '../src/server/oip/grpc-codec.js';
import { loadOipServices, oipProtoFile, protoPath } from '../src/server/oip/grpc-proto.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface GrpcLoadOptions {
  readonly port: number;
  readonly host?: string | undefined;
  readonly modelName: string;
  /** HTTP/2 connections. */
  readonly connections: number;
  /** Calls in flight at once, spread over the connections; default one per connection. */
  readonly concurrency?: number | undefined;
  readonly seconds: number;
  /** The ModelInferRequest sent each time (model_name is filled in from modelName when empty). */
  readonly request: GrpcInferRequest;
}

export interface GrpcLoadResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Calls that ended with a status other than OK (less those cut at the end, below). */
  readonly errors: number;
  /** ghz's error messages and how many calls ended with each, those cut at the end included. */
  readonly errorMessages: Readonly<Record<string, number>>;
}

/** What ghz --format json prints (the fields read here; latencies in nanoseconds). */
interface GhzReport {
  readonly count: number;
  readonly rps: number;
  readonly latencyDistribution: readonly { readonly percentage: number; readonly latency: number }[] | null;
  readonly statusCodeDistribution?: Readonly<Record<string, number>>;
  /** Error message → count. */
  readonly errorDistribution?: Readonly<Record<string, number>>;
}

/** The ghz binary, built on first use (scripts/build-ghz.sh prints its cached path). */
export function ghzPath(): string {
  return execFileSync(join(repoRoot, 'scripts/build-ghz.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** The request as the protobuf bytes of a ModelInferRequest (the serializer a grpc-js client of this proto uses). */
export function encodeInferRequest(request: GrpcInferRequest): Buffer {
  return loadOipServices().inference['ModelInfer']!.requestSerialize(request);
}

/**
 * ghz's JSON report as the figures the benches print. The calls still in flight when the duration ends are cut by ghz
 * itself, tearing its connections down. Those ending Canceled "the client connection is closing" are all its own:
 * grpc-go says that only of a ClientConn its owner closed, so none is counted (ghz may start a call as it closes, so
 * there can be more than one per worker). Those ending Unavailable "transport is closing" are the teardown's too, at
 * most one per worker (`concurrency`), but a server that drops a connection ends calls the same way, so any beyond one
 * per worker are counted.
 */
export function resultOf(report: GhzReport, concurrency: number): GrpcLoadResult {
  const at = (p: number): number => (report.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6;
  const codes = report.statusCodeDistribution ?? {};
  const failed = Object.entries(codes).filter(([code]) => code !== 'OK').reduce((n, [, c]) => n + c, 0);
  const ending = (pattern: RegExp): number => Object.entries(report.errorDistribution ?? {})
    .filter(([message]) => pattern.test(message))
    .reduce((n, [, c]) => n + c, 0);
  const closedByGhz = ending(/code = Canceled desc = grpc: the client connection is closing$/);
  const transportClosed = ending(/code = Unavailable desc = transport is closing$/);
  return { rps: report.rps, p50Ms: at(50), p99Ms: at(99), errors: failed - closedByGhz - Math.min(transportClosed, concurrency), errorMessages: report.errorDistribution ?? {} };
}

/** Drives ModelInfer for `seconds` with ghz and measures it. */
export async function grpcLoad(o: GrpcLoadOptions): Promise<GrpcLoadResult> {
  const ghz = ghzPath();
  const dir = mkdtempSync(join(tmpdir(), 'perennial-ghz-'));
  try {
    const message = join(dir, 'request.bin');
    writeFileSync(message, encodeInferRequest({ ...o.request, model_name: o.request.model_name || o.modelName }));
    const connections = Math.max(1, o.connections);
    const concurrency = Math.max(connections, o.concurrency ?? connections);
    const args = [
      '--insecure', '--proto', protoPath(oipProtoFile), '--call', 'inference.GRPCInferenceService.ModelInfer',
      '--binary-file', message, '--connections', String(connections), '--concurrency', String(concurrency),
      '--duration', `${o.seconds}s`, '--format', 'json', '--count-errors', `${o.host ?? '127.0.0.1'}:${o.port}`,
    ];
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(ghz, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`ghz exited ${String(code)}: ${stderr.slice(-2000)}`))));
    });
    return resultOf(JSON.parse(out) as GhzReport, concurrency);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One Seattle row as a single [1, 6] BYTES tensor (the weather model's feature order), for a run from the command line. */
const weatherRow: GrpcInferRequest = {
  inputs: [{ name: 'input', datatype: 'BYTES', shape: [1, 6], contents: { bytes_contents: ['0', '10', '5', '3', '2015-06-01', 'Seattle'].map((v) => Buffer.from(v)) } }],
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, model: { type: 'string' },
      connections: { type: 'string', default: '8' }, concurrency: { type: 'string' }, seconds: { type: 'string', default: '5' }, request: { type: 'string' },
    },
  });
  if (values.port === undefined || values.model === undefined) throw new Error('usage: npx tsx bench/grpc-load.ts --port <p> --model <name> [--connections 8] [--concurrency n] [--seconds 5] [--request JSON]');
  const result = await grpcLoad({
    port: Number(values.port), host: values.host, modelName: values.model, connections: Number(values.connections),
    concurrency: values.concurrency === undefined ? undefined : Number(values.concurrency), seconds: Number(values.seconds),
    request: values.request === undefined ? weatherRow : (JSON.parse(values.request) as GrpcInferRequest),
  });
  console.log(`${result.rps.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ${result.errors} errors`);
  for (const [message, n] of Object.entries(result.errorMessages)) console.log(`  ${n} × ${message}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
