/**
 * The one error type of the library, {@linkcode SmileIdError}, and its codes.
 *
 * @module
 */

/**
 * Stable machine-readable reason for a {@linkcode SmileIdError}.
 *
 * - `invalid_argument`: the caller passed bad configuration or input; nothing was sent.
 * - `transport`: the network request failed before a response arrived.
 * - `timeout`: a request or a polling deadline passed.
 * - `aborted`: the caller's `AbortSignal` fired.
 * - `http`: the server answered with a non-2xx status (redirects included), or a `fetch` followed a
 *   redirect (`redirected: true`; then `status` is absent, so polling never re-sends the request).
 * - `unexpected_response`: a 2xx body that is not a JSON object.
 * - `payload_too_large`: a response or callback body exceeded its byte limit.
 * - `schema`: JSON that does not have the documented shape (for a job status: no readable `job_complete`).
 * - `signature_mismatch`: a signature did not verify, or a job-status answer carries the request's own
 *   `timestamp`/`signature` pair (which anyone who saw the request could copy).
 * - `missing_signature`: a callback or a job-status answer without `signature` or `timestamp`; an
 *   answer that is Smile ID's `{ code, error }` carries them as `smileCode` and `serverMessage`.
 * - `invalid_timestamp`: a callback timestamp that cannot be read as a time.
 * - `stale_timestamp` / `future_timestamp`: a callback outside the tolerance window.
 * - `replayed`: a callback already claimed in the replay guard (its signature and timestamp pair,
 *   or with `confirm` the authoritative result it reports), or being processed right now.
 * - `body_unreadable`: a callback body that could not be read: the client disconnected
 *   mid-upload, or other code had already read the `Request`'s body (`cause` says which).
 * - `replay_guard`: the replay guard's store failed in `claim` or `release` (`cause` holds its error).
 * - `confirm_failed`: `confirm` could not get the authoritative job status (Smile ID unreachable,
 *   too slow, answering an error, or an answer that did not verify); `cause` holds the
 *   `getJobStatus` error.
 * - `answer_mismatch`: a job-status answer whose result names another `PartnerParams.user_id` or
 *   `job_id` than the query it answers (so also the authoritative status `confirm` fetched for a callback).
 * - `callback_failed`: the callback handler's `onCallback` threw (`cause` holds what it threw).
 * - `method_not_allowed`: a request to the callback handler that is not a `POST`.
 *
 * @example Branch on the code
 * ```ts
 * import { SmileIdError, type SmileIdErrorCode } from "@smile-id-kit/job-status";
 *
 * function retryable(code: SmileIdErrorCode): boolean {
 *   return code === "transport" || code === "timeout";
 * }
 * const error = new SmileIdError("transport", "Network down");
 * console.log(retryable(error.code)); // true
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
  | "answer_mismatch"
  | "callback_failed"
  | "method_not_allowed";

/**
 * One problem found while validating JSON against the documented shape.
 *
 * @example
 * ```ts
 * import type { SchemaIssue } from "@smile-id-kit/job-status";
 *
 * const issue: SchemaIssue = { path: "result.Actions.Liveness_Check", message: "Expected string" };
 * console.log(`${issue.path}: ${issue.message}`);
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
 * import { SmileIdError, type SmileIdErrorDetails } from "@smile-id-kit/job-status";
 *
 * const details: SmileIdErrorDetails = { status: 401, smileCode: "2205" };
 * const error = new SmileIdError("http", "Not authorized", details);
 * console.log(error.smileCode); // "2205"
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
  /** The response or callback body as received, for `http`, `unexpected_response` and `schema` errors. */
  readonly body?: string;
  /** Validation problems, for `schema` errors. */
  readonly issues?: readonly SchemaIssue[];
  /** Milliseconds the server asked to wait (`Retry-After`), for `http` errors that carried one. */
  readonly retryAfterMs?: number;
  /** Number of requests made, for polling errors. */
  readonly attempts?: number;
  /** The last successfully parsed status, for polling errors (nothing is lost on a deadline). */
  readonly lastStatus?: unknown;
}

/**
 * The single error type thrown or rejected by this library. Its {@linkcode SmileIdError.code}
 * is stable and meant for programs; its message is for people. Secrets (the API key) never
 * appear in either.
 *
 * @example Handle a failed job-status query
 * ```ts
 * import { SmileIdError } from "@smile-id-kit/job-status";
 *
 * try {
 *   throw new SmileIdError("http", "Smile ID answered 401", { status: 401, smileCode: "2205" });
 * } catch (error) {
 *   if (error instanceof SmileIdError && error.code === "http") {
 *     console.log(error.status, error.smileCode); // 401 "2205"
 *   }
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
  /** Delay the server asked for through `Retry-After`, in milliseconds. */
  readonly retryAfterMs: number | undefined;
  /** Requests made before a polling error. */
  readonly attempts: number | undefined;
  /** Last status seen before a polling error. */
  readonly lastStatus: unknown;

  /**
   * Creates an error; the library does this, applications mostly read them.
   *
   * @example
   * ```ts
   * import { SmileIdError } from "@smile-id-kit/job-status";
   *
   * const error = new SmileIdError("invalid_argument", "User id must be a non-empty string");
   * console.log(error.name, error.code); // SmileIdError invalid_argument
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
   * A plain object for logs and `JSON.stringify`, without `undefined` fields.
   *
   * @example
   * ```ts
   * import { SmileIdError } from "@smile-id-kit/job-status";
   *
   * const error = new SmileIdError("http", "Smile ID answered 503", { status: 503 });
   * console.log(JSON.stringify(error)); // {"name":"SmileIdError","code":"http","message":"Smile ID answered 503","status":503}
   * ```
   */
  toJSON(): Record<string, unknown> {
    const json: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    for (
      const key of [
        "status",
        "smileCode",
        "serverMessage",
        "body",
        "issues",
        "retryAfterMs",
        "attempts",
        "lastStatus",
      ] as const
    ) {
      if (this[key] !== undefined) json[key] = this[key];
    }
    return json;
  }
}

/** Quotes a value for an error message, shortened so a huge input cannot flood a log. */
export function quote(value: unknown, max = 80): string {
  let text: string;
  if (typeof value === "string") text = JSON.stringify(value);
  else if (typeof value === "bigint") text = `${value}n`;
  else if (value === undefined || typeof value === "function" || typeof value === "symbol") {
    text = String(value);
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** An `invalid_argument` error reading "<what> must be <expected>, got <value>". */
export function invalidArgument(what: string, expected: string, value: unknown): SmileIdError {
  return new SmileIdError("invalid_argument", `${what} must be ${expected}, got ${quote(value)}`);
}

/** Checks an optional option that must be a positive finite number. */
export function positiveOption(value: unknown, name: string): number | undefined {
  if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value) || value <= 0)) {
    throw invalidArgument(`Option ${name}`, "a positive number", value);
  }
  return value;
}
