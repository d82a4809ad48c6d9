/**
 * Smile ID's v1 job-status utility for every JavaScript runtime: sign requests with
 * HMAC-SHA256 on WebCrypto, query `POST /v1/job_status` through any `fetch`, verify and type
 * the answer, and receive the callbacks Smile ID posts: `createCallbackHandler` verifies each
 * one, confirms it with Smile ID and runs your code once per result. The same code runs in
 * Deno, Node, Bun, Cloudflare Workers and browsers.
 *
 * @example Check a job
 * ```ts ignore
 * import { createClient, describeResult } from "@smile-id-kit/job-status";
 *
 * const client = createClient({ partnerId: "085", apiKey: Deno.env.get("SMILE_API_KEY")!, server: "sandbox" });
 * const status = await client.getJobStatus({ userId: "user-1", jobId: "job-1" });
 * const { decision } = describeResult(status); // "approved", "rejected", "pending", …
 * ```
 *
 * @example Verify a signature
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { verifySignature } from "@smile-id-kit/job-status";
 *
 * const ok = await verifySignature({
 *   partnerId: "partner",
 *   apiKey: "apiKey",
 *   timestamp: "2023-02-13T15:07:42.214Z",
 *   signature: "XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=",
 * });
 * assertEquals(ok, true);
 * ```
 *
 * @module
 */

export { SmileIdError } from "./src/errors.ts";
export type { SchemaIssue, SmileIdErrorCode, SmileIdErrorDetails } from "./src/errors.ts";
export { createSigner, generateSignature, verifySignature } from "./src/signature.ts";
export type { SignedTimestamp, Signer, SignerCredentials, TimestampInput } from "./src/signature.ts";
export { resolveServer } from "./src/server.ts";
export type { ServerInput } from "./src/server.ts";
export { buildJobStatusRequest } from "./src/request.ts";
export type { BuildJobStatusRequestOptions, JobStatusQuery } from "./src/request.ts";
export { parseJobStatusResponse } from "./src/response.ts";
export type { JobStatusRequestSent, ParseJobStatusResponseOptions } from "./src/response.ts";
export type { FetchLike } from "./src/transport.ts";
export { createClient } from "./src/client.ts";
export type { ClientConfig, GetJobStatusOptions, SmileIdClient } from "./src/client.ts";
export type {
  Clock,
  IdResponse,
  ImageLinks,
  JobResult,
  JobStatus,
  JsonObject,
  JsonValue,
  PartnerParams,
} from "./src/types.ts";
export { pollDelays, waitForJobStatus } from "./src/poll.ts";
export type { JobStatusReader, PollProgress, WaitForJobStatusOptions } from "./src/poll.ts";
export { verifyCallback } from "./src/callback.ts";
export type {
  CallbackMismatch,
  CallbackPayload,
  ConfirmedCallback,
  UnconfirmedCallback,
  VerifiedCallback,
  VerifyCallbackOptions,
} from "./src/callback.ts";
export { createMemoryReplayGuard } from "./src/replay_guard.ts";
export type { CreateMemoryReplayGuardOptions, ReplayGuard, ReplayKeyState } from "./src/replay_guard.ts";
export { classifyCallbackError, createCallbackHandler } from "./src/handler.ts";
export type {
  CallbackErrorClass,
  CreateCallbackHandlerOptions,
  HandledResult,
  ReconciledResult,
} from "./src/handler.ts";
export { reconcileJobs } from "./src/reconcile.ts";
export type { ReconcileJob, ReconcileJobsOptions, ReconcileJobsResult } from "./src/reconcile.ts";
export { describeResult } from "./src/result.ts";
export type { Decision, DecisionBasis, ResultSummary } from "./src/result.ts";
export { decodeImage, downloadImage, imageLinkExpiry } from "./src/image.ts";
export type { DownloadedImage, DownloadImageOptions } from "./src/image.ts";
