// The claim policy's fairness, once for both drivers: priority decides the order of claims, but
// one job in every OLDEST_SHARE claimed is the ready job that has waited longest, whatever its
// priority (the drivers' `oldest` lane of jobClaim). So one owner's stream of long high-priority
// jobs cannot starve another owner's low-priority job without bound: it is claimed once the jobs
// that became ready before it are, at worst after (jobs ready before it) × OLDEST_SHARE claims,
// however many higher-priority jobs keep arriving. (Per-owner concurrency caps were the other
// choice; they would cost a count of active jobs per owner on every claim.)

/** One claimed job in this many is taken oldest-first. */
export const OLDEST_SHARE = 10;

/** Counts a worker's claims and says how many of the next claim go to the oldest lane. */
export class FairShare {
  #claimed = 0;

  /** How many of a claim of `limit` jobs are the longest-waiting ready ones. */
  oldestFor(limit: number): number {
    const before = Math.floor(this.#claimed / OLDEST_SHARE);
    this.#claimed += limit;
    return Math.floor(this.#claimed / OLDEST_SHARE) - before;
  }
}
