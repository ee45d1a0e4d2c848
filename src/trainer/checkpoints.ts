// Per-epoch checkpoints in the run prefix, so a retried Job (same run id) resumes instead of starting over.
// A checkpoint is a binary object (current weights, optimizer state, best weights so far) and a JSON object
// (epoch, early-stopping state, history, tensor manifests); the pointer latest.json is written after both, so
// a pod killed mid-write leaves the previous checkpoint in force. A checkpoint whose fingerprint (data digest,
// preprocessing, model and hyperparameters) differs from the current run's is ignored: resuming is only sound
// on the same inputs.
import type { PipelineRef } from '../shared/artifact-layout.js';
import { checkpointKeys, checkpointPointerKey, checkpointPrefix } from '../shared/artifact-layout.js';
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.js';

export interface TensorManifest {
  readonly names: readonly string[];
  readonly specs: readonly { shape: number[]; dtype: string }[];
  readonly bytes: number;
}

export interface EpochRecord {
  readonly epoch: number;
  readonly loss: number;
  readonly valLoss: number | undefined;
}

export interface CheckpointState {
  readonly version: 1;
  readonly fingerprint: string;
  /** Epochs completed (the next epoch to run has this index). */
  readonly epochsDone: number;
  readonly bestLoss: number;
  /** Epoch count at which the best weights were taken (0: the initial weights). */
  readonly bestEpoch: number;
  readonly stopped: boolean;
  readonly history: readonly EpochRecord[];
  readonly weights: TensorManifest;
  readonly optimizer: TensorManifest;
  readonly best: TensorManifest;
  readonly savedAt: string;
}

export interface Checkpoint {
  readonly state: CheckpointState;
  readonly data: Buffer;
}

export interface CheckpointStore {
  latest(): Promise<Checkpoint | undefined>;
  save(cp: Checkpoint): Promise<void>;
}

/**
 * Checkpoints of one training of a run. `stage` keeps a second training of the same run (the refit, run.ts) in a
 * folder of its own under the run's checkpoints (`checkpoints/<stage>/`), so neither resumes from the other's.
 */
export class ObjectStoreCheckpoints implements CheckpointStore {
  constructor(private readonly store: ObjectStore, private readonly bucket: string, private readonly pipeline: PipelineRef, private readonly runId: string, private readonly stage?: string) {}

  private pointerKey(): string {
    const key = checkpointPointerKey(this.pipeline, this.runId);
    return this.stage === undefined ? key : this.staged(key);
  }

  private keys(epoch: number): { meta: string; weights: string } {
    const k = checkpointKeys(this.pipeline, this.runId, epoch);
    return this.stage === undefined ? k : { meta: this.staged(k.meta), weights: this.staged(k.weights) };
  }

  private staged(key: string): string {
    const base = checkpointPrefix(this.pipeline, this.runId);
    return `${base}${this.stage ?? ''}/${key.slice(base.length)}`;
  }

  async latest(): Promise<Checkpoint | undefined> {
    let pointer: { epoch: number };
    try {
      pointer = JSON.parse((await this.store.getBuffer(this.bucket, this.pointerKey())).toString('utf8')) as { epoch: number };
    } catch (e: unknown) {
      if (e instanceof ObjectNotFoundError) return undefined;
      throw e;
    }
    const keys = this.keys(pointer.epoch);
    const state = JSON.parse((await this.store.getBuffer(this.bucket, keys.meta)).toString('utf8')) as CheckpointState;
    const data = await this.store.getBuffer(this.bucket, keys.weights);
    return { state, data };
  }

  async save(cp: Checkpoint): Promise<void> {
    const keys = this.keys(cp.state.epochsDone);
    await this.store.put(this.bucket, keys.weights, cp.data);
    await this.store.put(this.bucket, keys.meta, JSON.stringify(cp.state), { contentType: 'application/json' });
    await this.store.put(this.bucket, this.pointerKey(), JSON.stringify({ epoch: cp.state.epochsDone }), { contentType: 'application/json' });
    // Older checkpoints are superseded; keeping them would grow the run prefix by one model per epoch.
    if (cp.state.epochsDone > 1) {
      const old = this.keys(cp.state.epochsDone - 1);
      await this.store.delete(this.bucket, old.weights);
      await this.store.delete(this.bucket, old.meta);
    }
  }
}
