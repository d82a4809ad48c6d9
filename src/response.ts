/**
 * Turns Smile ID's job-status answer into a verified, typed {@linkcode JobStatus}, and its
 * error answers into typed {@linkcode SmileIdError}s.
 *
 * @module
 */

import { parseJsonObject, readText } from "./_body.ts";
import { jobStatusSchema, readErrorBody, toJobStatus, validate } from "./_schemas.ts";
import { parseRetryAfter } from "./_time.ts";
import { invalidArgument, quote, SmileIdError, type SmileIdErrorDetails } from "./errors.ts";
import type { Signer } from "./signature.ts";
import type { JobStatus, JsonObject } from "./types.ts";

/** Default limit for a job-status body: 10 MiB, far above a large answer with history. */
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/**
 * How to check a job-status answer.
 *
 * @example
 * ```ts
 * import { createSigner, type ParseJobStatusOptions } from "@smile-id-kit/job-status";
 *
 * const options: ParseJobStatusOptions = { signer: createSigner({ partnerId: "085", apiKey: "key" }) };
 * console.log(options.signer.partnerId);
 * ```
 */
export interface ParseJobStatusOptions {
  /** The partner's signer; the answer's `signature` must match its `timestamp` for this partner. */
  readonly signer: Signer;
  /** Largest body accepted, in bytes (default 10 MiB). */
  readonly maxBodyBytes?: number;
}

/**
 * Parses and verifies a job-status answer: a fetch `Response`, its body text, or the parsed
 * JSON. The signature is always verified before the body is validated; a mismatch rejects
 * with code `signature_mismatch`. A non-2xx `Response` rejects with code `http` carrying the
 * status and Smile ID's `{ code, error }`; a redirect is never followed and is an `http` error
 * too. Bodies that are not JSON objects reject with `unexpected_response`, JSON of the wrong
 * shape with `schema`.
 *
 * @example Parse an answer signed by the server
 * ```ts
 * import { createSigner, parseJobStatusResponse } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "085", apiKey: "key" });
 * const body = { job_complete: true, job_success: true, code: "2302", result: "Done", ...(await signer.sign()) };
 * const status = await parseJobStatusResponse(JSON.stringify(body), { signer });
 * console.log(status.jobComplete, status.result); // true Done
 * ```
 */
export async function parseJobStatusResponse(
  body: Response | string | JsonObject,
  options: ParseJobStatusOptions,
): Promise<JobStatus> {
  const { signer } = options;
  const maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  let json: JsonObject;
  let text: string | undefined;
  if (body instanceof Response) {
    await rejectUnsuccessful(body, maxBytes);
    text = await readText(body, maxBytes, "The job status response");
    json = parseJsonObject(text, "The job status response", true);
  } else if (typeof body === "string") {
    text = body;
    json = parseJsonObject(text, "The job status response", true);
  } else if (typeof body === "object" && body !== null && !Array.isArray(body)) {
    json = body;
  } else {
    throw invalidArgument("Job status body", "a Response, a string or a JSON object", body);
  }

  const { signature, timestamp } = json;
  if (typeof signature !== "string" || typeof timestamp !== "string") {
    throw new SmileIdError(
      "signature_mismatch",
      "The job status response could not be authenticated: expected string signature and timestamp fields, " +
        `got signature ${quote(signature)} and timestamp ${quote(timestamp)}`,
      text === undefined ? {} : { body: text },
    );
  }
  if (!(await signer.verify(timestamp, signature))) {
    throw new SmileIdError(
      "signature_mismatch",
      `The job status response could not be authenticated: its signature ${quote(signature)} does not match ` +
        `timestamp ${quote(timestamp)} for partner ${quote(signer.partnerId)}`,
      text === undefined ? {} : { body: text },
    );
  }
  validate(jobStatusSchema, json, "The job status response", text);
  return toJobStatus(json);
}

/** Throws the typed error for a redirect or a non-2xx answer; returns for a 2xx. */
async function rejectUnsuccessful(response: Response, maxBytes: number): Promise<void> {
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
    ? ` with error ${details.smileCode}${details.serverMessage ? `: ${details.serverMessage}` : ""}`
    : details.serverMessage
    ? `: ${details.serverMessage}`
    : "";
  throw new SmileIdError("http", `Smile ID answered HTTP ${status}${smile}; expected a 2xx job status answer`, details);
}
