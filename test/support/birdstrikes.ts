// A second real, public, time-ordered dataset for the loop, as a Dataset (dataset.ts): the FAA wildlife strike
// records that ship with vega-datasets (birdstrikes.csv: 10,000 strikes, 1990-01-08 to 2002-07-25, in date order).
// A regression: the aircraft's indicated airspeed at the strike (`Speed IAS in knots`, 0–350) from categorical
// columns whose names have spaces. 28% of the rows have no speed: they are traffic nobody can label, and never
// uploaded (uploaded data is labelled data). The file has no row id: `Record ID` is added, the row's number in the
// file (1–10,000), in the uploaded CSVs and in the requests, so a fed-back row and its uploaded copy are matched.
// Periods are blocks of three years (1990-1992, 1993-1995, ...): one CSV object each, as a data pipeline would drop
// them.
import { join } from 'node:path';
import { repoRoot } from '../../localcluster/cluster.js';
import { readCsvFile, type Dataset, type Row } from './dataset.js';

export const birdstrikesCsvPath = join(repoRoot, 'node_modules/vega-datasets/data/birdstrikes.csv');
export const recordId = 'Record ID';

let loaded: { columns: string[]; rows: Row[] } | undefined;
function birdstrikesCsv(): { columns: string[]; rows: Row[] } {
  if (loaded) return loaded;
  const { columns, rows } = readCsvFile(birdstrikesCsvPath);
  loaded = { columns: [recordId, ...columns], rows: rows.map((r, i) => ({ [recordId]: String(i + 1), ...r })) };
  return loaded;
}

const features = ['Phase of flight', 'Aircraft Make Model', 'Wildlife Size', 'Time of day', 'Aircraft Airline Operator', 'Origin State'] as const;

/** The first year of a row's three-year block: 1990, 1993, 1996, 1999, 2002. */
function blockStart(row: Row): number {
  const year = Number((row['Flight Date'] ?? '').slice(0, 4));
  return 1990 + 3 * Math.floor((year - 1990) / 3);
}

export const birdstrikes: Dataset = {
  name: 'birdstrikes',
  get columns() { return birdstrikesCsv().columns; },
  get rows() { return birdstrikesCsv().rows; },
  features: features.map((name) => ({ name, type: 'categorical' as const })),
  label: { name: 'Speed IAS in knots', task: 'regression', min: 0, max: 500 },
  timestampColumn: 'Flight Date',
  rowIdColumn: recordId,
  periodOf: (r) => {
    const start = blockStart(r);
    return Number.isFinite(start) ? `${start}-${start + 2}` : undefined;
  },
  /** The features as the record has them, with the strike's date (event time) and the record's id. */
  instance: (r) => ({
    ...Object.fromEntries(features.map((f) => [f, r[f] ?? ''])),
    'Flight Date': r['Flight Date'] ?? '',
    [recordId]: r[recordId] ?? '',
  }),
};
