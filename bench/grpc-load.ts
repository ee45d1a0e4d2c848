// A gRPC load generator for the model server's OIP v2 port: `concurrency` calls in flight (default one per
// channel), spread over `connections` channels (each its own HTTP/2 connection), unary ModelInfer for `seconds`;
// req/s, p50 and p99 of the completed calls. bench/server-throughput.ts calls grpcLoad for its gRPC row beside wrk's
// REST rows; alone it drives a running server:
//   npx tsx bench/grpc-load.ts --port 9000 --model weather [--connections 8] [--concurrency 64] [--seconds 5]
// (the request: one weather-like row of 4 FP32 features named as the weather model's, or --request '<JSON>').
import { credentials, loadPackageDefinition, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { GrpcInferRequest } from '../src/server/oip/grpc-codec.js';
import { oipProtoFile, protoOptions, protoPath } from '../src/server/oip/grpc-proto.js';

export interface GrpcLoadOptions {
  readonly port: number;
  readonly host?: string | undefined;
  readonly modelName: string;
  /** Channels (HTTP/2 connections). */
  readonly connections: number;
  /** Calls in flight at once, spread round-robin over the channels; default one per channel. */
  readonly concurrency?: number | undefined;
  readonly seconds: number;
  /** The ModelInferRequest sent each time (model_name is filled in from modelName when empty). */
  readonly request: GrpcInferRequest;
}

export interface GrpcLoadResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Calls that ended with a status other than OK. */
  readonly errors: number;
}

type InferClient = Client & { ModelInfer(req: GrpcInferRequest, cb: (e: ServiceError | null) => void): void };

function clientConstructor(): new (address: string, creds: ReturnType<typeof credentials.createInsecure>, options: object) => InferClient {
  const pkg = loadPackageDefinition(loadSync(protoPath(oipProtoFile), protoOptions)) as unknown as { inference: { GRPCInferenceService: new (a: string, c: unknown, o: object) => InferClient } };
  return pkg.inference.GRPCInferenceService;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Drives ModelInfer for `seconds` and measures it; calls still in flight at the end are awaited and not counted. */
export async function grpcLoad(o: GrpcLoadOptions): Promise<GrpcLoadResult> {
  const Ctor = clientConstructor();
  // A local subchannel pool per channel: grpc-js otherwise shares one connection between channels of the same target.
  const clients = Array.from({ length: Math.max(1, o.connections) }, () => new Ctor(`${o.host ?? '127.0.0.1'}:${o.port}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  const request: GrpcInferRequest = { ...o.request, model_name: o.request.model_name || o.modelName };
  await Promise.all(clients.map((c) => new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 10_000, (e) => (e ? reject(e) : resolve())))));
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + o.seconds * 1000;
  const worker = async (client: InferClient): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const ok = await new Promise<boolean>((resolve) => client.ModelInfer(request, (e) => resolve(e === null)));
      const t1 = performance.now();
      if (t1 > end) break;
      if (ok) latencies.push(t1 - t0);
      else errors++;
    }
  };
  const concurrency = Math.max(1, o.concurrency ?? clients.length);
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(clients[i % clients.length]!)));
  const elapsed = (Math.min(performance.now(), end) - start) / 1000;
  for (const c of clients) c.close();
  const sorted = Float64Array.from(latencies).sort();
  return { rps: latencies.length / elapsed, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), errors };
}

/** One weather row as a single [1, 4] FP32 tensor, for a run from the command line. */
const weatherRow: GrpcInferRequest = {
  inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [10.9, 7.8, 2.8, 4.7] } }],
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
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
