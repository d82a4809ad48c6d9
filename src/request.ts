/**
 * Builds the signed `POST /v1/job_status` request as a standard `Request`. Pure: no clock, no
 * network, no randomness; the caller supplies the signed timestamp.
 *
 * @module
 */

import { SmileIdError } from "./errors.ts";
import { resolveServer, type ServerInput } from "./server.ts";
import type { SignedTimestamp } from "./signature.ts";
import { VERSION } from "./_version.ts";
import { nonEmpty, readQuery } from "./_validate.ts";

/**
 * Which job to ask about, and what to include in the answer.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { buildJobStatusRequest, generateSignature, type JobStatusQuery } from "@smile-id-kit/job-status";
 *
 * const query: JobStatusQuery = { userId: 42, jobId: "job-1", includeHistory: true };
 * const signed = await generateSignature({ partnerId: "085", apiKey: "key" });
 * const request = buildJobStatusRequest({ ...query, server: "sandbox", partnerId: "085", signed });
 * const body = await request.json();
 * assertEquals([body.user_id, body.history, body.image_links], ["42", true, false]);
 * ```
 */
export interface JobStatusQuery {
  /**
   * The `user_id` the job was submitted with. A number (the Node and Ruby SDKs forward numeric
   * ids as JSON numbers) is sent as its decimal string; it must be a non-negative safe integer.
   */
  readonly userId: string | number;
  /** The `job_id` the job was submitted with; a number is sent as its decimal string, like `userId`. */
  readonly jobId: string | number;
  /**
   * Ask for the job's earlier results (`history`).
   *
   * @default {false}
   */
  readonly includeHistory?: boolean;
  /**
   * Ask for expiring links to the job's images (`image_links`).
   *
   * @default {false}
   */
  readonly includeImageLinks?: boolean;
}

/**
 * Everything {@linkcode buildJobStatusRequest} needs: the query, where to send it, whose it
 * is, and a signature made for that partner (see `createSigner`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { buildJobStatusRequest, type BuildJobStatusRequestOptions, generateSignature } from "@smile-id-kit/job-status";
 *
 * const options: BuildJobStatusRequestOptions = {
 *   server: "production",
 *   partnerId: "085",
 *   userId: "user-1",
 *   jobId: "job-1",
 *   signed: await generateSignature({ partnerId: "085", apiKey: "key" }),
 * };
 * assertEquals(buildJobStatusRequest(options).url, "https://api.smileidentity.com/v1/job_status");
 * ```
 */
export interface BuildJobStatusRequestOptions extends JobStatusQuery {
  /** Server selector or base URL, see `resolveServer`. */
  readonly server: ServerInput;
  /** Partner id, exactly as signed. */
  readonly partnerId: string;
  /** Signature and the timestamp it covers, sent as the body's `signature` and `timestamp`. */
  readonly signed: SignedTimestamp;
}

/**
 * Builds the job-status request: `POST {base}/job_status` with JSON headers and the body
 * fields `user_id`, `job_id`, `partner_id`, `image_links`, `history`, `source_sdk`,
 * `source_sdk_version`, `signature`, `timestamp` (`source_sdk` is `"rest_api"`: docs/sources.md
 * says why it is sent). Numeric ids are sent as their decimal strings.
 * Redirects are set to `manual`: a followed redirect would re-send the signed body to another
 * host. Bad input throws a `SmileIdError` with code `invalid_argument`, and so do the official
 * SDKs' names (`user_id`, `return_history`, `return_image_links`, `return_images`, …): the
 * error names the field to use instead.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
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
 * assertEquals([request.method, request.url], ["POST", "https://testapi.smileidentity.com/v1/job_status"]);
 * ```
 */
export function buildJobStatusRequest(options: BuildJobStatusRequestOptions): Request {
  if (typeof options !== "object" || options === null) {
    throw new SmileIdError("invalid_argument", "Job status request options must be an object");
  }
  const query = readQuery(options);
  const base = resolveServer(options.server);
  const body = {
    user_id: query.userId,
    job_id: query.jobId,
    partner_id: nonEmpty(options.partnerId, "Partner id", true),
    image_links: query.includeImageLinks,
    history: query.includeHistory,
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
