/**
 * {@linkcode reconcileJobs}: polls jobs whose callback has not come and runs each complete
 * result through the callback handler's own exactly-once step, so that a result that arrives
 * both by callback and by polling runs `onCallback` once.
 *
 * @module
 */

import { resultKey } from "./_compare.ts";
import { SmileIdError } from "./errors.ts";
import { type CreateCallbackHandlerOptions, handlerSetup, type OnceOutcome, runOnce } from "./handler.ts";
import type { JobStatusQuery } from "./request.ts";
import type { JobStatus } from "./types.ts";
import { functionOption, invalidArgument, positiveIntegerOption, signalOption } from "./_validate.ts";

/**
 * One job for {@linkcode reconcileJobs}: the ids it was submitted with.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { ReconcileJob } from "@smile-id-kit/job-status";
 *
 * const jobs: ReconcileJob[] = [{ userId: "user-1", jobId: "job-1" }];
 * assertEquals(jobs.length, 1);
 * ```
 */
export type ReconcileJob = Pick<JobStatusQuery, "userId" | "jobId">;

/**
 * Options of {@linkcode reconcileJobs}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { ReconcileJobsOptions } from "@smile-id-kit/job-status";
 *
 * const options: ReconcileJobsOptions = { concurrency: 2, maxRequests: 50, signal: AbortSignal.timeout(60_000) };
 * assertEquals(options.maxRequests, 50);
 * ```
 */
export interface ReconcileJobsOptions {
  /**
   * Most job-status requests in flight at once.
   *
   * @default {4}
   */
  readonly concurrency?: number;
  /**
   * Most job-status requests in all (one per job asked about); jobs beyond it are `skipped`.
   *
   * @default the number of jobs (no limit beyond one request per job)
   */
  readonly maxRequests?: number;
  /**
   * Stops the run: requests in flight are aborted, and jobs not processed yet are `skipped`
   * (an `onCallback` already running finishes first, and the run resolves after it).
   */
  readonly signal?: AbortSignal;
  /** Called with each job that `failed`, and why (for logs); what it throws is ignored. */
  readonly onFailed?: (error: SmileIdError, job: ReconcileJob) => unknown;
}

/**
 * What {@linkcode reconcileJobs} did: how many jobs ended each way, and how many requests it
 * sent. The counts add up to the number of jobs.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { ReconcileJobsResult } from "@smile-id-kit/job-status";
 *
 * const result: ReconcileJobsResult = { processed: 1, duplicate: 2, pending: 0, failed: 0, skipped: 0, requests: 3 };
 * assertEquals(result.processed + result.duplicate, 3);
 * ```
 */
export interface ReconcileJobsResult {
  /** Complete, and `onCallback` ran on it now (and succeeded). */
  readonly processed: number;
  /** Complete, and its result was already processed (by a callback or an earlier run). */
  readonly duplicate: number;
  /**
   * Not settled yet: Smile ID has no final result for it (`jobComplete: false`), or a callback
   * delivery is processing the same result right now. Ask again later.
   */
  readonly pending: number;
  /** The request failed (Smile ID unreachable, an error answer), `onCallback` threw, or the guard's store failed. */
  readonly failed: number;
  /** Not asked about: the request budget was spent, or the signal aborted the run. */
  readonly skipped: number;
  /** Job-status requests sent. */
  readonly requests: number;
}

/**
 * Polls each of `jobs` once, at most `concurrency` at a time and `maxRequests` in all, and runs
 * each complete status through the callback handler's exactly-once step, with the keys a
 * callback of the same result gets: `onCallback` of `handlerOptions` (the very options object
 * given to `createCallbackHandler`) then runs once per result, whether the result arrived as a
 * callback, by reconciliation, or both, on any instance sharing the `replayGuard` (with the
 * default in-memory guard, the handler and the calls given the same options object share one).
 * `onCallback` gets a {@linkcode ReconciledResult} (`source: "reconcile"`), which has Smile ID's
 * `status` and no body.
 *
 * Use it for jobs whose callback has not come after a while (say, an hour). It never rejects for
 * one job: each ends as a count of the result. It rejects only for bad arguments, and
 * `handlerOptions` must have `confirm` on (the default), since without it callbacks are keyed by
 * their signature pair, which a polled status does not have.
 *
 * @example A result that arrived by callback is not run again (here against the fake Smile ID)
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createCallbackHandler, createClient, type CreateCallbackHandlerOptions, reconcileJobs } from "@smile-id-kit/job-status";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "my-api-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 * fake.addJob({ userId: "user-2", jobId: "job-2" });
 * fake.addJob({ userId: "user-3", jobId: "job-3", completesAfterMs: 3_600_000 });
 * const sources: string[] = [];
 * const options: CreateCallbackHandlerOptions = {
 *   client: createClient({ partnerId: "085", apiKey: "my-api-key", fetch: fake.fetch }),
 *   onCallback: (result) => void sources.push(`${result.source} ${result.status.result ? "result" : ""}`),
 * };
 * const handler = createCallbackHandler(options);
 * await fake.sendCallback("job-1", handler); // job 1's callback came; job 2's did not
 *
 * const jobs = [{ userId: "user-1", jobId: "job-1" }, { userId: "user-2", jobId: "job-2" }, { userId: "user-3", jobId: "job-3" }];
 * const counts = await reconcileJobs(options, jobs);
 * assertEquals(counts, { processed: 1, duplicate: 1, pending: 1, failed: 0, skipped: 0, requests: 3 });
 * assertEquals(sources, ["callback result", "reconcile result"]);
 * ```
 */
export async function reconcileJobs(
  handlerOptions: CreateCallbackHandlerOptions<true> | CreateCallbackHandlerOptions<boolean>,
  jobs: Iterable<ReconcileJob>,
  options: ReconcileJobsOptions = {},
): Promise<ReconcileJobsResult> {
  const setup = handlerSetup(handlerOptions as CreateCallbackHandlerOptions<boolean>);
  if (!setup.confirm) {
    throw new SmileIdError(
      "invalid_argument",
      "reconcileJobs needs the handler options' confirm on: without it callbacks are keyed by their signature " +
        "pair, which a polled job status does not have",
    );
  }
  if (typeof options !== "object" || options === null) throw invalidArgument("Reconcile options", "an object", options);
  if (typeof (jobs as Iterable<unknown> | null)?.[Symbol.iterator] !== "function") {
    throw invalidArgument("The jobs", "an iterable of { userId, jobId }", jobs);
  }
  const list = Array.from(jobs);
  const concurrency = positiveIntegerOption(options.concurrency, "concurrency") ?? 4;
  const maxRequests = options.maxRequests ?? list.length;
  if (!(Number.isInteger(maxRequests) || maxRequests === Infinity) || maxRequests < 0) {
    throw invalidArgument("Option maxRequests", "a non-negative integer", maxRequests);
  }
  const signal = signalOption(options.signal);
  const onFailed = functionOption(options.onFailed, "onFailed");

  const { client, settings } = setup;
  const counts = { processed: 0, duplicate: 0, pending: 0, failed: 0, skipped: 0, requests: 0 };
  const fail = async (error: unknown, job: ReconcileJob) => {
    counts.failed++;
    const failure = error instanceof SmileIdError
      ? error
      : new SmileIdError("callback_failed", "Reconciling a job failed unexpectedly", { cause: error });
    try {
      await onFailed?.(failure, job);
    } catch {
      // What onFailed throws must not stop the run.
    }
  };
  const one = async (job: ReconcileJob): Promise<void> => {
    if (signal?.aborted || counts.requests >= maxRequests) {
      counts.skipped++;
      return;
    }
    counts.requests++;
    let status: JobStatus;
    try {
      status = await client.getJobStatus({ userId: job.userId, jobId: job.jobId }, signal ? { signal } : undefined);
    } catch (error) {
      if (signal?.aborted) counts.skipped++;
      else await fail(error, job);
      return;
    }
    if (signal?.aborted) {
      // Stopped while the answer came: leave it to the next run rather than start onCallback now.
      counts.skipped++;
      return;
    }
    if (!status.jobComplete) {
      counts.pending++;
      return;
    }
    let outcome: OnceOutcome;
    try {
      const userId = String(job.userId);
      const jobId = String(job.jobId);
      const replayKey = await resultKey(userId, jobId, status);
      const replayTtlSeconds = settings.rememberSeconds;
      outcome = await runOnce(
        setup,
        replayKey,
        replayTtlSeconds,
        { source: "reconcile", confirmed: true, userId, jobId, status, replayKey, replayTtlSeconds },
        (error) => onFailed?.(error, job),
      );
    } catch (error) {
      await fail(error, job);
      return;
    }
    if (outcome === "processed") counts.processed++;
    else if (outcome === "duplicate") counts.duplicate++;
    else counts.pending++;
  };

  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, async () => {
    while (next < list.length) await one(list[next++]!);
  }));
  return counts;
}
