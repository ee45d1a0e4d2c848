// The weather loop's client traffic: the days of one location as request instances with their true labels, for the
// dataset-neutral client in traffic.ts (Traffic, sendBatch). Shared by the closed-loop e2e test, `make demo` and the
// loop benchmarks.
import { samplesOf, shuffled, type Sample } from './dataset.js';
import { weather } from './weather-loop.js';

/**
 * Every day of one location in the weather data, as a request instance and its true label, in a fixed shuffled
 * order: any stretch of the traffic is then a sample of all seasons, so live accuracies measured over different
 * stretches (v1's windows before a retrain, v2's after) compare like with like. In date order, a minute of traffic
 * covers part of a year, and the comparison would measure the seasons as much as the models. (New York days carry
 * dates 4 years on: see weather.instance.)
 */
export function days(location: string): Sample[] {
  return shuffled(samplesOf(weather, weather.rows.filter((r) => r['location'] === location)), location.length * 7919 + 17);
}
