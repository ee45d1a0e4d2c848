// What a fit takes and gives (the API the trainer codes against), and the round history every family reports.
import type { TreeEnsemble } from './ensemble.js';
import type { ResolvedTreeSettings, TreeFamily } from './settings.js';

export interface TreeFitInput {
  readonly family: TreeFamily;
  readonly task: 'classification' | 'regression';
  /** Classes, or 1 for regression. */
  readonly outputs: number;
  /** transformRows output: rows × width, row-major. */
  readonly x: Float32Array;
  readonly rows: number;
  readonly width: number;
  /** Class index per row (classification) or the standardised label (regression). */
  readonly y: Float32Array;
  /** Early stopping (boosting) and reporting. */
  readonly validation?: { readonly x: Float32Array; readonly y: Float32Array; readonly rows: number };
  readonly settings: ResolvedTreeSettings;
  readonly seed: number;
  /** Called every reportEvery rounds and after the last. */
  readonly onRound?: (r: RoundLoss) => void;
}

export interface RoundLoss {
  readonly round: number;
  /** Boosting: the training loss; forest: the out-of-bag loss (each row by the trees that did not see it). */
  readonly loss: number;
  readonly valLoss?: number;
}

export interface TreeFitResult {
  readonly model: TreeEnsemble;
  /** Rounds grown (boosting) or trees (forest). */
  readonly rounds: number;
  /** The rounds the model keeps: the best validation loss's (boosting with validation), else rounds. */
  readonly bestRound: number;
  readonly stoppedEarly: boolean;
  readonly history: readonly RoundLoss[];
  readonly seconds: number;
  /** Training rows per second of the whole fit (binning included). */
  readonly rowsPerSecond: number;
}

/** onRound's throttle: a log line per 10 rounds is enough to watch a fit of hundreds. */
export const reportEvery = 10;

/** Collects every round's losses and passes every reportEvery-th (and the last, by finish) to onRound. */
export class RoundHistory {
  readonly rounds: RoundLoss[] = [];

  constructor(private readonly onRound: ((r: RoundLoss) => void) | undefined) {}

  add(r: RoundLoss): void {
    this.rounds.push(r);
    if (r.round % reportEvery === 0) this.onRound?.(r);
  }

  finish(): void {
    const last = this.rounds[this.rounds.length - 1];
    if (last !== undefined && last.round % reportEvery !== 0) this.onRound?.(last);
  }
}
