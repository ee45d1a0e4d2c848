// The Open Inference Protocol's semantics, once for both transports (REST in rest.ts, gRPC in grpc*.ts): which model
// and version are served, what the metadata publishes, how input tensors become rows (inputs.ts), which outputs a
// request gets (outputs.ts), which parameters are understood, and the statistics. The prediction itself (batching,
// logging, metrics, drift, confidence, shadow) is the ServerApp's, the same path as the v1 route.
// Every refusal leaves here as an OipError with its status: errors of the layers below are mapped once, here.
import type { LabelSpec } from '../../shared/preprocessing.js';
import { QueueFullError } from '../batcher.js';
import { HttpError } from '../http-io.js';
import type { Prediction } from '../model.js';
import { BadRequestError, shown, stringTooLong, type ParsedRows } from '../requests.js';
import { matrixInputName, rowsOfInputs, tensorAt, type InputLimits, type ModelInputs } from './inputs.js';
import { outputsMetadata, outputTensors, planOutputs } from './outputs.js';
import { InferStatistics } from './statistics.js';
import {
  OipError, type OipInferRequest, type OipInferResponse, type OipModelMetadata, type OipModelStatistics, type OipParameters,
  type OipRepositoryEntry, type OipServerMetadata, type OipService,
} from './types.js';

/** Request parameters understood: binary_data_output (REST: every output in the binary extension unless it says otherwise). */
export const requestParameters: readonly string[] = ['binary_data_output'];
/** Input parameters understood: binary_data_size (REST: the tensor's bytes follow the JSON header). */
export const inputParameters: readonly string[] = ['binary_data_size'];
/** The protocol extensions served. */
export const extensions: readonly string[] = ['binary_tensor_data', 'classification', 'model_repository', 'statistics'];

/** What the service needs of the server that runs the model (ServerApp gives it). */
export interface OipHost {
  readonly modelName: string;
  readonly version: string;
  readonly codeVersion: string;
  readonly limits: InputLimits;
  ready(): boolean;
  notReadyReason(): string;
  /** The loaded model's inputs and label; throws an HttpError 503 while none is loaded or the server drains. */
  model(): ModelInputs & { readonly label: LabelSpec };
  /** Predicts and records the rows (ServerApp.predict). */
  predict(parsed: ParsedRows, mirror: boolean): Promise<{ ids: string[]; predictions: Prediction[] }>;
  /** The model's batch runs so far. */
  executions(): number;
  /** With several serving processes: this process's statistics summed with the others' (cluster-worker.ts). */
  podStatistics?: ((own: OipModelStatistics) => Promise<OipModelStatistics>) | undefined;
  nowMs(): number;
}

/** An error of the layers below as the protocol's error; anything else (a bug) as it is. */
export function oipErrorOf(e: unknown): unknown {
  if (e instanceof OipError) return e;
  if (e instanceof BadRequestError || e instanceof HttpError) return new OipError(e.status, e.message);
  if (e instanceof QueueFullError) return new OipError(503, e.message);
  return e;
}

/** Refuses any parameter not in `known`, naming it and the understood ones. */
export function checkParameters(params: OipParameters | undefined, known: readonly string[], at: string): void {
  for (const key of Object.keys(params ?? {})) {
    if (!known.includes(key)) throw new BadRequestError(`${at}: parameter ${shown(key)} is not understood (understood: ${known.length === 0 ? 'none' : known.join(', ')})`);
  }
}

function elapsedNs(from: bigint): number {
  return Number(process.hrtime.bigint() - from);
}

export class OipInference implements OipService {
  private readonly stats = new InferStatistics();

  constructor(private readonly host: OipHost) {}

  serverLive(): boolean {
    return true;
  }

  serverReady(): boolean {
    return this.host.ready();
  }

  serverMetadata(): OipServerMetadata {
    return { name: 'perennial-server', version: this.host.codeVersion, extensions };
  }

  modelReady(name: string, version?: string): boolean {
    this.checkModel(name, version);
    return this.host.ready();
  }

  modelMetadata(name: string, version?: string): OipModelMetadata {
    this.checkModel(name, version);
    const m = this.mapped(() => this.host.model());
    const { label, features } = m;
    const matrixDatatype = features.some((f) => f.kind === 'categorical') ? 'BYTES' : features.some((f) => f.kind === 'date') ? 'FP64' : 'FP32';
    return {
      name: this.host.modelName,
      versions: [this.host.version],
      platform: 'perennial',
      inputs: features.map((f) => ({ name: f.name, datatype: f.kind === 'numeric' ? 'FP64' : 'BYTES', shape: [-1] })),
      outputs: outputsMetadata(label),
      parameters: {
        ...(label.task === 'classification' ? { classes: label.classes.join(',') } : {}),
        features: features.map((f) => f.name).join(','),
        matrix_input: matrixInputName,
        matrix_datatype: matrixDatatype,
      },
    };
  }

  async infer(request: OipInferRequest): Promise<OipInferResponse> {
    const started = process.hrtime.bigint();
    try {
      this.checkModel(request.modelName, request.modelVersion);
      const m = this.host.model();
      const { id } = request;
      const idTooLong = id === undefined ? undefined : stringTooLong(id, this.host.limits.maxStringBytes);
      if (idTooLong !== undefined) throw new BadRequestError(`"id": ${idTooLong}`);
      checkParameters(request.parameters, requestParameters, 'parameters');
      request.inputs.forEach((t, i) => checkParameters(t.parameters, inputParameters, tensorAt(i, t.name)));
      const plan = planOutputs(request.outputs, m.label);
      const parsed = rowsOfInputs(request.inputs, m, this.host.limits);
      const decoded = process.hrtime.bigint();
      const { ids, predictions } = await this.host.predict(parsed, request.mirror);
      const predicted = process.hrtime.bigint();
      const outputs = outputTensors(plan, predictions, ids, m.label);
      this.stats.succeeded(predictions.length, { input: Number(decoded - started), infer: Number(predicted - decoded), output: elapsedNs(predicted) }, this.host.nowMs());
      return { modelName: this.host.modelName, modelVersion: this.host.version, ...(id !== undefined ? { id } : {}), outputs };
    } catch (e: unknown) {
      this.stats.failed(elapsedNs(started));
      throw oipErrorOf(e);
    }
  }

  repositoryIndex(): readonly OipRepositoryEntry[] {
    const ready = this.host.ready();
    return [{ name: this.host.modelName, version: this.host.version, state: ready ? 'READY' : 'UNAVAILABLE', reason: ready ? '' : this.host.notReadyReason() }];
  }

  async statistics(name?: string, version?: string): Promise<readonly OipModelStatistics[]> {
    if (name !== undefined) this.checkModel(name, version);
    const own = this.localStatistics();
    if (this.host.podStatistics === undefined) return [own];
    try {
      return [await this.host.podStatistics(own)];
    } catch (e: unknown) {
      throw oipErrorOf(e);
    }
  }

  /** What this process counted (the pod's figures with one serving process). */
  localStatistics(): OipModelStatistics {
    return this.stats.snapshot(this.host.modelName, this.host.version, this.host.executions());
  }

  /** OipError 404 unless the name (and the version, when given) is the one served. */
  private checkModel(name: string, version: string | undefined): void {
    const { modelName, version: served } = this.host;
    if (name !== modelName) throw new OipError(404, `model ${shown(name)} is not served here (serving "${modelName}")`);
    if (version !== undefined && version !== '' && version !== served) throw new OipError(404, `model ${shown(name)} version ${shown(version)} is not served here (serving "${served}")`);
  }

  private mapped<T>(f: () => T): T {
    try {
      return f();
    } catch (e: unknown) {
      throw oipErrorOf(e);
    }
  }
}
