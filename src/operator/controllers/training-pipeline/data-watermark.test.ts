import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainingPipelineStatus } from '../../../api/training-pipeline.js';
import { giveBackData, settleData } from './data-watermark.js';

const w = (objects: number) => ({ objects, digest: `d${objects}`, newestObjectTime: `2026-11-21T0${objects}:00:00.000Z` });

describe('giveBackData', () => {
  const table: Array<[string, TrainingPipelineStatus, TrainingPipelineStatus['dataWatermark']]> = [
    ['back to the data the last run that trained took', { dataWatermark: w(3), trainedDataWatermark: w(1) }, w(1)],
    ['nothing recorded (a pipeline from before): kept', { dataWatermark: w(3) }, w(3)],
  ];
  for (const [name, status, want] of table) it(name, () => assert.deepEqual(giveBackData(status).dataWatermark, want));
});

describe('settleData', () => {
  const table: Array<[string, TrainingPipelineStatus, TrainingPipelineStatus['trainedDataWatermark']]> = [
    ['idle: the watermark is what the last run trained on', { dataWatermark: w(3), trainedDataWatermark: w(1) }, w(3)],
    ['a baseline before any run', { dataWatermark: w(2) }, w(2)],
    ['a run in progress: unchanged until it ends', { currentRun: 'weather-4', dataWatermark: w(3), trainedDataWatermark: w(1) }, w(1)],
    ['no data listed: none', {}, undefined],
  ];
  for (const [name, status, want] of table) it(name, () => assert.deepEqual(settleData(status).trainedDataWatermark, want));
});
