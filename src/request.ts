/**
 * Builds the signed `POST /v1/job_status` request as a standard `Request`. Pure: no clock, no
 * network, no randomness; the caller supplies the signed timestamp.
 *
 * @module
 */

import { invalidArgument, SmileIdError } from "./errors.ts";
import { resolveServer, type ServerInput } from "./server.ts";
import type { SignedTimestamp } from "./signature.ts";
import { VERSION } from "./_version.ts";

/**
 * Which job to ask about, and what to include in the answer.
 *
 * @example
 * ```ts
 * import type { JobStatusQuery } from "@smile-id-kit/job-status";
 *
 * const query: JobStatusQuery = { userId: "user-1", jobId: "job-1", includeHistory: true };
 * console.log(query.jobId);
 * ```
 */
export interface JobStatusQuery {
  /** The `user_id` the job was submitted with. */
  readonly userId: string;
  /** The `job_id` the job was submitted with. */
  readonly jobId: string;
  /** Ask for the job's earlier results (`history`); default `false`. */
  readonly includeHistory?: boolean;
  /** Ask for expiring links to the job's images (`image_links`); default `false`. */
  readonly includeImageLinks?: boolean;
}

/**
 * Everything {@linkcode buildJobStatusRequest} needs: the query, where to send it, whose it
 * is, and a signature made for that partner (see `createSigner`).
 *
 * @example
 * ```ts
 * import { generateSignature, type JobStatusRequestOptions } from "@smile-id-kit/job-status";
 *
 * const options: JobStatusRequestOptions = {
 *   server: "sandbox",
 *   partnerId: "085",
 *   userId: "user-1",
 *   jobId: "job-1",
 *   signed: await generateSignature({ partnerId: "085", apiKey: "key" }),
 * };
 * console.log(options.server);
 * ```
 */
export interface JobStatusRequestOptions extends JobStatusQuery {
  /** Server selector or base URL, see `resolveServer`. */
  readonly server: ServerInput;
  /** Partner id, exactly as signed. */
  readonly partnerId: string;
  /** Signature and the timestamp it covers, sent as the body's `signature` and `timestamp`. */
  readonly signed: SignedTimestamp;
}

/**
 * Builds the job-status request: `POST {base}/job_status` with JSON headers and the body
 * fields of the official SDKs (`user_id`, `job_id`, `partner_id`, `image_links`, `history`,
 * `source_sdk`, `source_sdk_version`, `signature`, `timestamp`). Redirects are set to
 * `manual`: a followed redirect would re-send the signed body to another host. Bad input
 * throws a `SmileIdError` with code `invalid_argument`.
 *
 * @example
 * ```ts
 * import { buildJobStatusRequest, createSigner } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "085", apiKey: "my-api-key" });
 * const request = buildJobStatusRequest({
 *   server: "sandbox",
 *   partnerId: signer.partnerId,
 *   userId: "user-1",
 *   jobId: "job-1",
 *   includeImageLinks: true,
 *   signed: await signer.sign(),
 * });
 * console.log(request.method, request.url); // POST https://testapi.smileidentity.com/v1/job_status
 * ```
 */
export function buildJobStatusRequest(options: JobStatusRequestOptions): Request {
  if (typeof options !== "object" || options === null) {
    throw new SmileIdError("invalid_argument", "Job status request options must be an object");
  }
  const base = resolveServer(options.server);
  const body = {
    user_id: nonEmpty(options.userId, "User id"),
    job_id: nonEmpty(options.jobId, "Job id"),
    partner_id: nonEmpty(options.partnerId, "Partner id"),
    image_links: flag(options.includeImageLinks, "includeImageLinks"),
    history: flag(options.includeHistory, "includeHistory"),
    source_sdk: "rest_api",
    source_sdk_version: VERSION,
    signature: nonEmpty(options.signed?.signature, "Signature"),
    timestamp: nonEmpty(options.signed?.timestamp, "Signed timestamp"),
  };
  return new Request(`${base}/job_status`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
    redirect: "manual",
  });
}

/** Checks a required string input, for request fields and query ids. */
export function nonEmpty(value: unknown, name: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw invalidArgument(name, "a non-empty string", value);
  }
  return value;
}

function flag(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw invalidArgument(`Option ${name}`, "a boolean", value);
  }
  return value;
}
