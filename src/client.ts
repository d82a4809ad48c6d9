/**
 * {@linkcode createClient}: the job-status client that composes signing, request building,
 * transport and response verification, and {@linkcode getJobStatus} for one-off queries.
 *
 * @module
 */

import {
  createMemoryReplayGuard,
  type VerifiedCallback,
  verifyCallback,
  type VerifyCallbackOptions,
} from "./callback.ts";
import { invalidArgument, positiveOption, SmileIdError } from "./errors.ts";
import { waitForJobStatus, type WaitOptions } from "./poll.ts";
import { buildJobStatusRequest, type JobStatusQuery } from "./request.ts";
import { DEFAULT_MAX_RESPONSE_BYTES, parseJobStatusResponse } from "./response.ts";
import { resolveServer, type ServerInput } from "./server.ts";
import { createSigner, type Signer, type SignerCredentials } from "./signature.ts";
import { type FetchLike, send } from "./transport.ts";
import type { JobStatus, JsonObject } from "./types.ts";

/**
 * Client configuration.
 *
 * @example
 * ```ts
 * import type { ClientConfig } from "@smile-id-kit/job-status";
 *
 * const config: ClientConfig = {
 *   partnerId: "085",
 *   apiKey: "my-api-key",
 *   server: "sandbox",
 *   timeoutMs: 15_000,
 * };
 * console.log(config.server);
 * ```
 */
export interface ClientConfig extends SignerCredentials {
  /** Server selector or base URL (default `"sandbox"`), see `resolveServer`. */
  readonly server?: ServerInput;
  /** The `fetch` to use (default: the global `fetch`, looked up at each call). */
  readonly fetch?: FetchLike;
  /** Deadline of one request, body included, in milliseconds (default 30000). */
  readonly timeoutMs?: number;
  /** Largest response body accepted, in bytes (default 10 MiB). */
  readonly maxResponseBytes?: number;
}

/**
 * Per-call options.
 *
 * @example
 * ```ts
 * import type { RequestOptions } from "@smile-id-kit/job-status";
 *
 * const options: RequestOptions = { signal: AbortSignal.timeout(5000), timeoutMs: 2000 };
 * console.log(options.timeoutMs);
 * ```
 */
export interface RequestOptions {
  /** Aborting it rejects the call with code `aborted`. */
  readonly signal?: AbortSignal | undefined;
  /** Deadline of this call in milliseconds, overriding the client's. */
  readonly timeoutMs?: number | undefined;
}

/**
 * A job-status client bound to one partner and server. It holds the imported key, never the
 * API key text, so logging or serialising it reveals no secret.
 *
 * @example
 * ```ts
 * import { createClient, type SmileIdClient } from "@smile-id-kit/job-status";
 *
 * const client: SmileIdClient = createClient({ partnerId: "085", apiKey: "my-api-key" });
 * console.log(client.server); // https://testapi.smileidentity.com/v1
 * ```
 */
export interface SmileIdClient {
  /** The partner id requests are signed for. */
  readonly partnerId: string;
  /** The resolved base URL. */
  readonly server: string;
  /** The signer, for verifying what Smile ID sends. */
  readonly signer: Signer;
  /**
   * Asks for a job's status once: signs afresh, sends, verifies the answer's signature and
   * validates it.
   */
  getJobStatus(query: JobStatusQuery, options?: RequestOptions): Promise<JobStatus>;
  /**
   * Polls until the job is complete, see `waitForJobStatus`; each request's deadline is the
   * client's `timeoutMs` unless `requestTimeoutMs` says otherwise.
   */
  waitForJobStatus(query: JobStatusQuery, options?: WaitOptions): Promise<JobStatus>;
  /**
   * Verifies a callback with this client's key, see `verifyCallback`. By default it uses one
   * in-memory replay guard per client (create the client once, not per request), and
   * `confirm: true` asks this client for the authoritative status.
   */
  verifyCallback(
    input: Request | string | Uint8Array | JsonObject,
    options?: Omit<VerifyCallbackOptions, "signer" | "reader">,
  ): Promise<VerifiedCallback>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Creates a client. Configuration is checked at once: a bad partner id, API key, server or
 * timeout throws a `SmileIdError` with code `invalid_argument`.
 *
 * @example Query a job (here against an in-process stand-in for Smile ID)
 * ```ts
 * import { createClient, createSigner } from "@smile-id-kit/job-status";
 *
 * const serverSigner = createSigner({ partnerId: "085", apiKey: "my-api-key" });
 * const fetch = async () =>
 *   Response.json({ job_complete: true, job_success: true, code: "2302", result: {}, ...(await serverSigner.sign()) });
 *
 * const client = createClient({ partnerId: "085", apiKey: "my-api-key", fetch });
 * const status = await client.getJobStatus({ userId: "user-1", jobId: "job-1" });
 * console.log(status.jobComplete, status.code); // true 2302
 * ```
 */
export function createClient(config: ClientConfig): SmileIdClient {
  if (typeof config !== "object" || config === null) {
    throw new SmileIdError("invalid_argument", "Client configuration must be an object");
  }
  const signer = createSigner(config);
  const server = resolveServer(config.server ?? "sandbox");
  const fetchFn = config.fetch;
  if (fetchFn !== undefined && typeof fetchFn !== "function") {
    throw invalidArgument("Option fetch", "a function", fetchFn);
  }
  const timeoutMs = positiveOption(config.timeoutMs, "timeoutMs") ?? DEFAULT_TIMEOUT_MS;
  const maxBodyBytes = positiveOption(config.maxResponseBytes, "maxResponseBytes") ?? DEFAULT_MAX_RESPONSE_BYTES;

  const replayGuard = createMemoryReplayGuard();
  const client: SmileIdClient = {
    partnerId: signer.partnerId,
    server,
    signer,
    async getJobStatus(query: JobStatusQuery, options: RequestOptions = {}): Promise<JobStatus> {
      if (typeof query !== "object" || query === null) {
        throw invalidArgument("Job status query", "an object", query);
      }
      const request = buildJobStatusRequest({
        ...query,
        server,
        partnerId: signer.partnerId,
        signed: await signer.sign(),
      });
      return await send(
        request,
        {
          fetch: fetchFn,
          timeoutMs: positiveOption(options.timeoutMs, "timeoutMs") ?? timeoutMs,
          signal: options.signal,
        },
        (response) => parseJobStatusResponse(response, { signer, maxBodyBytes }),
      );
    },
    waitForJobStatus(query: JobStatusQuery, options?: WaitOptions): Promise<JobStatus> {
      return waitForJobStatus(client, query, { requestTimeoutMs: timeoutMs, ...options });
    },
    verifyCallback(
      input: Request | string | Uint8Array | JsonObject,
      options?: Omit<VerifyCallbackOptions, "signer" | "reader">,
    ): Promise<VerifiedCallback> {
      return verifyCallback(input, { replayGuard, ...options, signer, reader: client });
    },
  };
  return client;
}

/**
 * Asks for a job's status once without keeping a client; same checks and errors as
 * {@linkcode SmileIdClient.getJobStatus}. Prefer a client when making several calls: it
 * imports the key once.
 *
 * @example
 * ```ts
 * import { createSigner, getJobStatus } from "@smile-id-kit/job-status";
 *
 * const serverSigner = createSigner({ partnerId: "085", apiKey: "my-api-key" });
 * const fetch = async () => Response.json({ job_complete: false, ...(await serverSigner.sign()) });
 *
 * const status = await getJobStatus(
 *   { partnerId: "085", apiKey: "my-api-key", fetch },
 *   { userId: "user-1", jobId: "job-1" },
 * );
 * console.log(status.jobComplete); // false
 * ```
 */
export async function getJobStatus(
  config: ClientConfig,
  query: JobStatusQuery,
  options?: RequestOptions,
): Promise<JobStatus> {
  return await createClient(config).getJobStatus(query, options);
}
