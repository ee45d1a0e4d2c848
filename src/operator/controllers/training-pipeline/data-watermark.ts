// Where new data starts, for the newData trigger. Pure, table-tested.
//
// status.dataWatermark is the data under the sources when the run in progress started (or, with no run in
// progress, when the last run that trained started; before any run, the first listing as a baseline): objects
// written later are new data. Any run takes the data there is when it starts, whatever trigger started it: it
// trains on those rows, so counting them again would start a second run for the same data. But a run that ends
// without training on them must not take them: status.trainedDataWatermark remembers the watermark of the last run
// that trained, and
//   - a run that ended Failed (its Job failed or was refused, its pods were OOM-killed or never got their image,
//     or a newer run replaced it) gives its rows back: dataWatermark returns to trainedDataWatermark, and they count
//     again as new data, together with what arrives later;
//   - a run that trained (Blessed or Rejected: a model learned the rows) or refused the data as invalid (InvalidData:
//     the same rows would be refused again) keeps them;
//   - with no run in progress the two are the same (settle), so the next run that fails returns to here.
// A replaced run needs nothing of its own: the run replacing it takes the data there is, its rows among them.
import type { TrainingPipelineStatus } from '../../../api/training-pipeline.js';

type Status = TrainingPipelineStatus;

/** A run that ended without training on its data gives its rows back. Pipelines from before trainedDataWatermark keep theirs. */
export function giveBackData(status: Status): Status {
  return status.trainedDataWatermark === undefined ? status : { ...status, dataWatermark: status.trainedDataWatermark };
}

/** With no run in progress, the data the watermark names is the data the last run trained on. */
export function settleData(status: Status): Status {
  if (status.currentRun !== undefined) return status;
  const { trainedDataWatermark: _old, ...rest } = status;
  return status.dataWatermark === undefined ? rest : { ...rest, trainedDataWatermark: status.dataWatermark };
}
