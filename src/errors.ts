/**
 * The one error type of the library, {@linkcode SmileIdError}, and its codes.
 *
 * @module
 */

import type { JobStatus } from "./types.ts";

/**
 * Stable machine-readable reason for a {@linkcode SmileIdError}.
 *
 * - `invalid_argument`: the caller passed bad configuration or input; nothing was sent.
 * - `transport`: the network request failed before a response arrived.
 * - `timeout`: a request or a polling deadline passed.
 * - `aborted`: the caller's `AbortSignal` fired.
 * - `http`: the server answered with a non-2xx status (redirects included), or a `fetch` followed a
 *   redirect (`redirected: true`; then `status` is absent, so polling never re-sends the request).
 * - `unexpected_response`: a 2xx body that is not a JSON object; for `downloadImage`, a `Content-Type`
 *   that is not `image/*`.
 * - `payload_too_large`: a response or callback body exceeded its byte limit.
 * - `schema`: JSON that does not have the documented shape (for a job status: no readable `job_complete`).
 * - `signature_mismatch`: a signature did not verify; or a job-status answer or callback carries one of
 *   the client's request pairs (which anyone who saw the request could copy); or a job-status answer
 *   was signed more than `answerSkewSeconds` before its request.
 * - `missing_signature`: a callback or a job-status answer without `signature` or `timestamp`; an
 *   answer that is Smile ID's `{ code, error }` carries them as `smileCode` and `serverMessage`.
 * - `invalid_timestamp`: a callback timestamp that cannot be read as a time.
 * - `stale_timestamp` / `future_timestamp`: a callback outside the tolerance window.
 * - `replayed`: a callback already recorded in the replay guard (its signature and timestamp pair,
 *   or with `confirm` the authoritative result it reports), or being processed right now.
 * - `body_unreadable`: a callback body that could not be read: the client disconnected
 *   mid-upload, or other code had already read the `Request`'s body (`cause` says which).
 * - `replay_guard`: the replay guard's store failed in `begin`, `finish` or `abandon`, or found a
 *   value there it did not write (`cause` holds the store's error).
 * - `confirm_failed`: `confirm` could not get the authoritative job status (Smile ID unreachable,
 *   too slow, answering an error, or an answer that did not verify); `cause` holds the
 *   `getJobStatus` error.
 * - `confirm_limited`: the callback handler refused to confirm a callback because its signature
 *   pair had already made it ask Smile ID about `maxJobsPerPair` other jobs in the last 10
 *   minutes (`retryAfterMs` says when the pair may be used again); nothing was sent.
 * - `answer_mismatch`: a job-status answer whose result names another `PartnerParams.user_id` or
 *   `job_id` than the query it answers (so also the authoritative status `confirm` fetched for a callback).
 * - `callback_failed`: the callback handler's `onCallback` threw (`cause` holds what it threw).
 * - `method_not_allowed`: a request to the callback handler that is not a `POST`.
 * - `image_link_expired`: `downloadImage` was given an image link whose signed expiry has passed;
 *   nothing was sent (ask for the job status again with `includeImageLinks` for a fresh link).
 *
 * @example Branch on the code
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { SmileIdError, type SmileIdErrorCode } from "@smile-id-kit/job-status";
 *
 * function retryable(code: SmileIdErrorCode): boolean {
 *   return code === "transport" || code === "timeout";
 * }
 * const error = new SmileIdError("transport", "Network down");
 * assertEquals(retryable(error.code), true);
 * ```
 */
export type SmileIdErrorCode =
  | "invalid_argument"
  | "transport"
  | "timeout"
  | "aborted"
  | "http"
  | "unexpected_response"
  | "payload_too_large"
  | "schema"
  | "signature_mismatch"
  | "missing_signature"
  | "invalid_timestamp"
  | "stale_timestamp"
  | "future_timestamp"
  | "replayed"
  | "body_unreadable"
  | "replay_guard"
  | "confirm_failed"
  | "confirm_limited"
  | "answer_mismatch"
  | "callback_failed"
  | "method_not_allowed"
  | "image_link_expired";

/**
 * One problem found while validating JSON against the documented shape.
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "@std/assert";
 * import { createSigner, parseJobStatusResponse, type SchemaIssue, SmileIdError } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "085", apiKey: "key" });
 * const body = { job_complete: "maybe", ...(await signer.sign()) }; // not a boolean
 * const error = await assertRejects(() => parseJobStatusResponse(signer, body), SmileIdError);
 * const paths = (error.issues ?? []).map((issue: SchemaIssue) => issue.path);
 * assertEquals([error.code, paths], ["schema", ["job_complete"]]);
 * ```
 */
export interface SchemaIssue {
  /** Dot path of the offending value, for example `history.0.ResultCode`; empty at the top. */
  readonly path: string;
  /** What was expected and what was received; for callbacks only what was expected (no body values). */
  readonly message: string;
}

/**
 * Extra facts carried by a {@linkcode SmileIdError}; every field is optional.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { SmileIdError, type SmileIdErrorDetails } from "@smile-id-kit/job-status";
 *
 * const details: SmileIdErrorDetails = { status: 401, smileCode: "2205" };
 * const error = new SmileIdError("http", "Not authorized", details);
 * assertEquals([error.status, error.smileCode, error.attempts], [401, "2205", undefined]);
 * ```
 */
export interface SmileIdErrorDetails {
  /** The underlying error, for example the `TypeError` a failed `fetch` threw. */
  readonly cause?: unknown;
  /** HTTP status of the response, for `http` errors. */
  readonly status?: number;
  /** Smile ID's own error code from a `{ code, error }` body, always as a string (`"2205"`). */
  readonly smileCode?: string;
  /** Smile ID's error text from a `{ code, error }` body. */
  readonly serverMessage?: string;
  /**
   * The response or callback body as received, for `http`, `unexpected_response` and `schema`
   * errors; left out of `toJSON` (it can hold personal data).
   */
  readonly body?: string;
  /** Validation problems, for `schema` errors. */
  readonly issues?: readonly SchemaIssue[];
  /**
   * Milliseconds to wait before trying again: Smile ID's `Retry-After`, for `http` and
   * `confirm_failed` errors that carried one; for `confirm_limited`, when the signature pair may
   * be used again.
   */
  readonly retryAfterMs?: number;
  /** Number of requests made, for polling errors. */
  readonly attempts?: number;
  /**
   * The last successfully parsed status, for polling errors (nothing is lost on a deadline); left
   * out of `toJSON` (it can hold the ID response).
   */
  readonly lastStatus?: JobStatus | undefined;
}

/**
 * The single error type thrown or rejected by this library. Its {@linkcode SmileIdError.code}
 * is stable and meant for programs; its message is for people. Secrets (the API key) never
 * appear in either.
 *
 * @example Handle a failed job-status query
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient, SmileIdError } from "@smile-id-kit/job-status";
 *
 * const fetch = () => Promise.resolve(Response.json({ code: "2205", error: "You are not authorized to do that" }, { status: 401 }));
 * const client = createClient({ partnerId: "085", apiKey: "wrong-key", fetch });
 * try {
 *   await client.getJobStatus({ userId: "user-1", jobId: "job-1" });
 * } catch (error) {
 *   if (!(error instanceof SmileIdError) || error.code !== "http") throw error;
 *   assertEquals([error.status, error.smileCode], [401, "2205"]);
 * }
 * ```
 */
export class SmileIdError extends Error {
  /** Stable reason, see {@linkcode SmileIdErrorCode}. */
  readonly code: SmileIdErrorCode;
  /** HTTP status, for `http` errors. */
  readonly status: number | undefined;
  /** Smile ID's error code (`"2205"`), as a string even when the server sent a number. */
  readonly smileCode: string | undefined;
  /** Smile ID's error text, when the body carried one. */
  readonly serverMessage: string | undefined;
  /** The body as received, when one was read. */
  readonly body: string | undefined;
  /** Validation problems, for `schema` errors. */
  readonly issues: readonly SchemaIssue[] | undefined;
  /** Milliseconds to wait before trying again (Smile ID's `Retry-After`, or a `confirm_limited` pair's wait). */
  readonly retryAfterMs: number | undefined;
  /** Requests made before a polling error. */
  readonly attempts: number | undefined;
  /** Last status seen before a polling error. */
  readonly lastStatus: JobStatus | undefined;

  /**
   * Creates an error; the library does this, applications mostly read them.
   *
   * @example
   * ```ts
   * import { assertEquals, assertInstanceOf } from "@std/assert";
   * import { SmileIdError } from "@smile-id-kit/job-status";
   *
   * const error = new SmileIdError("invalid_argument", "User id must be a non-empty string");
   * assertInstanceOf(error, Error);
   * assertEquals([error.name, error.code, error.message], ["SmileIdError", "invalid_argument", "User id must be a non-empty string"]);
   * ```
   */
  constructor(code: SmileIdErrorCode, message: string, details: SmileIdErrorDetails = {}) {
    super(message, "cause" in details ? { cause: details.cause } : undefined);
    this.name = "SmileIdError";
    this.code = code;
    this.status = details.status;
    this.smileCode = details.smileCode;
    this.serverMessage = details.serverMessage;
    this.body = details.body;
    this.issues = details.issues;
    this.retryAfterMs = details.retryAfterMs;
    this.attempts = details.attempts;
    this.lastStatus = details.lastStatus;
  }

  /**
   * A plain object for logs and `JSON.stringify`, without `undefined` fields. It leaves out
   * `body` and `lastStatus`, which can hold personal data (a job-status answer carries the ID
   * response: names, ID numbers, photos); both stay readable as properties. `smileCode` and
   * `serverMessage`, Smile ID's own error code and text, are kept.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { SmileIdError } from "@smile-id-kit/job-status";
   *
   * const error = new SmileIdError("http", "Smile ID answered 503", { status: 503, body: '{"error":"busy"}' });
   * assertEquals(JSON.stringify(error), '{"name":"SmileIdError","code":"http","message":"Smile ID answered 503","status":503}');
   * assertEquals(error.body, '{"error":"busy"}'); // still there for code that reads it
   * ```
   */
  toJSON(): Record<string, unknown> {
    const json: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    for (const key of ["status", "smileCode", "serverMessage", "issues", "retryAfterMs", "attempts"] as const) {
      if (this[key] !== undefined) json[key] = this[key];
    }
    return json;
  }
}
