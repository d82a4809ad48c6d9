/**
 * Turns Smile ID's job-status answer into a verified, typed {@linkcode JobStatus}, and its
 * error answers into typed {@linkcode SmileIdError}s.
 *
 * @module
 */

import { parseJsonObject, readText } from "./_body.ts";
import { isJsonObject, jobStatusSchema, readErrorBody, toJobStatus, toText, validate } from "./_schemas.ts";
import { ownPairs } from "./_own_pairs.ts";
import { parseRetryAfter, parseTimestamp } from "./_time.ts";
import { SmileIdError, type SmileIdErrorDetails } from "./errors.ts";
import type { SignedTimestamp, Signer } from "./signature.ts";
import type { JobStatus, JsonObject } from "./types.ts";
import { escapeText, invalidArgument, quote } from "./_validate.ts";

/** Default limit for a job-status body: 10 MiB, far above a large answer with history. */
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/**
 * The request an answer is for, as {@linkcode parseJobStatusResponse}'s `request` option: the
 * query's ids and the signed pair the request carried. The options given to
 * `buildJobStatusRequest` have this shape, so they can be passed as they are.
 *
 * @example Bind an answer to the request it answers
 * ```ts
 * import { assertEquals, assertRejects } from "@std/assert";
 * import { createSigner, type JobStatusRequestSent, parseJobStatusResponse, SmileIdError } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "085", apiKey: "key" });
 * const signed = await signer.sign("2024-01-01T00:00:00.000+00:00");
 * const sent: JobStatusRequestSent = { userId: "user-1", jobId: "job-1", signed };
 * // A genuine answer, signed after the request, but about another job: refused.
 * const result = { ResultCode: "1012", PartnerParams: { user_id: "user-1", job_id: "job-2" } };
 * const answer = { job_complete: true, result, ...(await signer.sign("2024-01-01T00:00:01.000Z")) };
 * const error = await assertRejects(() => parseJobStatusResponse(signer, answer, { request: sent }), SmileIdError);
 * assertEquals(error.code, "answer_mismatch");
 * ```
 */
export interface JobStatusRequestSent {
  /** The query's `userId` (a number counts as its decimal string). */
  readonly userId: string | number;
  /** The query's `jobId` (a number counts as its decimal string). */
  readonly jobId: string | number;
  /** The `timestamp` and `signature` the request carried. */
  readonly signed: SignedTimestamp;
}

/**
 * How {@linkcode parseJobStatusResponse} checks a job-status answer, beyond its signature.
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "@std/assert";
 * import {
 *   createSigner,
 *   parseJobStatusResponse,
 *   type ParseJobStatusResponseOptions,
 *   SmileIdError,
 * } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "085", apiKey: "key" });
 * const body = JSON.stringify({ job_complete: false, ...(await signer.sign()) });
 * const options: ParseJobStatusResponseOptions = { maxBodyBytes: 16 };
 * const error = await assertRejects(() => parseJobStatusResponse(signer, new Response(body), options), SmileIdError);
 * assertEquals(error.code, "payload_too_large");
 * ```
 */
export interface ParseJobStatusResponseOptions {
  /**
   * Largest body accepted, in bytes.
   *
   * @default {10485760} (10 MiB)
   */
  readonly maxBodyBytes?: number;
  /**
   * The request this answer is for. With it, the answer must be bound to that request: an
   * answer carrying the request's own `timestamp`/`signature` pair is refused
   * (`signature_mismatch`: anyone who saw the request can copy that pair, and it verifies), and
   * so is a result whose `PartnerParams.user_id` or `job_id` is not the query's
   * (`answer_mismatch`). The client always passes it.
   */
  readonly request?: JobStatusRequestSent;
  /**
   * With `request`: how much earlier than the request an answer may be signed, in seconds, for
   * a server clock behind yours; an older answer is refused (`signature_mismatch`), since its
   * pair may have been copied from any older message, and so is an answer whose timestamp is
   * not a readable time. `false` turns the check off. Smile ID documents no clock accuracy; 300
   * is the window this library also gives callbacks (`toleranceSeconds`).
   *
   * @default {300}
   */
  readonly answerSkewSeconds?: number | false;
}

/**
 * Parses and verifies a job-status answer with the partner's `signer`: a fetch `Response`, its
 * body text, or the parsed JSON. In order, each failure rejecting with a `SmileIdError`:
 *
 * 1. a `Response` that a `fetch` reached by following a redirect (`redirected: true`) is
 *    refused with code `http` and no `status` (the signed request went to another address);
 *    a 3xx is never followed and is an `http` error; any other non-2xx rejects with code
 *    `http` carrying the status and Smile ID's `{ code, error }`;
 * 2. a body that is not a JSON object is `unexpected_response`;
 * 3. an answer without string `signature` and `timestamp` is `missing_signature`; when it is
 *    Smile ID's `{ code, error }` (sent with a 2xx), the error carries `smileCode` and
 *    `serverMessage`;
 * 4. a signature that does not match the timestamp is `signature_mismatch`;
 * 5. the pair of a request that the client owning `signer` sent (its latest 10,000), or with
 *    `request` that request's own pair, echoed back is `signature_mismatch`; so is, with
 *    `request`, an answer signed more than `answerSkewSeconds` before the request;
 * 6. no readable `job_complete` (a boolean, or `"true"`/`"false"`) is `schema`; every other
 *    field is kept whatever its value (see {@linkcode JobStatus});
 * 7. with `request`: a result naming another `PartnerParams.user_id` or `job_id` is
 *    `answer_mismatch` (the message names the field, never the values).
 *
 * Received timestamps are verified as the exact string received (ISO 8601, Unix milliseconds,
 * anything the server signed), and never checked for freshness, as in the official SDKs.
 *
 * @example Parse an answer signed by the server
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createSigner, parseJobStatusResponse } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "085", apiKey: "key" });
 * const body = { job_complete: true, job_success: true, code: "2302", result: "Done", ...(await signer.sign()) };
 * const status = await parseJobStatusResponse(signer, JSON.stringify(body));
 * assertEquals([status.jobComplete, status.result], [true, "Done"]);
 * ```
 *
 * @example Refuse an answer that echoes the request's own signature
 * ```ts
 * import { assertEquals, assertRejects } from "@std/assert";
 * import { createSigner, parseJobStatusResponse, SmileIdError } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "085", apiKey: "key" });
 * const signed = await signer.sign(); // what the request carried
 * const madeUp = { job_complete: true, job_success: true, result: { ResultCode: "1012" }, ...signed };
 * const request = { userId: "user-1", jobId: "job-1", signed };
 * const error = await assertRejects(() => parseJobStatusResponse(signer, madeUp, { request }), SmileIdError);
 * assertEquals(error.code, "signature_mismatch");
 * ```
 */
export async function parseJobStatusResponse(
  signer: Signer,
  body: Response | string | JsonObject,
  options: ParseJobStatusResponseOptions = {},
): Promise<JobStatus> {
  if (typeof signer?.verify !== "function") {
    throw invalidArgument("Signer", "a Signer from createSigner", signer);
  }
  if (typeof options !== "object" || options === null) {
    throw invalidArgument("Options", "an object", options);
  }
  const { request } = options;
  const skew = skewOption(options.answerSkewSeconds);
  const maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  let json: JsonObject;
  let text: string | undefined;
  let status: number | undefined;
  if (body instanceof Response) {
    await rejectUnsuccessful(body, maxBytes);
    status = body.status;
    text = await readText(body, maxBytes, "The job status response");
    json = parseJsonObject(text, "The job status response", true);
  } else if (typeof body === "string") {
    text = body;
    // A string argument is never quoted: it may be anything the caller passed by mistake.
    json = parseJsonObject(text, "The job status response", false);
  } else if (typeof body === "object" && body !== null && !Array.isArray(body)) {
    json = body;
  } else {
    throw invalidArgument("Job status body", "a Response, a string or a JSON object", body);
  }
  const kept = text === undefined ? {} : { body: text };

  const { signature, timestamp } = json;
  if (typeof signature !== "string" || typeof timestamp !== "string") {
    throw unsigned(json, signature, timestamp, status, kept);
  }
  if (!(await signer.verify(timestamp, signature))) {
    throw new SmileIdError(
      "signature_mismatch",
      `The job status response could not be authenticated: its signature ${quote(signature)} does not match ` +
        `timestamp ${quote(timestamp)} for partner ${quote(signer.partnerId)}`,
      kept,
    );
  }
  checkPair(timestamp, signature, ownPairs.get(signer), request, skew);
  validate(jobStatusSchema, json, "The job status response", text);
  if (request !== undefined) checkAnswerFor(json, request);
  return toJobStatus(json);
}

/** Checks the `answerSkewSeconds` option (default 300); throws `invalid_argument`. */
export function skewOption(value: unknown = 300): number | false {
  if (value !== false && !(typeof value === "number" && value >= 0 && value < Infinity)) {
    throw invalidArgument("Option answerSkewSeconds", "a non-negative number of seconds or false", value);
  }
  return value;
}

/**
 * Refuses a verified answer's pair when anyone who saw one of the client's requests could have
 * copied it: a pair of this client's requests (`own`: its latest ones), or of `request`, or
 * (with `request`) a pair signed more than `skew` seconds before the request, which may come from
 * any older message. Messages quote neither pair: a request's pair is a reusable credential.
 */
function checkPair(
  timestamp: string,
  signature: string,
  own: Set<string> | undefined,
  request: JobStatusRequestSent | undefined,
  skew: number | false,
): void {
  const { signature: sent, timestamp: at } = request?.signed ?? {};
  if ((timestamp === at && signature === sent) || own?.has(timestamp)) {
    throw refused(
      "it carries the request's own timestamp and signature (or another request's of this client), which anyone " +
        "who saw the request can copy; expected a pair signed by the server",
    );
  }
  const requested = request === undefined || skew === false ? undefined : parseTimestamp(String(at));
  // An unreadable answer timestamp (undefined) fails the comparison too.
  if (requested !== undefined && !(parseTimestamp(timestamp)! >= requested - (skew as number) * 1000)) {
    throw refused(
      `it was signed more than answerSkewSeconds (${skew}) before the request, or at an unreadable time, so its ` +
        "pair may be copied from an older message; expected an answer signed after the request (a test double on " +
        "another clock than the client's gives this: pass both the same clock)",
    );
  }
}

function refused(why: string): SmileIdError {
  return new SmileIdError("signature_mismatch", `The job status response could not be authenticated: ${why}`);
}

/**
 * Binds a verified answer's result to the query it answers; the one place where `getJobStatus`,
 * polling and a callback's `confirm` (all through the client) get this check: a result object
 * that names `PartnerParams.user_id` or `job_id` must name the query's. Messages name the field
 * only, and the body is not kept.
 */
function checkAnswerFor(json: JsonObject, request: JobStatusRequestSent): void {
  const params = isJsonObject(json.result) ? json.result.PartnerParams : undefined;
  if (!isJsonObject(params)) return;
  const differing = ([["user_id", request.userId], ["job_id", request.jobId]] as const)
    .filter(([field, expected]) => {
      const named = toText(params[field]);
      return named !== undefined && named !== String(expected);
    })
    .map(([field]) => `PartnerParams.${field}`);
  if (differing.length > 0) {
    throw new SmileIdError(
      "answer_mismatch",
      `The job status response is for another job: its result's ${differing.join(" and ")} ` +
        `${differing.length > 1 ? "are" : "is"} not the query's; expected the queried user and job`,
    );
  }
}

/** The error for an answer without signature or timestamp: Smile ID's error body, or a bare unsigned body. */
function unsigned(
  json: JsonObject,
  signature: unknown,
  timestamp: unknown,
  status: number | undefined,
  kept: { body?: string },
): SmileIdError {
  const details = { ...kept, ...(status === undefined ? {} : { status }) };
  if (typeof json.error === "string") {
    const error = readErrorBody(json);
    const what = [
      error.smileCode === undefined ? "an error" : `error ${escapeText(error.smileCode.slice(0, 40))}`,
      error.serverMessage === undefined ? "" : ` (${quote(error.serverMessage, 200)})`,
    ].join("");
    return new SmileIdError(
      "missing_signature",
      `The job status response is not signed: Smile ID answered ${status === undefined ? "" : `HTTP ${status} with `}` +
        `${what} and no signature or timestamp; expected a signed job status answer`,
      { ...details, ...error },
    );
  }
  return new SmileIdError(
    "missing_signature",
    "The job status response could not be authenticated: expected string signature and timestamp fields, " +
      `got signature ${quote(signature)} and timestamp ${quote(timestamp)}`,
    details,
  );
}

/** Throws the typed error for a followed redirect, a 3xx or a non-2xx answer; returns for a 2xx. */
async function rejectUnsuccessful(response: Response, maxBytes: number): Promise<void> {
  if (response.redirected) {
    await response.body?.cancel().catch(() => {});
    throw new SmileIdError(
      "http",
      `The job status response came through a redirect that fetch followed${
        response.url ? ` (to ${quote(response.url)})` : ""
      }: the signed request was re-sent to another address; expected fetch to leave redirects unfollowed ` +
        '(redirect: "manual", as the request asks)',
    );
  }
  if (response.ok) return;
  const status = response.status;
  const details: { -readonly [K in keyof SmileIdErrorDetails]: SmileIdErrorDetails[K] } = { status };
  if (response.type === "opaqueredirect" || (status >= 300 && status < 400)) {
    await response.body?.cancel().catch(() => {});
    const location = response.headers.get("location");
    throw new SmileIdError(
      "http",
      `Smile ID answered with a redirect (HTTP ${status}${location ? ` to ${quote(location)}` : ""}), ` +
        "which is not followed: a signed request must not be re-sent to another address",
      details,
    );
  }
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), Date.now());
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  let text = "";
  try {
    text = await readText(response, maxBytes, "The error response");
  } catch (error) {
    details.cause = error;
  }
  if (text !== "") details.body = text;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  Object.assign(details, readErrorBody(json));
  const smile = details.smileCode !== undefined
    ? ` with error ${escapeText(details.smileCode.slice(0, 40))}${
      details.serverMessage ? `: ${quote(details.serverMessage, 200)}` : ""
    }`
    : details.serverMessage
    ? `: ${quote(details.serverMessage, 200)}`
    : "";
  throw new SmileIdError("http", `Smile ID answered HTTP ${status}${smile}; expected a 2xx job status answer`, details);
}
