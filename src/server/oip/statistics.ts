// Per-model inference statistics in the shape of Triton's statistics extension, counted by the OIP service for the
// infer requests of both transports (the v1 :predict route is not counted). Durations are nanoseconds:
//   success / fail   whole requests, from the service taking them to their answer (fail: refused or failed);
//   compute_input    tensors → rows (decoding and checking the inputs);
//   compute_infer    the prediction, including the wait for the micro-batch it runs in and the recording;
//   compute_output   predictions → output tensors;
//   queue            kept at zero: the micro-batcher's wait is inside compute_infer.
// inference_count counts rows, execution_count the model's batch runs (every route's: batches mix requests).
import type { OipDuration, OipModelStatistics } from './types.js';

interface Counter {
  count: number;
  ns: number;
}

function counter(): Counter {
  return { count: 0, ns: 0 };
}

function copy(c: Counter): OipDuration {
  return { count: c.count, ns: c.ns };
}

/** The phases of one answered request, in nanoseconds. */
export interface InferTimings {
  readonly input: number;
  readonly infer: number;
  readonly output: number;
}

export class InferStatistics {
  private readonly success = counter();
  private readonly fail = counter();
  private readonly computeInput = counter();
  private readonly computeInfer = counter();
  private readonly computeOutput = counter();
  private rows = 0;
  private lastMs = 0;

  succeeded(rows: number, t: InferTimings, atMs: number): void {
    this.rows += rows;
    this.lastMs = atMs;
    add(this.success, t.input + t.infer + t.output);
    add(this.computeInput, t.input);
    add(this.computeInfer, t.infer);
    add(this.computeOutput, t.output);
  }

  failed(ns: number): void {
    add(this.fail, ns);
  }

  snapshot(name: string, version: string, executions: number): OipModelStatistics {
    return {
      name,
      version,
      lastInference: this.lastMs,
      inferenceCount: this.rows,
      executionCount: executions,
      inferenceStats: {
        success: copy(this.success), fail: copy(this.fail), queue: { count: 0, ns: 0 },
        computeInput: copy(this.computeInput), computeInfer: copy(this.computeInfer), computeOutput: copy(this.computeOutput),
      },
    };
  }
}

function add(c: Counter, ns: number): void {
  c.count += 1;
  c.ns += Math.max(0, Math.round(ns));
}

/**
 * The statistics of one model counted by several serving processes of a pod (cluster-primary.ts), as one: counts and
 * durations summed, the last inference the latest. `list` holds at least one entry, all of the same model.
 */
export function sumStatistics(list: readonly OipModelStatistics[]): OipModelStatistics {
  const [first, ...rest] = list;
  if (first === undefined) throw new RangeError('sumStatistics of no statistics');
  const sum = (a: OipDuration, b: OipDuration): OipDuration => ({ count: a.count + b.count, ns: a.ns + b.ns });
  return rest.reduce((a, b) => ({
    name: a.name,
    version: a.version,
    lastInference: Math.max(a.lastInference, b.lastInference),
    inferenceCount: a.inferenceCount + b.inferenceCount,
    executionCount: a.executionCount + b.executionCount,
    inferenceStats: {
      success: sum(a.inferenceStats.success, b.inferenceStats.success), fail: sum(a.inferenceStats.fail, b.inferenceStats.fail),
      queue: sum(a.inferenceStats.queue, b.inferenceStats.queue), computeInput: sum(a.inferenceStats.computeInput, b.inferenceStats.computeInput),
      computeInfer: sum(a.inferenceStats.computeInfer, b.inferenceStats.computeInfer), computeOutput: sum(a.inferenceStats.computeOutput, b.inferenceStats.computeOutput),
    },
  }), first);
}
