// The run's hyperparameter search (config.search): each trial trains the configured family on the training rows with
// the trial's settings and is judged by its validation loss (fit-family.ts validationLoss); the holdout is never
// read, so the gate that judges the winner stays an honest test. The winner's settings become the run's settings,
// and the run trains its candidate with them exactly as without a search (checkpoints, calibration, gates).
import type { Logger } from 'winston';
import type { PreprocessingSpec } from '../shared/preprocessing.js';
import type { SearchSpec, TrainerConfig } from '../shared/trainer-config.js';
import { fitFamily, lossOn, noCheckpoints, type FitSummary } from './fit-family.js';
import type { Row } from './rows.js';
import { applyTrial, runSearch, type TrialRecord } from './search.js';

/** What lineage records of a search: the budget, every trial (parameters, score, seconds, status) and the winner. */
export interface SearchLineage {
  readonly planned: number;
  readonly maxSeconds: number | undefined;
  readonly stoppedBy: 'trials' | 'time';
  readonly seconds: number;
  readonly judgedOn: { readonly trainRows: number; readonly validationRows: number };
  readonly score: 'validation log loss (uncalibrated)' | 'validation mean squared error (standardised label)';
  readonly winner: TrialRecord;
  readonly trials: readonly TrialRecord[];
}

export interface SearchInput {
  readonly config: TrainerConfig & { readonly search: SearchSpec };
  readonly spec: PreprocessingSpec;
  readonly train: readonly Row[];
  readonly validation: readonly Row[];
  readonly log: Logger;
  /** Milliseconds; injected so tests control the time budget. */
  readonly nowMs: () => number;
}

function effortOf(s: FitSummary): Record<string, number> {
  return s.family === 'mlp' ? { epochsDone: s.epochsDone, bestEpoch: s.bestEpoch } : { rounds: s.rounds, bestRound: s.bestRound };
}

/** Runs the trials; returns the winner's config and the lineage. Throws (SearchFailedError) when every trial failed. */
export async function searchSettings(input: SearchInput): Promise<{ config: TrainerConfig; lineage: SearchLineage }> {
  const { config, spec, train, validation, log } = input;
  if (validation.length === 0) throw new Error('a search needs validation rows to judge its trials on');
  const result = await runSearch(config.search, config.seed, async (trial) => {
    log.info('search trial started', { trial: trial.index, parameters: trial.parameters });
    const fitted = await fitFamily({
      config: applyTrial(config, trial), spec, train, validation, log, checkpoints: noCheckpoints, fingerprint: `trial-${trial.index}`, quiet: true,
    });
    try {
      return { score: lossOn(fitted.model, spec, validation), detail: effortOf(fitted.summary) };
    } finally {
      fitted.model.dispose();
    }
  }, input.nowMs);
  for (const t of result.trials) log.info('search trial', { trial: t.index, status: t.status, parameters: t.parameters, score: t.score, seconds: t.seconds, reason: t.reason, detail: t.detail });
  log.info('search done', { winner: result.winner.index, parameters: result.winner.parameters, score: result.winner.score, trials: result.trials.length, stoppedBy: result.stoppedBy, seconds: result.seconds });
  return {
    config: applyTrial(config, { index: result.winner.index, parameters: result.winner.parameters }),
    lineage: {
      planned: config.search.trials, maxSeconds: config.search.maxSeconds, stoppedBy: result.stoppedBy, seconds: result.seconds,
      judgedOn: { trainRows: train.length, validationRows: validation.length },
      score: config.schema.task === 'classification' ? 'validation log loss (uncalibrated)' : 'validation mean squared error (standardised label)',
      winner: result.winner, trials: result.trials,
    },
  };
}
