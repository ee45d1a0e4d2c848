// A grpc-js client of the OIP v2 gRPC service for tests (grpc-server.ts's unit tests and the integration tests that
// drive a served model over gRPC): a stub made from the server's own proto, and one promise per call.
import { credentials, loadPackageDefinition, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { oipProtoFile, protoOptions, protoPath } from '../oip/grpc-proto.js';

type Call = (req: unknown, options: { deadline?: number }, cb: (e: ServiceError | null, res?: Record<string, unknown>) => void) => void;

/** A client of a service loaded from a proto: one method per rpc. */
export type GrpcStub = Client & Record<string, Call>;

/** A client of inference.GRPCInferenceService at `address`, plaintext; `channelOptions` are grpc-js's. */
export function oipStub(address: string, channelOptions: Record<string, number> = {}): GrpcStub {
  const pkg = loadPackageDefinition(loadSync(protoPath(oipProtoFile), protoOptions)) as unknown as { inference: { GRPCInferenceService: new (a: string, c: unknown, o: object) => GrpcStub } };
  return new pkg.inference.GRPCInferenceService(address, credentials.createInsecure(), channelOptions);
}

/** One unary call: its answer, or a rejection with the ServiceError; a deadline `deadlineMs` from now when given. */
export function grpcCall(stub: GrpcStub, method: string, req: unknown, deadlineMs?: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    stub[method]!.call(stub, req, deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs }, (e, res) => (e ? reject(e) : resolve(res!)));
  });
}
