/**
 * A fake Smile ID for offline tests: {@linkcode createFakeSmileId} answers `POST /v1/job_status`
 * the way Smile ID's v1 API does (partner id and signature checked, answers signed with a fresh
 * timestamp, history and image links honoured), posts signed callbacks, and injects faults. It
 * is a plain fetch handler on web APIs only, so it runs as a client's `fetch`, behind
 * `Deno.serve` or `Bun.serve`, inside a Worker, in a browser, or behind Node's `http` server
 * (the CLI's `fake-server` command does that).
 *
 * Where Smile ID's documentation is silent, the fake makes a choice and says so:
 *
 * | request | HTTP | body |
 * |---|---|---|
 * | path other than `{basePath}/job_status` | 404 | `{"error":"Not found"}` |
 * | method other than POST | 405 (`Allow: POST`) | `{"error":"Method not allowed"}` |
 * | a Content-Type that is not JSON (none, or an empty one, is accepted) | 415 | `{"code":"2203","error":…}` |
 * | body not a JSON object | 400 | `{"code":"2203","error":…}` |
 * | body over 1 MiB | 413 | `{"error":…}` |
 * | `user_id`, `job_id`, `partner_id`, `timestamp` or `signature` missing or empty | 400 | `{"code":"2213","error":…}` |
 * | a field of the wrong type | 400 | `{"code":"2204","error":…}` |
 * | another partner id, or a signature that does not match the body's timestamp | 401 | `{"code":"2205","error":"You are not authorized to do that"}` |
 * | unknown `user_id`/`job_id` pair, or a job before its `appearsAfterMs` | 404 | `{"code":"2210","error":…}` |
 * | a `missingZip` job before it completes | 200 | `{"job_complete":false,"job_success":false,"code":"2314","result":"No zip file received"}` |
 *
 * The codes 2203, 2204, 2205, 2210, 2213 and 2314 are Smile ID's documented error codes; which
 * HTTP status goes with each, and the code for an unknown job (the fake borrows 2210, "no
 * enrolled user found"), are the fake's choices. Request timestamps are not checked for
 * freshness. A request without `Content-Type`, or with an empty one, is read as JSON: the
 * official PHP SDK sends such requests and Smile ID accepts them.
 *
 * Stricter than Smile ID on purpose, or where its behaviour is unknown: a declared
 * `Content-Type` that is not JSON (`text/plain`, form data) is refused with 415, so that a
 * client sending form data notices; `history` and `image_links` must be booleans or
 * `"true"`/`"false"` (2204); and every field the official SDKs send is required (2213).
 *
 * @example Use the fake as the client's fetch
 * ```ts
 * import { createClient } from "@smile-id-kit/job-status";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 *
 * const client = createClient({ partnerId: "085", apiKey: "test-key", fetch: fake.fetch });
 * const status = await client.getJobStatus({ userId: "user-1", jobId: "job-1" });
 * console.log(status.jobComplete, status.code); // true 2302
 * ```
 *
 * @module
 */

import { delay } from "@std/async/delay";
import { readText } from "../_body.ts";
import { invalidArgument, quote, SmileIdError } from "../errors.ts";
import { nonEmpty } from "../request.ts";
import { createSigner } from "../signature.ts";
import type { FetchLike } from "../transport.ts";
import type { JsonObject, JsonValue } from "../types.ts";
import { DOCS_EXAMPLE_CODE, DOCS_EXAMPLE_HISTORY_ENTRY, DOCS_EXAMPLE_RESULT } from "./_docs_example.ts";

/**
 * How to build a fake Smile ID.
 *
 * @example
 * ```ts
 * import type { FakeSmileIdOptions } from "@smile-id-kit/job-status/testing";
 *
 * let clock = Date.parse("2024-01-01T00:00:00.000Z");
 * const options: FakeSmileIdOptions = { partnerId: "085", apiKey: "test-key", now: () => clock };
 * clock += 5000; // the fake sees time move only when the test moves it
 * console.log(options.partnerId);
 * ```
 */
export interface FakeSmileIdOptions {
  /** The partner id requests must carry and answers are signed for (verbatim, like Smile ID). */
  readonly partnerId: string;
  /** The API key for signature the fake verifies requests with and signs answers with. */
  readonly apiKey: string;
  /** Clock in milliseconds since the epoch (default `Date.now`): job completion and answer timestamps. */
  readonly now?: () => number;
  /** Path the API lives under (default `"/v1"`), so the endpoint is `{basePath}/job_status` on any origin. */
  readonly basePath?: string;
  /**
   * When set, a query for an unknown job creates it (completing `completesAfterMs` after that
   * first query) instead of answering 404; handy for a long-running fake server.
   */
  readonly autoCreateJobs?: { readonly completesAfterMs?: number };
  /** Called after every request with what the fake saw and answered (also kept in `requests`). */
  readonly onRequest?: (record: FakeRequestRecord) => void;
}

/**
 * A job known to the fake. Everything but the ids is optional: by default the job is complete
 * at once and its result is the example from Smile ID's documentation, with the job's own ids
 * in `PartnerParams`.
 *
 * @example A job that fails, reported after 3 seconds
 * ```ts
 * import type { FakeJob } from "@smile-id-kit/job-status/testing";
 *
 * const job: FakeJob = {
 *   userId: "user-2",
 *   jobId: "job-2",
 *   completesAfterMs: 3000,
 *   jobSuccess: false,
 *   result: { ResultCode: "1022", ResultText: "No Match", Actions: { Verify_ID_Number: "Not Verified" } },
 * };
 * console.log(job.jobId);
 * ```
 */
export interface FakeJob {
  /** `user_id` the job was submitted with. */
  readonly userId: string;
  /** `job_id` the job was submitted with; unique within the fake. */
  readonly jobId: string;
  /**
   * The final result: an object (a result object without `PartnerParams` gets
   * `{ user_id, job_id }`) or a plain string such as `"No zip uploaded"`. Default: the
   * documented example.
   */
  readonly result?: JsonObject | string;
  /** `job_success` once complete (default `true`). */
  readonly jobSuccess?: boolean;
  /**
   * `code` of the answers (default `"2302"`, the code of Smile ID's documented answers; see
   * `missingZip` for `"2314"`).
   */
  readonly code?: string;
  /**
   * Milliseconds, by the fake's clock, from `addJob` until the job is complete (default 0, or
   * never for a `missingZip` job).
   */
  readonly completesAfterMs?: number;
  /**
   * Milliseconds, by the fake's clock, from `addJob` until the job can be found (default 0).
   * Before that it is answered like an unknown job (404, code 2210), as Smile ID may not find
   * a job just submitted; `waitForJobStatus` polls through that for its `notFoundGraceMs`.
   */
  readonly appearsAfterMs?: number;
  /**
   * The job's zip file never arrived: until the job completes (never by default; set
   * `completesAfterMs` or call `completeJob`), every answer is Smile ID's documented code 2314,
   * as the Java SDK's fixture shows it: `job_complete: false`, `job_success: false`,
   * `code: "2314"` and the string result `"No zip file received"` (default `false`).
   */
  readonly missingZip?: boolean;
  /** `history` once complete, when asked for (default: the documented example's entry, or `[result]`). */
  readonly history?: readonly JsonObject[];
  /** `image_links` once complete, when asked for (default: `selfie_image` on an `.invalid` host). */
  readonly imageLinks?: Readonly<Record<string, JsonValue>>;
}

/**
 * A fault applied to the next `times` requests, in the order faults were injected.
 *
 * @example Two rate-limited answers, then normal service
 * ```ts
 * import type { FakeFault } from "@smile-id-kit/job-status/testing";
 *
 * const fault: FakeFault = { status: 429, retryAfter: 1, times: 2 };
 * console.log(fault.status);
 * ```
 */
export interface FakeFault {
  /** How many requests the fault applies to (default 1; `Infinity` for all until cleared). */
  readonly times?: number;
  /** Delay before answering, in real milliseconds; the request's signal cuts it short. */
  readonly latencyMs?: number;
  /** Answer this HTTP status at once, without checking the request. */
  readonly status?: number;
  /** Body sent with `status` (default `{"error":"Injected HTTP <status>"}`). */
  readonly errorBody?: JsonObject | string;
  /** `Retry-After` header: seconds, or an HTTP date string. */
  readonly retryAfter?: number | string;
  /** Corrupt the answer: an HTML page, the JSON cut in half, or nothing at all. */
  readonly body?: "malformed" | "truncated" | "empty";
  /** Sign the answer with another key, so its signature does not verify. */
  readonly badSignature?: boolean;
  /** Fail like a broken connection: `fetch` rejects with a `TypeError` (a server adapter drops the socket). */
  readonly networkError?: boolean;
}

/**
 * What the fake saw and answered for one request.
 *
 * @example Count the requests a poll made
 * ```ts
 * import type { FakeRequestRecord } from "@smile-id-kit/job-status/testing";
 *
 * function polls(records: readonly FakeRequestRecord[]): number {
 *   return records.filter((r) => r.path.endsWith("/job_status") && r.status === 200).length;
 * }
 * console.log(polls([]));
 * ```
 */
export interface FakeRequestRecord {
  /** The fake's clock when the request arrived. */
  readonly at: number;
  /** HTTP method. */
  readonly method: string;
  /** URL path. */
  readonly path: string;
  /** HTTP status answered; 0 when a `networkError` fault dropped it. */
  readonly status: number;
  /** `user_id` of the body, when it had one. */
  readonly userId: string | undefined;
  /** `job_id` of the body, when it had one. */
  readonly jobId: string | undefined;
  /** Smile error code answered (`"2205"`), if any. */
  readonly smileCode: string | undefined;
  /** `job_complete` answered, for job-status answers. */
  readonly jobComplete: boolean | undefined;
  /** Whether an injected fault shaped the answer. */
  readonly faulted: boolean;
}

/**
 * Options for a callback built or sent by the fake. Without options the callback is exactly
 * what Smile ID posts: the job's result object plus top-level `signature` and `timestamp`
 * (signed now, by the fake's clock).
 *
 * @example A stale callback
 * ```ts
 * import type { FakeCallbackOptions } from "@smile-id-kit/job-status/testing";
 *
 * const options: FakeCallbackOptions = { timestamp: new Date(Date.now() - 3_600_000).toISOString() };
 * console.log(options.timestamp !== undefined);
 * ```
 */
export interface FakeCallbackOptions {
  /** Sign this timestamp instead of now (for stale or future callbacks). */
  readonly timestamp?: string;
  /** Send this signature instead of the right one (a forgery). */
  readonly signature?: string;
  /** Sign with another key (a forgery that looks well formed). */
  readonly badSignature?: boolean;
  /** `"result"` (default): the result object with `signature`/`timestamp`; `"job_status"`: a job-status-shaped body. */
  readonly envelope?: "result" | "job_status";
  /** Fields merged into the body after signing, to forge a body under a genuine signature. */
  readonly overrides?: JsonObject;
  /** The `fetch` used when the target is a URL (default: the global `fetch`). */
  readonly fetch?: FetchLike;
}

/**
 * A callback receiver the fake can call in-process: a fetch handler such as the one a
 * `Deno.serve`, `Bun.serve` or Worker application exports.
 *
 * @example
 * ```ts
 * import type { CallbackHandler } from "@smile-id-kit/job-status/testing";
 *
 * const handler: CallbackHandler = async (request) => new Response(null, { status: (await request.json()) ? 204 : 400 });
 * console.log(typeof handler);
 * ```
 */
export type CallbackHandler = (request: Request) => Response | Promise<Response>;

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
  /**
   * The fetch handler: `POST {basePath}/job_status` under any origin. Safe to call unbound.
   * Given a `Request`, it reads only the `signal` of a second argument, so servers that pass
   * something else there (`Deno.serve`, `Bun.serve`) can call it: `(request) => fake.fetch(request)`.
   */
  readonly fetch: (input: Request | string | URL, init?: RequestInit) => Promise<Response>;
  /** Every request seen since creation or the last `clearRequests()`, oldest first. */
  readonly requests: readonly FakeRequestRecord[];
  /** Registers a job; a `job_id` already registered throws a `SmileIdError` with code `invalid_argument`. */
  addJob(job: FakeJob): void;
  /** Marks a job complete now (and findable), whatever its `completesAfterMs`, `appearsAfterMs` or `missingZip`. */
  completeJob(jobId: string): void;
  /** Applies a fault to the next `fault.times` requests (after faults injected earlier are used up). */
  injectFault(fault: FakeFault): void;
  /** Drops every pending fault. */
  clearFaults(): void;
  /** Empties `requests`. */
  clearRequests(): void;
  /** The signed callback body Smile ID would post for a job. */
  buildCallback(jobId: string, options?: FakeCallbackOptions): Promise<JsonObject>;
  /**
   * Posts the signed callback for a job, as JSON, to a URL (through `options.fetch` or the
   * global `fetch`, redirects not followed) or straight to a handler, and returns its response.
   */
  sendCallback(jobId: string, target: string | URL | CallbackHandler, options?: FakeCallbackOptions): Promise<Response>;
}

interface JobState {
  readonly userId: string;
  readonly jobId: string;
  readonly result: JsonObject | string;
  readonly jobSuccess: boolean;
  readonly code: string;
  readonly history: readonly JsonObject[];
  readonly imageLinks: Readonly<Record<string, JsonValue>>;
  readonly missingZip: boolean;
  completesAt: number;
  appearsAt: number;
}

interface PendingFault {
  readonly fault: FakeFault;
  remaining: number;
}

interface Answer {
  readonly status: number;
  readonly body: JsonObject;
  readonly headers?: Record<string, string>;
  readonly jobComplete?: boolean;
  /** The timestamp the request was signed with, for answers to a verified request. */
  readonly requestTimestamp?: string;
}

const MAX_REQUEST_BYTES = 1024 * 1024;
const NOT_AUTHORIZED = "You are not authorized to do that";
/** Smile ID's documented job-status code and the string result of the Java SDK's fixture for it. */
const MISSING_ZIP_CODE = "2314";
const MISSING_ZIP_RESULT = "No zip file received";
const REQUIRED = ["user_id", "job_id", "partner_id", "timestamp", "signature"] as const;

/**
 * Creates a fake Smile ID for one partner. Bad options throw a `SmileIdError` with code
 * `invalid_argument`. The fake keeps its state in memory; create one per test.
 *
 * @example Completion over time, with an injected clock
 * ```ts
 * import { createClient } from "@smile-id-kit/job-status";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * let clock = Date.now();
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key", now: () => clock });
 * fake.addJob({ userId: "user-1", jobId: "job-1", completesAfterMs: 3000 });
 * const client = createClient({ partnerId: "085", apiKey: "test-key", fetch: fake.fetch });
 *
 * console.log((await client.getJobStatus({ userId: "user-1", jobId: "job-1" })).jobComplete); // false
 * clock += 3000;
 * console.log((await client.getJobStatus({ userId: "user-1", jobId: "job-1" })).jobComplete); // true
 * ```
 *
 * @example Inject faults
 * ```ts
 * import { createClient, SmileIdError } from "@smile-id-kit/job-status";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 * fake.injectFault({ status: 503, retryAfter: 2 });
 * const client = createClient({ partnerId: "085", apiKey: "test-key", fetch: fake.fetch });
 * try {
 *   await client.getJobStatus({ userId: "user-1", jobId: "job-1" });
 * } catch (error) {
 *   if (error instanceof SmileIdError) console.log(error.status, error.retryAfterMs); // 503 2000
 * }
 * console.log(fake.requests.length); // 1
 * ```
 */
export function createFakeSmileId(options: FakeSmileIdOptions): FakeSmileId {
  if (typeof options !== "object" || options === null) {
    throw new SmileIdError("invalid_argument", "Fake Smile ID options must be an object with partnerId and apiKey");
  }
  const signer = createSigner({ partnerId: options.partnerId, apiKey: options.apiKey });
  // A key the partner does not have, for badSignature faults and forged callbacks.
  const wrongSigner = createSigner({ partnerId: options.partnerId, apiKey: `${options.apiKey}-not-the-key` });
  const now = options.now ?? Date.now;
  if (typeof now !== "function") {
    throw invalidArgument("Option now", "a function", now);
  }
  const endpoint = `${normaliseBasePath(options.basePath ?? "/v1")}/job_status`;
  const autoCompletesAfterMs = options.autoCreateJobs === undefined
    ? undefined
    : delayOption(options.autoCreateJobs.completesAfterMs, "autoCreateJobs.completesAfterMs");
  const onRequest = options.onRequest;
  const jobs = new Map<string, JobState>();
  const faults: PendingFault[] = [];
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
    const result = initialResult(job, userId, jobId);
    const history = initialHistory(job, result, userId, jobId);
    const imageLinks = initialImageLinks(job, jobId);
    if (job.jobSuccess !== undefined && typeof job.jobSuccess !== "boolean") {
      throw invalidArgument("Option jobSuccess", "a boolean", job.jobSuccess);
    }
    if (job.missingZip !== undefined && typeof job.missingZip !== "boolean") {
      throw invalidArgument("Option missingZip", "a boolean", job.missingZip);
    }
    const missingZip = job.missingZip ?? false;
    const added = now();
    jobs.set(jobId, {
      userId,
      jobId,
      result,
      jobSuccess: job.jobSuccess ?? true,
      code: job.code === undefined ? DOCS_EXAMPLE_CODE : nonEmpty(job.code, "Option code"),
      history,
      imageLinks,
      missingZip,
      completesAt: missingZip && job.completesAfterMs === undefined
        ? Infinity
        : added + delayOption(job.completesAfterMs, "completesAfterMs"),
      appearsAt: added + delayOption(job.appearsAfterMs, "appearsAfterMs"),
    });
  }

  function getJob(jobId: string): JobState {
    const job = jobs.get(jobId);
    if (job === undefined) {
      throw new SmileIdError("invalid_argument", `The fake has no job with job id ${quote(jobId)}`);
    }
    return job;
  }

  /**
   * The answer's own timestamp, later than the request's like Smile ID's: answering within the
   * millisecond the request was signed in would repeat the request's pair, which clients refuse.
   */
  function answerTimestamp(requestTimestamp: string | undefined): string {
    const at = now();
    const timestamp = new Date(at).toISOString();
    return timestamp === requestTimestamp ? new Date(at + 1).toISOString() : timestamp;
  }

  async function sign(bad: boolean | undefined, timestamp?: string) {
    return await (bad ? wrongSigner : signer).sign(timestamp ?? new Date(now()).toISOString());
  }

  /** The checks and answers of the protocol, after faults that replace the answer. */
  async function answer(request: Request, record: { userId?: string; jobId?: string }): Promise<Answer> {
    const path = new URL(request.url).pathname;
    if (path !== endpoint) return { status: 404, body: { error: `Not found: ${path}` } };
    if (request.method !== "POST") {
      return { status: 405, body: { error: "Method not allowed" }, headers: { allow: "POST" } };
    }
    // No Content-Type, or an empty one, is read as JSON: the PHP SDK sends such requests.
    const type = (request.headers.get("content-type") ?? "").trim();
    if (type !== "" && !/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
      await request.body?.cancel().catch(() => {});
      return smileError(415, "2203", `Content-Type must be application/json, got ${quote(type)}`);
    }
    let text: string;
    try {
      text = await readText(request, MAX_REQUEST_BYTES, "The request body");
    } catch {
      return { status: 413, body: { error: `Request body is larger than ${MAX_REQUEST_BYTES} bytes` } };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return smileError(400, "2203", "Invalid JSON");
    }
    if (!isObject(body)) return smileError(400, "2203", "The request body must be a JSON object");

    for (const key of ["user_id", "job_id"] as const) {
      const value = body[key];
      if (typeof value === "string" || typeof value === "number") {
        record[key === "user_id" ? "userId" : "jobId"] = String(value);
      }
    }
    const missing = REQUIRED.filter((key) => body[key] === undefined || body[key] === null || body[key] === "");
    if (missing.length > 0) return smileError(400, "2213", `Missing parameter: ${missing.join(", ")}`);
    const wrong = [
      ...(["user_id", "job_id", "partner_id", "timestamp"] as const).filter((key) =>
        typeof body[key] !== "string" && typeof body[key] !== "number"
      ),
      ...(typeof body.signature === "string" ? [] : ["signature"]),
      ...(["history", "image_links"] as const).filter((key) => readFlag(body[key]) === undefined),
    ];
    if (wrong.length > 0) return smileError(400, "2204", `Invalid data type for: ${wrong.join(", ")}`);

    // Like the real server: another partner's id, or a signature that does not cover the
    // body's timestamp for this partner, is "not authorized".
    if (
      String(body.partner_id) !== signer.partnerId || !(await signer.verify(String(body.timestamp), body.signature))
    ) {
      return smileError(401, "2205", NOT_AUTHORIZED);
    }

    const userId = String(body.user_id);
    const jobId = String(body.job_id);
    let job = jobs.get(jobId);
    if (job === undefined && autoCompletesAfterMs !== undefined) {
      addJob({ userId, jobId, completesAfterMs: autoCompletesAfterMs });
      job = jobs.get(jobId);
    }
    if (job === undefined || job.userId !== userId || now() < job.appearsAt) {
      return smileError(404, "2210", `No job found for user_id ${quote(userId)} and job_id ${quote(jobId)}`);
    }
    const complete = now() >= job.completesAt;
    const out: JsonObject = { job_complete: complete, job_success: complete && job.jobSuccess, code: job.code };
    if (complete) out.result = clone(job.result);
    else if (job.missingZip) Object.assign(out, { code: MISSING_ZIP_CODE, result: MISSING_ZIP_RESULT });
    if (readFlag(body.history)) out.history = complete ? job.history.map((entry) => clone(entry)) : [];
    if (readFlag(body.image_links)) out.image_links = complete ? clone(job.imageLinks as JsonObject) : {};
    return { status: 200, body: out, jobComplete: complete, requestTimestamp: String(body.timestamp) };
  }

  async function handle(input: Request | string | URL, init?: RequestInit): Promise<Response> {
    // A Request comes with everything in it; a second argument is read only for its signal,
    // so the handler also works where servers pass something else (Deno.serve's info,
    // Bun.serve's server) as the second argument.
    const request = input instanceof Request ? input : new Request(input, init);
    // Read lazily: touching a server request's signal has side effects in some runtimes.
    const signal = () => (init?.signal instanceof AbortSignal ? init.signal : request.signal);
    const at = now();
    const fault = takeFault();
    const record: { userId?: string; jobId?: string } = {};
    const log = (status: number, smileCode?: string, jobComplete?: boolean) => {
      const entry: FakeRequestRecord = {
        at,
        method: request.method,
        path: safePath(request.url),
        status,
        userId: record.userId,
        jobId: record.jobId,
        smileCode,
        jobComplete,
        faulted: fault !== undefined,
      };
      requests.push(entry);
      onRequest?.(entry);
    };

    if (fault?.latencyMs !== undefined) await delay(fault.latencyMs, { signal: signal() });
    if (fault?.networkError) {
      await request.body?.cancel().catch(() => {});
      log(0);
      throw new TypeError("Network error injected by the fake Smile ID");
    }
    if (fault?.status !== undefined) {
      await request.body?.cancel().catch(() => {});
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
      const errorBody = fault.errorBody ?? { error: `Injected HTTP ${fault.status}` };
      log(fault.status, isObject(errorBody) && errorBody.code !== undefined ? String(errorBody.code) : undefined);
      return typeof errorBody === "string"
        ? new Response(errorBody, { status: fault.status, headers })
        : Response.json(errorBody, { status: fault.status, headers });
    }

    const result = await answer(request, record);
    const headers: Record<string, string> = { "content-type": "application/json", ...result.headers };
    if (fault?.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
    const body: JsonObject = result.status === 200
      ? { ...result.body, ...(await sign(fault?.badSignature, answerTimestamp(result.requestTimestamp))) }
      : result.body;
    const code = result.status === 200 ? undefined : stringOrUndefined(result.body.code);
    log(result.status, code, result.jobComplete);
    const text = JSON.stringify(body);
    switch (fault?.body) {
      case "malformed":
        return new Response("<!doctype html><title>Bad gateway</title><h1>Bad gateway</h1>", {
          status: result.status,
          headers: { ...headers, "content-type": "text/html" },
        });
      case "truncated":
        return new Response(text.slice(0, Math.floor(text.length / 2)), { status: result.status, headers });
      case "empty":
        return new Response(null, { status: result.status, headers });
    }
    return new Response(text, { status: result.status, headers });
  }

  function takeFault(): FakeFault | undefined {
    const pending = faults[0];
    if (pending === undefined) return undefined;
    pending.remaining -= 1;
    if (pending.remaining <= 0) faults.shift();
    return pending.fault;
  }

  async function buildCallback(jobId: string, callbackOptions: FakeCallbackOptions = {}): Promise<JsonObject> {
    const job = getJob(jobId);
    const signed: { signature: string; timestamp: string } = {
      ...(await sign(callbackOptions.badSignature, callbackOptions.timestamp)),
    };
    if (callbackOptions.signature !== undefined) signed.signature = callbackOptions.signature;
    let body: JsonObject;
    if (callbackOptions.envelope === "job_status") {
      body = {
        job_complete: true,
        job_success: job.jobSuccess,
        code: job.code,
        result: clone(job.result),
        ...signed,
      };
    } else if (typeof job.result === "string") {
      throw new SmileIdError(
        "invalid_argument",
        `Job ${quote(jobId)} has a string result, which cannot be sent as a bare result callback; ` +
          'use envelope: "job_status"',
      );
    } else {
      body = { ...clone(job.result), ...signed };
    }
    return { ...body, ...(callbackOptions.overrides ?? {}) };
  }

  async function sendCallback(
    jobId: string,
    target: string | URL | CallbackHandler,
    callbackOptions: FakeCallbackOptions = {},
  ): Promise<Response> {
    const body = JSON.stringify(await buildCallback(jobId, callbackOptions));
    const init: RequestInit = {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "fake-smile-id" },
      body,
      redirect: "manual",
    };
    if (typeof target === "function") {
      return await target(new Request("http://localhost/smile-id/callback", init));
    }
    const fetchFn = callbackOptions.fetch ?? globalThis.fetch;
    return await fetchFn(new Request(target, init));
  }

  return {
    partnerId: signer.partnerId,
    fetch: handle,
    get requests(): readonly FakeRequestRecord[] {
      return requests;
    },
    addJob,
    completeJob(jobId: string): void {
      const job = getJob(jobId);
      job.completesAt = now();
      job.appearsAt = Math.min(job.appearsAt, job.completesAt);
    },
    injectFault(fault: FakeFault): void {
      if (typeof fault !== "object" || fault === null) throw invalidArgument("A fault", "an object", fault);
      const times = fault.times ?? 1;
      if (typeof times !== "number" || !(times >= 1)) {
        throw invalidArgument("Fault option times", "a number of at least 1", times);
      }
      if (fault.latencyMs !== undefined && !Number.isFinite(delayOption(fault.latencyMs, "latencyMs"))) {
        throw invalidArgument("Fault option latencyMs", "finite", fault.latencyMs);
      }
      if (
        fault.status !== undefined && !(Number.isInteger(fault.status) && fault.status >= 200 && fault.status <= 599)
      ) {
        throw invalidArgument("Fault option status", "an HTTP status from 200 to 599", fault.status);
      }
      faults.push({ fault: { ...fault }, remaining: times });
    },
    clearFaults(): void {
      faults.length = 0;
    },
    clearRequests(): void {
      requests = [];
    },
    buildCallback,
    sendCallback,
  };
}

/** The job's result: the documented example by default; an object gets PartnerParams if it has none. */
function initialResult(job: FakeJob, userId: string, jobId: string): JsonObject | string {
  if (job.result === undefined) return withIds(DOCS_EXAMPLE_RESULT, userId, jobId, true);
  if (typeof job.result === "string") return job.result;
  if (isObject(job.result)) return withIds(job.result, userId, jobId, false);
  throw invalidArgument("Option result", "a JSON object or a string", job.result);
}

/** The job's history: the documented example's entry with the default result, else `[result]`. */
function initialHistory(job: FakeJob, result: JsonObject | string, userId: string, jobId: string): JsonObject[] {
  if (job.history === undefined) {
    if (job.result === undefined) return [withIds(DOCS_EXAMPLE_HISTORY_ENTRY, userId, jobId, true)];
    return isObject(result) ? [result] : [];
  }
  if (Array.isArray(job.history) && job.history.every(isObject)) return job.history.map((entry) => clone(entry));
  throw invalidArgument("Option history", "an array of JSON objects", job.history);
}

/** The job's image links: a selfie link on a reserved `.invalid` host by default. */
function initialImageLinks(job: FakeJob, jobId: string): JsonObject {
  if (job.imageLinks === undefined) {
    return { selfie_image: `https://fake-smile-id.invalid/images/${encodeURIComponent(jobId)}/selfie.jpg` };
  }
  if (isObject(job.imageLinks)) return clone(job.imageLinks as JsonObject);
  throw invalidArgument("Option imageLinks", "a JSON object", job.imageLinks);
}

function smileError(status: number, code: string, error: string): Answer {
  return { status, body: { code, error } };
}

/** Accepts what SDKs send for `history`/`image_links`: absent, a boolean, or the old docs' "true"/"false". */
function readFlag(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return false;
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}

/** Copies a result with the job's ids in PartnerParams: always when `overwrite`, else only if absent. */
function withIds(result: JsonObject, userId: string, jobId: string, overwrite: boolean): JsonObject {
  const copy = clone(result);
  const params = copy.PartnerParams;
  if (isObject(params)) {
    if (overwrite) copy.PartnerParams = { ...params, user_id: userId, job_id: jobId };
  } else if (params === undefined) {
    copy.PartnerParams = { user_id: userId, job_id: jobId };
  }
  return copy;
}

function clone<T extends JsonValue>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringOrUndefined(value: JsonValue | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}

function delayOption(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw invalidArgument(`Option ${name}`, "a number of milliseconds, 0 or more", value);
  }
  return value;
}

function normaliseBasePath(path: unknown): string {
  if (typeof path !== "string" || (path !== "" && !path.startsWith("/"))) {
    throw invalidArgument("Option basePath", 'a path starting with "/" (or "")', path);
  }
  return path.replace(/\/+$/, "");
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}
