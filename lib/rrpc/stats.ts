/** GET /api/stats's bucket rules, shared by the server's schema and the dashboard's charts (no zod here: it stays out of the pages' bundles). */

/** GET /api/stats answers at most this many buckets (400 invalid_request beyond). */
export const MAX_STATS_BUCKETS = 1000;
/** The range of GET /api/stats and /api/stats/devices when `from` is left out: the hour before `to`. */
export const DEFAULT_STATS_RANGE_MS = 60 * 60 * 1000;
const NICE_BUCKETS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** The bucket (seconds) GET /api/stats uses when none is given: a round one giving at most `target` buckets. */
export function defaultBucketSeconds(rangeMs: number, target = 120): number {
  return NICE_BUCKETS_S.find((b) => rangeMs / (b * 1000) <= target) ?? Math.ceil(rangeMs / 1000 / MAX_STATS_BUCKETS);
}
