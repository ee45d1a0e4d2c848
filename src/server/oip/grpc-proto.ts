// The two services of the model server's gRPC port, loaded from their .proto files at start: the OIP v2 inference
// service (grpc_predict_v2.proto) and gRPC health checking (grpc_health_v1.proto). The bundle (scripts/bundle.mjs)
// copies both files next to the server's main.js, where this module finds them as it does beside itself in the repo.
import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const oipProtoFile = 'grpc_predict_v2.proto';
export const healthProtoFile = 'grpc_health_v1.proto';

/**
 * How messages look in JavaScript: field names as in the proto (model_name), 64-bit integers as decimal strings (so
 * a value past 2^53 is seen and refused, never rounded), bytes as Buffers, defaults filled, the set oneof named.
 */
export const protoOptions: Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

/** The path of a proto file of this folder, in the repo or beside the bundle. */
export function protoPath(file: string): string {
  return fileURLToPath(new URL(`./${file}`, import.meta.url));
}

export interface OipServiceDefinitions {
  readonly inference: ServiceDefinition;
  readonly health: ServiceDefinition;
}

/** The service definitions (method paths, serializers) of both protos. */
export function loadOipServices(): OipServiceDefinitions {
  for (const f of [oipProtoFile, healthProtoFile]) {
    if (!existsSync(protoPath(f))) throw new Error(`${f} is missing beside ${fileURLToPath(import.meta.url)} (the bundle copies it there)`);
  }
  const inference = loadSync(protoPath(oipProtoFile), protoOptions)['inference.GRPCInferenceService'];
  const health = loadSync(protoPath(healthProtoFile), protoOptions)['grpc.health.v1.Health'];
  return { inference: inference as ServiceDefinition, health: health as ServiceDefinition };
}
