// The fake Smile ID itself: its jobs, its clock, the record of requests, and the fetch handler
// that answers job-status requests (the protocol is ./_protocol.ts, faults ./_faults.ts,
// callbacks ./_callbacks.ts). Public through ./mod.ts, which documents the module.

import { clockOption, readNow } from "../_clock.ts";
import { SmileIdError } from "../errors.ts";
import { createSigner } from "../signature.ts";
import type { Clock, JsonObject, JsonValue } from "../types.ts";
import { functionOption, invalidArgument, millisecondsOption, nonEmpty, quote } from "../_validate.ts";
import {
  type BuildCallbackOptions,
  callbackBody,
  type CallbackHandler,
  postCallback,
  type SendCallbackOptions,
} from "./_callbacks.ts";
import { DEFAULT_CODE, DEFAULT_RESULT } from "./_default_result.ts";
import { answerFault, corruptAnswer, type FakeFault, FaultQueue } from "./_faults.ts";
import { type FakeProduct, productJob } from "./_products.ts";
import { answerJobStatus, answerTimestamp, clone, isObject, type JobView, safePath } from "./_protocol.ts";

/**
 * How to build a fake Smile ID.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createTestClock, type CreateFakeSmileIdOptions } from "@smile-id-kit/job-status/testing";
 *
 * const clock = createTestClock("2024-01-01T00:00:00.000Z");
 * const options: CreateFakeSmileIdOptions = { partnerId: "085", apiKey: "test-key", clock };
 * clock.advance(5000); // the fake sees time move only when the test moves it
 * assertEquals(new Date(options.clock!.now()).toISOString(), "2024-01-01T00:00:05.000Z");
 * ```
 */
export interface CreateFakeSmileIdOptions {
  /** The partner id requests must carry and answers are signed for (verbatim, like Smile ID). */
  readonly partnerId: string;
  /** The API key for signature the fake verifies requests with and signs answers with. */
  readonly apiKey: string;
  /**
   * The fake's time: when jobs appear and complete, and the timestamps it signs answers and
   * callbacks with. Give the same clock (a `TestClock` from {@linkcode createTestClock}) to
   * `createClient` and the callback handler, so that polling, the fake and freshness checks
   * share one time. The fake itself reads only `now` (fault latency is real time), but takes a
   * whole `Clock`, so that `fake.clock` can drive polling too.
   *
   * @default the system clock, so a fake served over HTTP to a real client works as is
   */
  readonly clock?: Clock;
  /**
   * Path the API lives under, so the endpoint is `{basePath}/job_status` on any origin.
   *
   * @default {"/v1"}
   */
  readonly basePath?: string;
  /**
   * When set, a query for an unknown job creates it (completing `completesAfterMs` after that
   * first query) instead of answering 404; handy for a long-running fake server.
   */
  readonly autoCreateJobs?: { readonly completesAfterMs?: number };
  /** Called after every request with what the fake saw and answered (also kept in `requests`). */
  readonly onRequest?: (record: FakeRequestRecord) => void;
  /**
   * How many of the latest requests `requests` keeps (a whole number, 1 or more; `Infinity`
   * keeps all): older records are dropped, so a long-running fake server stays flat in memory.
   * `onRequest` sees every request.
   *
   * @default {1000}
   */
  readonly maxRequests?: number;
}

/**
 * A job known to the fake. Everything but the ids is optional: by default the job is complete
 * at once and approved: its result is an ID verification with `ResultCode` `"1012"` ("ID Number
 * Validated"), which `describeResult` reports as decision `approved`, with the job's own ids in
 * `PartnerParams`.
 *
 * @example A job that fails, reported after 3 seconds
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient, describeResult } from "@smile-id-kit/job-status";
 * import { createFakeSmileId, createTestClock, type FakeJob } from "@smile-id-kit/job-status/testing";
 *
 * const job: FakeJob = {
 *   userId: "user-2",
 *   jobId: "job-2",
 *   completesAfterMs: 3000,
 *   jobSuccess: false,
 *   result: { ResultCode: "1022", ResultText: "No Match", Actions: { Verify_ID_Number: "Not Verified" } },
 * };
 * const clock = createTestClock();
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key", clock });
 * fake.addJob(job);
 * const client = createClient({ partnerId: "085", apiKey: "test-key", fetch: fake.fetch, clock });
 * const status = await client.waitForJobStatus({ userId: "user-2", jobId: "job-2" });
 * assertEquals([describeResult(status).decision, status.jobSuccess], ["rejected", false]);
 * ```
 */
export interface FakeJob {
  /** `user_id` the job was submitted with. */
  readonly userId: string;
  /** `job_id` the job was submitted with; unique within the fake. */
  readonly jobId: string;
  /**
   * The final result: an object (a result object without `PartnerParams` gets
   * `{ user_id, job_id }`) or a plain string such as `"No zip uploaded"`.
   *
   * @default an approved ID verification, `ResultCode` `"1012"` (decision `approved`)
   */
  readonly result?: JsonObject | string;
  /**
   * `job_success` once complete.
   *
   * @default {true}
   */
  readonly jobSuccess?: boolean;
  /**
   * `code` of the answers (see `missingZip` for `"2314"`).
   *
   * @default {"2302"} (the code of Smile ID's documented answers)
   */
  readonly code?: string;
  /**
   * Milliseconds, by the fake's clock, from `addJob` until the job is complete.
   *
   * @default {0} (never for a `missingZip` job)
   */
  readonly completesAfterMs?: number;
  /**
   * Milliseconds, by the fake's clock, from `addJob` until the job can be found. Before that it
   * is answered like an unknown job (404, code 2210), as Smile ID may not find a job just
   * submitted; `waitForJobStatus` polls through that for its `notFoundGraceMs`.
   *
   * @default {0}
   */
  readonly appearsAfterMs?: number;
  /**
   * The job's zip file never arrived: until the job completes (never by default; set
   * `completesAfterMs` or call `completeJob`), every answer is Smile ID's documented code 2314,
   * as the Java SDK's fixture shows it: `job_complete: false`, `job_success: false`,
   * `code: "2314"` and the string result `"No zip file received"`.
   *
   * @default {false}
   */
  readonly missingZip?: boolean;
  /**
   * `history` once complete, when asked for.
   *
   * @default `[result]` for an object result, else `[]`
   */
  readonly history?: readonly JsonObject[];
  /**
   * `image_links` once complete, when asked for.
   *
   * @default a `selfie_image` link on an `.invalid` host
   */
  readonly imageLinks?: Readonly<Record<string, JsonValue>>;
  /**
   * Shape the job as one Smile ID product (see {@linkcode FakeProduct}): its result, history,
   * image links and receipt, as Smile ID's docs and SDKs show them. `result`, `history` and
   * `imageLinks` given beside it win over the shape's.
   *
   * @default none: the result above
   */
  readonly product?: FakeProduct;
}

/**
 * A change to a job already added, for {@linkcode FakeSmileId.updateJob}: what human review does
 * to a provisional result, or a job that completes later than planned. Fields left out keep
 * their value. The next `getJobStatus` answer, and every callback built afterwards, carry the
 * change.
 *
 * @example A provisional result made final by human review
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { FakeJobUpdate } from "@smile-id-kit/job-status/testing";
 *
 * const update: FakeJobUpdate = {
 *   result: { ResultCode: "1012", ResultText: "ID Number Validated", IsFinalResult: "true" },
 * };
 * assertEquals(update.jobComplete, undefined); // completion is left as it was
 * ```
 */
export interface FakeJobUpdate {
  /**
   * The new result (an object gets the job's ids in `PartnerParams` when it has none). Unless
   * `history` is given too, the new result is appended to the job's history, as Smile ID lists
   * each result a job had.
   */
  readonly result?: JsonObject | string;
  /** The new `job_success`. */
  readonly jobSuccess?: boolean;
  /** The new `code` of answers. */
  readonly code?: string;
  /**
   * `true`: complete (and findable) from now on, like `completeJob`; `false`: not complete until
   * updated again (answers say `job_complete: false`).
   */
  readonly jobComplete?: boolean;
  /** The new `history`, replacing the old one. */
  readonly history?: readonly JsonObject[];
  /** The new `image_links`. */
  readonly imageLinks?: Readonly<Record<string, JsonValue>>;
}

/**
 * What the fake saw and answered for one request: enough to assert what your code sent ("it
 * asked for history", "it signed for partner 085") as well as what it got. Fields read from the
 * body are `undefined` when the request never got that far: a fault that replaced the answer
 * (`status`, `networkError`) is answered without reading the body, and a body that is not a
 * JSON object has no fields.
 *
 * @example Assert that the code under test asked for history
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient } from "@smile-id-kit/job-status";
 * import { createFakeSmileId, type FakeRequestRecord } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 * const client = createClient({ partnerId: "085", apiKey: "test-key", fetch: fake.fetch });
 * await client.getJobStatus({ userId: "user-1", jobId: "job-1", includeHistory: true });
 *
 * const [sent]: readonly FakeRequestRecord[] = fake.requests;
 * assertEquals([sent?.jobId, sent?.history, sent?.imageLinks, sent?.signatureValid], ["job-1", true, false, true]);
 * ```
 */
export interface FakeRequestRecord {
  /** The fake's clock (`clock.now()`) when the request arrived, in milliseconds since the epoch. */
  readonly at: number;
  /** HTTP method. */
  readonly method: string;
  /** URL path. */
  readonly path: string;
  /** HTTP status answered; 0 when a `networkError` fault dropped it. */
  readonly status: number;
  /** `user_id` of the body (a number as its digits), when it had one. */
  readonly userId: string | undefined;
  /** `job_id` of the body, when it had one. */
  readonly jobId: string | undefined;
  /** `partner_id` of the body, when it had one. */
  readonly partnerId: string | undefined;
  /** `timestamp` the request was signed with, when it had one. */
  readonly timestamp: string | undefined;
  /** The `history` flag as the fake read it (absent is `false`, `"true"` is `true`); `undefined` if not a flag. */
  readonly history: boolean | undefined;
  /** The `image_links` flag as the fake read it; `undefined` if not a flag. */
  readonly imageLinks: boolean | undefined;
  /** The parsed JSON body, when it was a JSON object. */
  readonly body: JsonObject | undefined;
  /**
   * Whether the partner id and the signature over the timestamp were right; `undefined` when
   * the request was refused before that check (or a fault answered it).
   */
  readonly signatureValid: boolean | undefined;
  /** Smile error code answered (`"2205"`), if any. */
  readonly smileCode: string | undefined;
  /** `job_complete` answered, for job-status answers. */
  readonly jobComplete: boolean | undefined;
  /** Whether an injected fault shaped the answer. */
  readonly faulted: boolean;
}

/**
 * A running fake Smile ID. Its `fetch` may be passed around unbound.
 *
 * @example Serve it over HTTP with Deno
 * ```ts ignore
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1", completesAfterMs: 3000 });
 * Deno.serve({ hostname: "127.0.0.1", port: 8787 }, (request) => fake.fetch(request)); // base URL http://127.0.0.1:8787/v1
 * ```
 */
export interface FakeSmileId {
  /** The partner id the fake serves. */
  readonly partnerId: string;
  /** The clock the fake runs on: the `clock` option, or the system clock. */
  readonly clock: Clock;
  /**
   * The fetch handler: `POST {basePath}/job_status` under any origin. Safe to call unbound.
   * Given a `Request`, it reads only the `signal` of a second argument, so servers that pass
   * something else there (`Deno.serve`, `Bun.serve`) can call it: `(request) => fake.fetch(request)`.
   */
  readonly fetch: (input: Request | string | URL, init?: RequestInit) => Promise<Response>;
  /**
   * The latest requests seen since creation or the last `clearRequests()`, oldest first: at
   * most `maxRequests` (1,000 by default).
   */
  readonly requests: readonly FakeRequestRecord[];
  /** Registers a job; a `job_id` already registered throws a `SmileIdError` with code `invalid_argument`. */
  addJob(job: FakeJob): void;
  /** Marks a job complete now (and findable), whatever its `completesAfterMs`, `appearsAfterMs` or `missingZip`. */
  completeJob(jobId: string): void;
  /**
   * Changes a job after `addJob`: its result, success, code, completion, history or image links
   * (see {@linkcode FakeJobUpdate}). A `userId`/`jobId` pair the fake does not have, or a bad
   * field, throws a `SmileIdError` with code `invalid_argument`.
   */
  updateJob(userId: string, jobId: string, update: FakeJobUpdate): void;
  /** Applies a fault to the next `fault.times` requests (after faults injected earlier are used up). */
  injectFault(fault: FakeFault): void;
  /** Drops every pending fault. */
  clearFaults(): void;
  /** Empties `requests`. */
  clearRequests(): void;
  /** The signed callback body Smile ID would post for a job. */
  buildCallback(jobId: string, options?: BuildCallbackOptions): Promise<JsonObject>;
  /**
   * Posts the signed callback for a job, as JSON, to a URL (through `options.fetch` or the
   * global `fetch`, redirects not followed) or straight to a handler, and returns its response.
   */
  sendCallback(jobId: string, target: string | URL | CallbackHandler, options?: SendCallbackOptions): Promise<Response>;
}

interface JobState {
  readonly userId: string;
  readonly jobId: string;
  result: JsonObject | string;
  jobSuccess: boolean;
  code: string;
  history: readonly JsonObject[];
  imageLinks: JsonObject;
  readonly missingZip: boolean;
  completesAt: number;
  appearsAt: number;
  /** A product's per-answer fields (receipt, presigned links), added to each signed answer. */
  readonly finish?: ((answer: JsonObject, at: number) => JsonObject) | undefined;
}

/**
 * Creates a fake Smile ID for one partner. Bad options throw a `SmileIdError` with code
 * `invalid_argument`. The fake keeps its state in memory; create one per test.
 *
 * @example Completion over time, on a test clock
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient } from "@smile-id-kit/job-status";
 * import { createFakeSmileId, createTestClock } from "@smile-id-kit/job-status/testing";
 *
 * const clock = createTestClock();
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key", clock });
 * fake.addJob({ userId: "user-1", jobId: "job-1", completesAfterMs: 3000 });
 * const client = createClient({ partnerId: "085", apiKey: "test-key", fetch: fake.fetch, clock });
 *
 * assertEquals((await client.getJobStatus({ userId: "user-1", jobId: "job-1" })).jobComplete, false);
 * clock.advance(3000);
 * assertEquals((await client.getJobStatus({ userId: "user-1", jobId: "job-1" })).jobComplete, true);
 * ```
 *
 * @example Human review turns a provisional result final
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient, describeResult } from "@smile-id-kit/job-status";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1", result: { ResultCode: "0814", IsFinalResult: "false" } });
 * const client = createClient({ partnerId: "085", apiKey: "test-key", fetch: fake.fetch });
 * const query = { userId: "user-1", jobId: "job-1" };
 * assertEquals(describeResult(await client.getJobStatus(query)).decision, "provisional");
 *
 * fake.updateJob("user-1", "job-1", { result: { ResultCode: "1012", IsFinalResult: "true" } });
 * assertEquals(describeResult(await client.getJobStatus(query)).decision, "approved");
 * ```
 *
 * @example Inject faults
 * ```ts
 * import { assertEquals, assertRejects } from "@std/assert";
 * import { createClient, SmileIdError } from "@smile-id-kit/job-status";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 * fake.injectFault({ status: 503, retryAfter: 2 });
 * const client = createClient({ partnerId: "085", apiKey: "test-key", fetch: fake.fetch });
 * const error = await assertRejects(() => client.getJobStatus({ userId: "user-1", jobId: "job-1" }), SmileIdError);
 * assertEquals([error.status, error.retryAfterMs], [503, 2000]);
 * assertEquals(fake.requests.length, 1);
 * ```
 */
export function createFakeSmileId(options: CreateFakeSmileIdOptions): FakeSmileId {
  if (typeof options !== "object" || options === null) {
    throw new SmileIdError("invalid_argument", "Fake Smile ID options must be an object with partnerId and apiKey");
  }
  const signer = createSigner({ partnerId: options.partnerId, apiKey: options.apiKey });
  // A key the partner does not have, for badSignature faults and forged callbacks.
  const wrongSigner = createSigner({ partnerId: options.partnerId, apiKey: `${options.apiKey}-not-the-key` });
  const clock = clockOption(options.clock, true);
  const now = () => readNow(clock);
  const endpoint = `${normaliseBasePath(options.basePath ?? "/v1")}/job_status`;
  const autoCompletesAfterMs = options.autoCreateJobs === undefined
    ? undefined
    : (millisecondsOption(options.autoCreateJobs.completesAfterMs, "autoCreateJobs.completesAfterMs") ?? 0);
  const onRequest = functionOption(options.onRequest, "onRequest");
  const maxRequests = options.maxRequests ?? DEFAULT_MAX_REQUESTS;
  if (
    typeof maxRequests !== "number" || !(Number.isInteger(maxRequests) || maxRequests === Infinity) || maxRequests < 1
  ) {
    throw invalidArgument("Option maxRequests", "a whole number, 1 or more", maxRequests);
  }
  const jobs = new Map<string, JobState>();
  const faults = new FaultQueue();
  let requests: FakeRequestRecord[] = [];

  function addJob(job: FakeJob): void {
    if (typeof job !== "object" || job === null) {
      throw invalidArgument("A fake job", "an object", job);
    }
    const userId = nonEmpty(job.userId, "Option userId");
    const jobId = nonEmpty(job.jobId, "Option jobId");
    if (jobs.has(jobId)) {
      throw new SmileIdError("invalid_argument", `A fake job with job id ${quote(jobId)} already exists`);
    }
    const shaped = job.product === undefined ? undefined : productJob(job.product, signer.partnerId, userId, jobId);
    const result = job.result === undefined
      ? shaped?.result ?? withIds(DEFAULT_RESULT, userId, jobId, true)
      : withIds(readResult(job.result), userId, jobId, false);
    const history = job.history === undefined
      ? shaped?.history ?? (isObject(result) ? [result] : [])
      : readHistory(job.history);
    const imageLinks = job.imageLinks === undefined
      ? shaped?.imageLinks ??
        { selfie_image: `https://fake-smile-id.invalid/images/${encodeURIComponent(jobId)}/selfie.jpg` }
      : readImageLinks(job.imageLinks);
    if (job.missingZip !== undefined && typeof job.missingZip !== "boolean") {
      throw invalidArgument("Option missingZip", "a boolean", job.missingZip);
    }
    const missingZip = job.missingZip ?? false;
    const added = now();
    jobs.set(jobId, {
      userId,
      jobId,
      result,
      jobSuccess: job.jobSuccess === undefined ? true : readBoolean(job.jobSuccess, "Option jobSuccess"),
      code: job.code === undefined ? DEFAULT_CODE : nonEmpty(job.code, "Option code"),
      history,
      imageLinks,
      missingZip,
      completesAt: missingZip && job.completesAfterMs === undefined
        ? Infinity
        : added + (millisecondsOption(job.completesAfterMs, "completesAfterMs") ?? 0),
      appearsAt: added + (millisecondsOption(job.appearsAfterMs, "appearsAfterMs") ?? 0),
      finish: shaped?.finish,
    });
  }

  function getJob(jobId: string): JobState {
    const job = jobs.get(jobId);
    if (job === undefined) {
      throw new SmileIdError("invalid_argument", `The fake has no job with job id ${quote(jobId)}`);
    }
    return job;
  }

  function updateJob(userId: string, jobId: string, update: FakeJobUpdate): void {
    const job = jobs.get(jobId);
    if (job === undefined || job.userId !== userId) {
      throw new SmileIdError(
        "invalid_argument",
        `The fake has no job with user id ${quote(userId)} and job id ${quote(jobId)}; add it with addJob first`,
      );
    }
    if (typeof update !== "object" || update === null) throw invalidArgument("A job update", "an object", update);
    // Check everything before changing anything, so a bad field leaves the job as it was.
    const result = update.result === undefined ? undefined : withIds(readResult(update.result), userId, jobId, false);
    const history = update.history === undefined ? undefined : readHistory(update.history);
    const imageLinks = update.imageLinks === undefined ? undefined : readImageLinks(update.imageLinks);
    const jobSuccess = update.jobSuccess === undefined
      ? undefined
      : readBoolean(update.jobSuccess, "Option jobSuccess");
    const code = update.code === undefined ? undefined : nonEmpty(update.code, "Option code");
    const complete = update.jobComplete === undefined
      ? undefined
      : readBoolean(update.jobComplete, "Option jobComplete");
    if (result !== undefined) {
      job.result = result;
      if (history === undefined && isObject(result)) job.history = [...job.history, result];
    }
    if (history !== undefined) job.history = history;
    if (imageLinks !== undefined) job.imageLinks = imageLinks;
    if (jobSuccess !== undefined) job.jobSuccess = jobSuccess;
    if (code !== undefined) job.code = code;
    if (complete === true) markComplete(job);
    if (complete === false) job.completesAt = Infinity;
  }

  function markComplete(job: JobState): void {
    job.completesAt = now();
    job.appearsAt = Math.min(job.appearsAt, job.completesAt);
  }

  /** The job as the protocol sees it now; an unknown job is created here when `autoCreateJobs` says so. */
  function lookup(userId: string, jobId: string): JobView | undefined {
    if (!jobs.has(jobId) && autoCompletesAfterMs !== undefined) {
      addJob({ userId, jobId, completesAfterMs: autoCompletesAfterMs });
    }
    const job = jobs.get(jobId);
    if (job === undefined) return undefined;
    const at = now();
    return { ...job, visible: at >= job.appearsAt, complete: at >= job.completesAt };
  }

  async function sign(bad: boolean | undefined, timestamp?: string) {
    return await (bad ? wrongSigner : signer).sign(timestamp ?? new Date(now()).toISOString());
  }

  async function handle(input: Request | string | URL, init?: RequestInit): Promise<Response> {
    // A Request comes with everything in it; a second argument is read only for its signal,
    // so the handler also works where servers pass something else (Deno.serve's info,
    // Bun.serve's server) as the second argument.
    const request = input instanceof Request ? input : new Request(input, init);
    // Read lazily: touching a server request's signal has side effects in some runtimes.
    const signal = () => (init?.signal instanceof AbortSignal ? init.signal : request.signal);
    const at = now();
    const fault = faults.take();
    const log = (
      status: number,
      answered: { facts?: FakeRequestFacts; smileCode?: string | undefined; jobComplete?: boolean | undefined } = {},
    ) => {
      const facts = answered.facts ?? {};
      const entry: FakeRequestRecord = {
        at,
        method: request.method,
        path: safePath(request.url),
        status,
        userId: facts.userId,
        jobId: facts.jobId,
        partnerId: facts.partnerId,
        timestamp: facts.timestamp,
        history: facts.history,
        imageLinks: facts.imageLinks,
        body: facts.body,
        signatureValid: facts.signatureValid,
        smileCode: answered.smileCode,
        jobComplete: answered.jobComplete,
        faulted: fault !== undefined,
      };
      requests.push(entry);
      if (requests.length > maxRequests) requests.shift();
      onRequest?.(entry);
    };

    const faulted = await answerFault(fault, request, signal, (status, smileCode) => log(status, { smileCode }));
    if (faulted !== undefined) return faulted;

    const result = await answerJobStatus(request, { endpoint, signer, lookup });
    const headers: Record<string, string> = { "content-type": "application/json", ...result.headers };
    if (fault?.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
    const signed = result.status === 200
      ? { ...result.body, ...(await sign(fault?.badSignature, answerTimestamp(now(), result.facts.timestamp))) }
      : undefined;
    const finish = result.facts.jobId === undefined ? undefined : jobs.get(result.facts.jobId)?.finish;
    const body: JsonObject = signed === undefined ? result.body : finish?.(signed, now()) ?? signed;
    log(result.status, {
      facts: result.facts,
      smileCode: result.status === 200 || result.body.code === undefined ? undefined : String(result.body.code),
      jobComplete: result.jobComplete,
    });
    return corruptAnswer(fault, JSON.stringify(body), result.status, headers);
  }

  async function buildCallback(jobId: string, callbackOptions: BuildCallbackOptions = {}): Promise<JsonObject> {
    const job = getJob(jobId);
    return callbackBody(job, await sign(callbackOptions.badSignature, callbackOptions.timestamp), callbackOptions);
  }

  async function sendCallback(
    jobId: string,
    target: string | URL | CallbackHandler,
    callbackOptions: SendCallbackOptions = {},
  ): Promise<Response> {
    return await postCallback(await buildCallback(jobId, callbackOptions), target, callbackOptions);
  }

  return {
    partnerId: signer.partnerId,
    clock,
    fetch: handle,
    get requests(): readonly FakeRequestRecord[] {
      return requests;
    },
    addJob,
    completeJob(jobId: string): void {
      markComplete(getJob(jobId));
    },
    updateJob,
    injectFault(fault: FakeFault): void {
      faults.add(fault);
    },
    clearFaults(): void {
      faults.clear();
    },
    clearRequests(): void {
      requests = [];
    },
    buildCallback,
    sendCallback,
  };
}

/** How many requests `requests` keeps unless told otherwise. */
const DEFAULT_MAX_REQUESTS = 1000;

type FakeRequestFacts = Awaited<ReturnType<typeof answerJobStatus>>["facts"];

function readResult(result: unknown): JsonObject | string {
  if (typeof result === "string") return result;
  if (isObject(result)) return clone(result);
  throw invalidArgument("Option result", "a JSON object or a string", result);
}

function readHistory(history: unknown): JsonObject[] {
  if (Array.isArray(history) && history.every(isObject)) return history.map((entry) => clone(entry));
  throw invalidArgument("Option history", "an array of JSON objects", history);
}

function readImageLinks(links: unknown): JsonObject {
  if (isObject(links)) return clone(links);
  throw invalidArgument("Option imageLinks", "a JSON object", links);
}

function readBoolean(value: unknown, name: string): boolean {
  if (typeof value !== "boolean") throw invalidArgument(name, "a boolean", value);
  return value;
}

/** Copies a result with the job's ids in PartnerParams: always when `overwrite`, else only if absent. */
function withIds<T extends JsonObject | string>(result: T, userId: string, jobId: string, overwrite: boolean): T {
  if (typeof result === "string") return result;
  const copy = clone(result as JsonObject);
  const params = copy.PartnerParams;
  if (isObject(params)) {
    if (overwrite) copy.PartnerParams = { ...params, user_id: userId, job_id: jobId };
  } else if (params === undefined) {
    copy.PartnerParams = { user_id: userId, job_id: jobId };
  }
  return copy as T;
}

function normaliseBasePath(path: unknown): string {
  if (typeof path !== "string" || (path !== "" && !path.startsWith("/"))) {
    throw invalidArgument("Option basePath", 'a path starting with "/" (or "")', path);
  }
  return path.replace(/\/+$/, "");
}
