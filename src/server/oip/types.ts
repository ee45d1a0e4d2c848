// The Open Inference Protocol (v2) in a form neither transport owns: the REST routes (JSON and the binary tensor
// extension) and the gRPC service (inference.GRPCInferenceService) decode into these types, call one OipService,
// and encode its answer their own way. Semantics (checks, batching, metrics, logging, drift, shadow) live behind the
// service, so both protocols answer the same request the same way.

/** The datatypes of the protocol's tensors. */
export const oipDatatypes = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type OipDatatype = (typeof oipDatatypes)[number];

/** A request or response parameter: the protocol allows a string, a number or a boolean. */
export type OipParameter = string | number | boolean;
export type OipParameters = Readonly<Record<string, OipParameter>>;

/**
 * One tensor as a transport decoded it: datatype and shape as sent (checked by the service, not the transport),
 * data flattened row-major. BYTES elements are UTF-8 strings, BOOL booleans, every numeric type a number (a 64-bit
 * integer outside ±2^53 is refused by the transport that decodes it). null is a missing value, which only REST's
 * JSON can send (the server has always taken it there); no output carries one.
 */
export interface OipTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: readonly (number | string | boolean | null)[];
  readonly parameters?: OipParameters | undefined;
}

export interface OipRequestedOutput {
  readonly name: string;
  readonly parameters?: OipParameters | undefined;
}

export interface OipInferRequest {
  /** The model and version the request names (a path segment in REST, fields in gRPC). */
  readonly modelName: string;
  readonly modelVersion?: string | undefined;
  readonly id?: string | undefined;
  readonly inputs: readonly OipTensor[];
  /** The outputs asked for; absent: every output. */
  readonly outputs?: readonly OipRequestedOutput[] | undefined;
  readonly parameters?: OipParameters | undefined;
  /** False for a request that is itself a shadow mirror (or on the shadow track): never mirrored again. */
  readonly mirror: boolean;
}

export interface OipInferResponse {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id?: string | undefined;
  readonly outputs: readonly OipTensor[];
  readonly parameters?: OipParameters | undefined;
}

export interface OipTensorMetadata {
  readonly name: string;
  readonly datatype: OipDatatype;
  readonly shape: readonly number[];
}

export interface OipModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly OipTensorMetadata[];
  readonly outputs: readonly OipTensorMetadata[];
  readonly parameters?: OipParameters | undefined;
}

export interface OipServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

/** One entry of the model repository index (Triton's repository extension; read-only here). */
export interface OipRepositoryEntry {
  readonly name: string;
  readonly version: string;
  /** READY or UNAVAILABLE. */
  readonly state: 'READY' | 'UNAVAILABLE';
  readonly reason: string;
}

/** A count and the total time of the requests it counts (Triton's StatisticDuration), in nanoseconds. */
export interface OipDuration {
  readonly count: number;
  readonly ns: number;
}

/** Per-model statistics in the shape of Triton's statistics extension (InferStatistics and ModelStatistics). */
export interface OipModelStatistics {
  readonly name: string;
  readonly version: string;
  /** Milliseconds since the epoch of the last inference; 0: none yet. */
  readonly lastInference: number;
  readonly inferenceCount: number;
  readonly executionCount: number;
  readonly inferenceStats: {
    readonly success: OipDuration;
    readonly fail: OipDuration;
    readonly queue: OipDuration;
    readonly computeInput: OipDuration;
    readonly computeInfer: OipDuration;
    readonly computeOutput: OipDuration;
  };
}

/**
 * Why a request was refused, with the HTTP status REST answers; gRPC maps it once (grpcCodeOf in the gRPC
 * transport: 400/422 → INVALID_ARGUMENT, 404 → NOT_FOUND, 408 → DEADLINE_EXCEEDED, 413 → RESOURCE_EXHAUSTED,
 * 503 → UNAVAILABLE, anything else → INTERNAL). The message names the tensor, field or value at fault.
 */
export class OipError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'OipError';
  }
}

/** What both transports call. Errors are OipError (a 4xx/503 with a reason) or a bug (500 / INTERNAL). */
export interface OipService {
  serverLive(): boolean;
  /** Ready: the model is loaded and the server is not shutting down. */
  serverReady(): boolean;
  serverMetadata(): OipServerMetadata;
  /** Throws OipError 404 for a model or version not served here. */
  modelReady(name: string, version?: string): boolean;
  modelMetadata(name: string, version?: string): OipModelMetadata;
  infer(request: OipInferRequest): Promise<OipInferResponse>;
  repositoryIndex(): readonly OipRepositoryEntry[];
  /** name undefined: every model (the one served). */
  statistics(name?: string, version?: string): Promise<readonly OipModelStatistics[]>;
}
