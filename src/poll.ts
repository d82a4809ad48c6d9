/**
 * {@linkcode waitForJobStatus}: polls a job's status until Smile ID reports it complete, with
 * a growing, jittered schedule, a deadline that also cuts the request in flight, abort at any
 * moment, retries of transient failures only, and progress reports.
 *
 * @module
 */

import { clockOption } from "./_clock.ts";
import { SmileIdError } from "./errors.ts";
import type { JobStatusQuery } from "./request.ts";
import type { Clock, JobStatus } from "./types.ts";
import {
  functionOption,
  invalidArgument,
  millisecondsOption,
  positiveOption,
  quote,
  signalOption,
} from "./_validate.ts";

/**
 * Anything that can ask for a job's status once: a client from `createClient`, or a stand-in.
 * It must honour `timeoutMs` and `signal`, as the client does: that is how the polling
 * deadline and the caller's abort reach a request in flight.
 *
 * @example A stand-in reader that completes on the second request
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { type JobStatus, type JobStatusReader, waitForJobStatus } from "@smile-id-kit/job-status";
 *
 * let calls = 0;
 * const reader: JobStatusReader = {
 *   getJobStatus: () => Promise.resolve({ jobComplete: ++calls === 2, code: "2302" } as JobStatus),
 * };
 * const status = await waitForJobStatus(reader, { userId: "user-1", jobId: "job-1" }, { intervalMs: 1 });
 * assertEquals([status.jobComplete, calls], [true, 2]);
 * ```
 */
export interface JobStatusReader {
  /** Asks for the job's status once; rejects with a `SmileIdError` on failure. */
  getJobStatus(
    query: JobStatusQuery,
    options?: { readonly signal?: AbortSignal | undefined; readonly timeoutMs?: number | undefined },
  ): Promise<JobStatus>;
}

/**
 * What happened in one polling attempt, passed to `onProgress`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { PollProgress } from "@smile-id-kit/job-status";
 *
 * function show(p: PollProgress): string {
 *   const state = p.error ? `error ${p.error.code}` : p.status?.jobComplete ? "complete" : "processing";
 *   const next = p.nextDelayMs === undefined ? "" : `, next check in ${Math.round(p.nextDelayMs / 1000)} s`;
 *   return `attempt ${p.attempt} after ${p.elapsedMs} ms: ${state}${next}`;
 * }
 * assertEquals(show({ attempt: 1, elapsedMs: 12, nextDelayMs: 2000 }), "attempt 1 after 12 ms: processing, next check in 2 s");
 * ```
 */
export interface PollProgress {
  /** 1 for the first request, then 2, 3, … */
  readonly attempt: number;
  /** Milliseconds since polling started, at the end of this attempt. */
  readonly elapsedMs: number;
  /** How long the poller waits before the next attempt; `undefined` when there is none. */
  readonly nextDelayMs: number | undefined;
  /** The status this attempt returned, when it succeeded. */
  readonly status?: JobStatus;
  /** The error this attempt failed with, when it failed. */
  readonly error?: SmileIdError;
}

/**
 * How {@linkcode waitForJobStatus} polls.
 *
 * @example A deadline on a test clock: the waits take no real time
 * ```ts
 * import { assertEquals, assertRejects } from "@std/assert";
 * import {
 *   createClient,
 *   SmileIdError,
 *   waitForJobStatus,
 *   type WaitForJobStatusOptions,
 * } from "@smile-id-kit/job-status";
 * import { createFakeSmileId, createTestClock } from "@smile-id-kit/job-status/testing";
 *
 * const clock = createTestClock();
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "my-api-key", clock });
 * fake.addJob({ userId: "user-1", jobId: "job-1", completesAfterMs: 3_600_000 }); // an hour
 * const client = createClient({ partnerId: "085", apiKey: "my-api-key", fetch: fake.fetch, clock });
 * const attempts: number[] = [];
 * const options: WaitForJobStatusOptions = { timeoutMs: 60_000, onProgress: (p) => void attempts.push(p.attempt) };
 * const error = await assertRejects(() => waitForJobStatus(client, { userId: "user-1", jobId: "job-1" }, options), SmileIdError);
 * assertEquals([error.code, error.lastStatus?.jobComplete, error.attempts === attempts.length], ["timeout", false, true]);
 * ```
 */
export interface WaitForJobStatusOptions {
  /**
   * First wait between attempts, in milliseconds.
   *
   * @default {2000}
   */
  readonly intervalMs?: number;
  /**
   * Longest wait between attempts, in milliseconds.
   *
   * @default {8000} (or `intervalMs` if that is larger)
   */
  readonly maxIntervalMs?: number;
  /**
   * Overall deadline in milliseconds; a request in flight is cut at it. Any length works:
   * past the largest timer (2^31−1 ms, about 24.8 days) it is waited in steps.
   *
   * @default {120000}
   */
  readonly timeoutMs?: number;
  /**
   * Deadline of each request, in milliseconds. The client sets this to its own `timeoutMs`; a
   * request that times out before the overall deadline is retried.
   *
   * @default whatever time is left before `timeoutMs`
   */
  readonly requestTimeoutMs?: number;
  /**
   * How long after polling starts a job that is not found counts as not found *yet*: until
   * the first status arrives and within this many milliseconds, an HTTP 404 that carries a
   * Smile ID error code (the fake answers 404 with code 2210) is retried on the schedule like
   * a job still processing; after it, or once a status was seen, a 404 ends polling with that
   * error. A job just submitted may not be found at once; Smile ID's V3 SDKs treat "not found"
   * as pending by default for their whole default 60 s wait, and this default matches that
   * bound while a mistyped id still fails well before the default 120 s deadline. `0` ends
   * polling at the first 404.
   *
   * @default {60000}
   */
  readonly notFoundGraceMs?: number;
  /** Aborting it rejects with code `aborted`, also while waiting between attempts. */
  readonly signal?: AbortSignal;
  /** Called after every attempt; an exception thrown by it ends polling with that exception. */
  readonly onProgress?: (progress: PollProgress) => void;
  /**
   * The clock polling reads and sleeps on; a `TestClock` from `./testing` makes the waits
   * virtual.
   *
   * @default the system clock (`Date.now` and a timer)
   */
  readonly clock?: Clock;
  /**
   * Source of jitter in [0, 1); `() => 0` gives the plain schedule.
   *
   * @default `Math.random`
   */
  readonly random?: () => number;
}

const DEFAULT_INTERVAL_MS = 2000;
const DEFAULT_MAX_INTERVAL_MS = 8000;
const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_NOT_FOUND_GRACE_MS = 60_000;
const GROWTH = 1.5;
const JITTER = 0.1;
const RETRYABLE_STATUS = [429, 500, 502, 503, 504];
/** Smile ID's HTTP 429 code for an ID number blocked after too many submissions. */
const BLOCKED_ID_NUMBER = "2222";

/**
 * The waits between polling attempts, in milliseconds: the first is `intervalMs`, each next
 * one 1.5 times longer up to `maxIntervalMs`, each shortened by up to 10% of jitter (so no wait
 * exceeds the schedule). Pure; the same numbers {@linkcode waitForJobStatus} uses when no
 * `Retry-After` intervenes.
 *
 * @example The default schedule without jitter
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { pollDelays } from "@smile-id-kit/job-status";
 *
 * assertEquals(pollDelays(6, { random: () => 0 }), [2000, 3000, 4500, 6750, 8000, 8000]);
 * ```
 */
export function pollDelays(
  count: number,
  options: Pick<WaitForJobStatusOptions, "intervalMs" | "maxIntervalMs" | "random"> = {},
): number[] {
  const { intervalMs, maxIntervalMs } = intervals(options);
  const random = functionOption(options.random, "random") ?? Math.random;
  if (typeof count !== "number") throw invalidArgument("Count", "a number", count);
  const delays: number[] = [];
  for (let i = 0; i < count; i++) delays.push(delayAt(i, intervalMs, maxIntervalMs, random));
  return delays;
}

function delayAt(index: number, intervalMs: number, maxIntervalMs: number, random: () => number): number {
  const base = Math.min(maxIntervalMs, intervalMs * GROWTH ** index);
  const r = random();
  return Math.round(base * (1 - JITTER * (r > 0 ? Math.min(r, 1) : 0))); // NaN or garbage: no jitter
}

/**
 * Polls `reader.getJobStatus(query)` until the job is complete and returns that status. The
 * first request goes out at once; the waits follow {@linkcode pollDelays}. Each attempt is a
 * fresh request (the client signs each one anew).
 *
 * - Deadline: after `timeoutMs` it rejects with code `timeout`; the error's `lastStatus`
 *   holds the last status seen and `attempts` the number of requests. A request still in
 *   flight is cut at the deadline.
 * - Abort: `signal` rejects with code `aborted` at once, during a request or a wait.
 * - Transient failures are retried within the deadline: code `transport`, a single request's
 *   `timeout`, and HTTP 429, 500, 502, 503 and 504, waiting at least what `Retry-After` asks
 *   (when that lies beyond the deadline it gives up at once with code `timeout`).
 * - Never retried: Smile ID's code `2222` (HTTP 429: the ID number is blocked after too many
 *   submissions, until a rate-limit reset call lifts it).
 * - A job not found yet (HTTP 404 with a Smile ID code, before any status arrived) is polled
 *   again for `notFoundGraceMs` (default 60 s).
 * - Every other failure (`signature_mismatch`, `missing_signature`, `answer_mismatch`,
 *   `schema`, `unexpected_response`, other HTTP statuses such as 401 with Smile ID's
 *   2204/2205, a followed redirect) rejects at once with that error.
 * - An incomplete status is never returned as if it were final; incomplete answers with code
 *   `2314` ("No zip file received") are polled like any other until the deadline.
 *
 * @example Wait for a job (here against an in-process stand-in that completes on the 3rd call)
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient, createSigner, waitForJobStatus } from "@smile-id-kit/job-status";
 *
 * const smile = createSigner({ partnerId: "085", apiKey: "my-api-key" });
 * let calls = 0;
 * const fetch = async () => Response.json({ job_complete: ++calls >= 3, result: {}, ...(await smile.sign()) });
 * const client = createClient({ partnerId: "085", apiKey: "my-api-key", fetch });
 *
 * const seen: string[] = [];
 * const status = await waitForJobStatus(client, { userId: "user-1", jobId: "job-1" }, {
 *   intervalMs: 5,
 *   onProgress: (p) => void seen.push(`attempt ${p.attempt}: ${p.status?.jobComplete ? "complete" : "processing"}`),
 * });
 * assertEquals([status.jobComplete, calls], [true, 3]);
 * assertEquals(seen, ["attempt 1: processing", "attempt 2: processing", "attempt 3: complete"]);
 * ```
 */
export async function waitForJobStatus(
  reader: JobStatusReader,
  query: JobStatusQuery,
  options: WaitForJobStatusOptions = {},
): Promise<JobStatus> {
  if (typeof reader?.getJobStatus !== "function") {
    throw invalidArgument("Reader", "an object with a getJobStatus method", reader);
  }
  if (typeof options !== "object" || options === null) throw invalidArgument("Options", "an object", options);
  const { intervalMs, maxIntervalMs } = intervals(options);
  const timeoutMs = positiveOption(options.timeoutMs, "timeoutMs") ?? DEFAULT_TIMEOUT_MS;
  const requestTimeoutMs = positiveOption(options.requestTimeoutMs, "requestTimeoutMs");
  const notFoundGraceMs = millisecondsOption(options.notFoundGraceMs, "notFoundGraceMs") ?? DEFAULT_NOT_FOUND_GRACE_MS;
  const signal = signalOption(options.signal);
  const onProgress = functionOption(options.onProgress, "onProgress");
  const clock = clockOption(options.clock, true);
  const random = functionOption(options.random, "random") ?? Math.random;
  const target = `job ${quote(query?.jobId)} of user ${quote(query?.userId)}`;
  if (signal?.aborted) throw aborted(target, 0, undefined, signal.reason);

  const start = clock.now();
  const deadline = start + timeoutMs;
  if (!Number.isFinite(deadline)) {
    throw invalidArgument("Option clock.now()", "a function returning milliseconds", start);
  }
  let lastStatus: JobStatus | undefined;
  let lastError: unknown;
  let retries = 0;

  // A job just submitted may not be found yet: a 404 with a Smile ID code, before any status
  // arrived and within the grace period, is polled again like a job still processing.
  const notFoundYet = (error: unknown): boolean =>
    error instanceof SmileIdError && error.code === "http" && error.status === 404 &&
    error.smileCode !== undefined && lastStatus === undefined && clock.now() - start < notFoundGraceMs;

  const timedOut = (attempts: number, why: string): SmileIdError =>
    new SmileIdError(
      "timeout",
      `Gave up waiting for ${target} after ${attempts} attempt${attempts === 1 ? "" : "s"} in ` +
        `${clock.now() - start} ms: ${why}; expected job_complete true within ${timeoutMs} ms`,
      { attempts, lastStatus, ...(lastError === undefined ? {} : { cause: lastError }) },
    );

  for (let attempt = 1;; attempt++) {
    const remaining = deadline - clock.now();
    // A clock that stops returning numbers would otherwise poll without end.
    if (!(remaining > 0)) throw timedOut(attempt - 1, "the deadline passed");
    const requestTimeout = Math.min(requestTimeoutMs ?? remaining, remaining);
    let status: JobStatus | undefined;
    let error: unknown;
    try {
      status = await reader.getJobStatus(query, { signal, timeoutMs: requestTimeout });
      lastStatus = status;
      lastError = undefined;
    } catch (caught) {
      error = lastError = caught;
    }

    let failure: unknown;
    let delay: number | undefined;
    if (signal?.aborted) {
      // The request's own `aborted` error becomes the cause: the one thrown carries lastStatus.
      failure = aborted(target, attempt, lastStatus, isCode(error, "aborted") ? error : signal.reason);
    } else if (status?.jobComplete) {
      // done
    } else if (error !== undefined && !retryable(error) && !notFoundYet(error)) {
      failure = error;
    } else if (isCode(error, "timeout") && requestTimeout >= remaining) {
      failure = timedOut(attempt, "the deadline cut the last request");
    } else {
      const left = deadline - clock.now();
      const retryAfter = error instanceof SmileIdError ? error.retryAfterMs : undefined;
      delay = Math.min(left, Math.max(delayAt(retries++, intervalMs, maxIntervalMs, random), retryAfter ?? 0));
      if (left <= 0) {
        failure = timedOut(attempt, "the deadline passed");
      } else if (retryAfter !== undefined && retryAfter >= left) {
        failure = timedOut(attempt, `Smile ID asked to retry after ${retryAfter} ms (Retry-After), past the deadline`);
      }
      if (failure !== undefined) delay = undefined;
    }

    onProgress?.({
      attempt,
      elapsedMs: clock.now() - start,
      nextDelayMs: delay,
      ...(status === undefined ? {} : { status }),
      ...(error instanceof SmileIdError ? { error } : {}),
    });
    if (failure !== undefined) throw failure;
    if (delay === undefined) return status as JobStatus;

    try {
      await clock.sleep(delay, signal);
    } catch {
      // An aborted sleep may reject; the checks below say why polling ends.
    }
    if (signal?.aborted) throw aborted(target, attempt, lastStatus, signal.reason);
    if (clock.now() >= deadline) throw timedOut(attempt, "the deadline passed");
  }
}

function retryable(error: unknown): boolean {
  if (!(error instanceof SmileIdError)) return false;
  if (error.code === "transport" || error.code === "timeout") return true;
  // 2222: the ID number is blocked until a rate-limit reset call; asking again cannot help.
  if (error.smileCode === BLOCKED_ID_NUMBER) return false;
  return error.code === "http" && RETRYABLE_STATUS.includes(error.status ?? 0);
}

function isCode(error: unknown, code: string): error is SmileIdError {
  return error instanceof SmileIdError && error.code === code;
}

function aborted(target: string, attempts: number, lastStatus: JobStatus | undefined, cause: unknown): SmileIdError {
  return new SmileIdError("aborted", `Waiting for ${target} was aborted after ${attempts} attempt(s)`, {
    attempts,
    lastStatus,
    cause,
  });
}

function intervals(options: Pick<WaitForJobStatusOptions, "intervalMs" | "maxIntervalMs">): {
  intervalMs: number;
  maxIntervalMs: number;
} {
  const intervalMs = positiveOption(options.intervalMs, "intervalMs") ?? DEFAULT_INTERVAL_MS;
  const maxIntervalMs = positiveOption(options.maxIntervalMs, "maxIntervalMs") ??
    Math.max(DEFAULT_MAX_INTERVAL_MS, intervalMs);
  if (maxIntervalMs < intervalMs) {
    throw invalidArgument("Option maxIntervalMs", `at least intervalMs (${intervalMs})`, maxIntervalMs);
  }
  return { intervalMs, maxIntervalMs };
}
