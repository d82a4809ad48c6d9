/**
 * {@linkcode createClient}: the job-status client that composes signing, request building,
 * transport and response verification.
 *
 * @module
 */

import { clockOption, readNow } from "./_clock.ts";
import {
  type ConfirmedCallback,
  type VerifiedCallback,
  verifyCallback,
  type VerifyCallbackOptions,
} from "./callback.ts";
import { SmileIdError } from "./errors.ts";
import { waitForJobStatus, type WaitForJobStatusOptions } from "./poll.ts";
import { buildJobStatusRequest, type JobStatusQuery } from "./request.ts";
import { DEFAULT_MAX_RESPONSE_BYTES, parseJobStatusResponse, skewOption } from "./response.ts";
import { createMemoryReplayGuard } from "./replay_guard.ts";
import { ownPairs, rememberPair } from "./_own_pairs.ts";
import { resolveServer, type ServerInput } from "./server.ts";
import { createSigner, type Signer, type SignerCredentials } from "./signature.ts";
import { type FetchLike, send } from "./transport.ts";
import type { Clock, JobStatus, JsonObject } from "./types.ts";
import { functionOption, positiveOption, quote, readQuery } from "./_validate.ts";

/**
 * Client configuration.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { type ClientConfig, createClient } from "@smile-id-kit/job-status";
 *
 * const config: ClientConfig = { partnerId: "085", apiKey: "my-api-key", server: "production", timeoutMs: 15_000 };
 * assertEquals(createClient(config).server, "https://api.smileidentity.com/v1");
 * ```
 */
export interface ClientConfig extends SignerCredentials {
  /**
   * Server selector or base URL, see `resolveServer`.
   *
   * @default {"sandbox"}
   */
  readonly server?: ServerInput;
  /**
   * The `fetch` to use.
   *
   * @default the global `fetch`, looked up at each call
   */
  readonly fetch?: FetchLike;
  /**
   * Deadline of one request, body included, in milliseconds. Any length works: past the
   * largest timer (2^31−1 ms, about 24.8 days) it is waited in steps, never cut short.
   *
   * @default {30000}
   */
  readonly timeoutMs?: number;
  /**
   * Largest response body accepted, in bytes.
   *
   * @default {10485760} (10 MiB)
   */
  readonly maxResponseBytes?: number;
  /**
   * The client's time: requests are signed at its `now`, and it is the default `clock` of this
   * client's `waitForJobStatus` (which sleeps on it), its `verifyCallback`, its in-memory replay
   * guard and a `createCallbackHandler` built on it. Give one `TestClock` (from `./testing`) to
   * the client and the fake Smile ID and every part of a test runs on the same virtual time.
   * Request deadlines (`timeoutMs`) are real time all the same: they guard the network.
   *
   * @default the system clock (`Date.now` and a timer)
   */
  readonly clock?: Clock;
  /**
   * How much earlier than its request an answer may be signed, in seconds (a server clock
   * behind yours); an older one is refused with `signature_mismatch`, since its pair may be
   * copied from any older message, and so is one whose timestamp is not a readable time.
   * `false` turns the check off; see `parseJobStatusResponse`.
   *
   * @default {300}
   */
  readonly answerSkewSeconds?: number | false;
}

/**
 * Options of one {@linkcode SmileIdClient.getJobStatus} call.
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "@std/assert";
 * import { createClient, type GetJobStatusOptions, SmileIdError } from "@smile-id-kit/job-status";
 *
 * const client = createClient({ partnerId: "085", apiKey: "my-api-key", fetch: () => new Promise(() => {}) });
 * const options: GetJobStatusOptions = { timeoutMs: 10 }; // a server that never answers
 * const error = await assertRejects(() => client.getJobStatus({ userId: "u", jobId: "j" }, options), SmileIdError);
 * assertEquals(error.code, "timeout");
 * ```
 */
export interface GetJobStatusOptions {
  /** Aborting it rejects the call with code `aborted`. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Deadline of this call in milliseconds; any length works, as for the client's.
   *
   * @default the client's `timeoutMs`
   */
  readonly timeoutMs?: number | undefined;
}

/**
 * A job-status client bound to one partner and server. It holds the imported key, never the
 * API key text, so logging or serialising it reveals no secret.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient, type SmileIdClient } from "@smile-id-kit/job-status";
 *
 * const client: SmileIdClient = createClient({ partnerId: "085", apiKey: "my-api-key" });
 * assertEquals([client.partnerId, client.server], ["085", "https://testapi.smileidentity.com/v1"]);
 * assertEquals(JSON.stringify(client).includes("my-api-key"), false);
 * ```
 */
export interface SmileIdClient {
  /** The partner id requests are signed for. */
  readonly partnerId: string;
  /** The resolved base URL. */
  readonly server: string;
  /** The signer, for verifying what Smile ID sends. */
  readonly signer: Signer;
  /** The clock from the configuration (or the system clock), which the client's methods default to. */
  readonly clock: Clock;
  /**
   * Asks for a job's status once: signs afresh, sends, verifies the answer's signature, binds
   * the answer to this request (not the pair of this or any of the client's latest 10,000
   * requests, not signed more than `answerSkewSeconds` before the request, no result for
   * another user or job, no redirect followed; see `parseJobStatusResponse`) and validates it.
   * Polling and a callback's `confirm` go through here, so they get the same checks. Requests
   * are signed at the clock's time as `2024-01-01T00:00:00.000+00:00`, a form Smile ID accepts
   * and never signs its own answers with, so a genuine answer never carries a request's pair.
   */
  getJobStatus(query: JobStatusQuery, options?: GetJobStatusOptions): Promise<JobStatus>;
  /**
   * Polls until the job is complete, see `waitForJobStatus`; each request's deadline is the
   * client's `timeoutMs` unless `requestTimeoutMs` says otherwise.
   */
  waitForJobStatus(query: JobStatusQuery, options?: WaitForJobStatusOptions): Promise<JobStatus>;
  /**
   * Verifies a callback with this client's key, see `verifyCallback`. By default it claims the
   * callback in one in-memory replay guard per client (create the client once, not per
   * request), and `confirm: true` asks this client for the authoritative status. For an HTTP
   * endpoint, `createCallbackHandler` does all of it, exactly once. A callback carrying the
   * pair of one of this client's latest 10,000 requests is refused (`signature_mismatch`):
   * anyone who saw the request can copy it. With `confirm: true` written literally, the result
   * is typed `ConfirmedCallback`.
   */
  verifyCallback(
    input: Request | string | Uint8Array | JsonObject,
    options: Omit<VerifyCallbackOptions, "reader"> & { readonly confirm: true },
  ): Promise<ConfirmedCallback>;
  /** Verifies a callback with this client's key; see the first signature. */
  verifyCallback(
    input: Request | string | Uint8Array | JsonObject,
    options?: Omit<VerifyCallbackOptions, "reader">,
  ): Promise<VerifiedCallback>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Creates a client. Configuration is checked at once: a bad partner id, API key, server or
 * timeout throws a `SmileIdError` with code `invalid_argument`.
 *
 * @example Query a job (here against an in-process stand-in for Smile ID)
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient, createSigner } from "@smile-id-kit/job-status";
 *
 * const serverSigner = createSigner({ partnerId: "085", apiKey: "my-api-key" });
 * const fetch = async () =>
 *   Response.json({ job_complete: true, job_success: true, code: "2302", result: {}, ...(await serverSigner.sign()) });
 *
 * const client = createClient({ partnerId: "085", apiKey: "my-api-key", fetch });
 * const status = await client.getJobStatus({ userId: "user-1", jobId: "job-1" });
 * assertEquals([status.jobComplete, status.code], [true, "2302"]);
 * ```
 */
export function createClient(config: ClientConfig): SmileIdClient {
  if (typeof config !== "object" || config === null) {
    throw new SmileIdError("invalid_argument", "Client configuration must be an object");
  }
  const signer = createSigner(config);
  const server = resolveServer(config.server ?? "sandbox");
  const fetchFn = functionOption(config.fetch, "fetch");
  const timeoutMs = positiveOption(config.timeoutMs, "timeoutMs") ?? DEFAULT_TIMEOUT_MS;
  const maxBodyBytes = positiveOption(config.maxResponseBytes, "maxResponseBytes") ?? DEFAULT_MAX_RESPONSE_BYTES;

  // Smile ID's API lives under /v1; a custom base URL without it most likely answers 404.
  const pathHint = new URL(server).pathname.endsWith("/v1")
    ? undefined
    : `; hint: the server URL ${quote(server)} does not end in /v1, under which Smile ID's API lives`;

  const answerSkewSeconds = skewOption(config.answerSkewSeconds);
  const clock = clockOption(config.clock, true);
  const replayGuard = createMemoryReplayGuard({ clock });
  // This client's request pairs, consulted by whatever verifies with its signer (answers,
  // callbacks): see _own_pairs.ts.
  const sent = new Set<string>();
  const client: SmileIdClient = {
    partnerId: signer.partnerId,
    server,
    signer,
    clock,
    async getJobStatus(query: JobStatusQuery, options: GetJobStatusOptions = {}): Promise<JobStatus> {
      const checked = readQuery(query);
      const callTimeoutMs = positiveOption(options.timeoutMs, "timeoutMs") ?? timeoutMs;
      const signed = await signer.sign(requestTime(clock));
      rememberPair(sent, signed.timestamp);
      const request = buildJobStatusRequest({ ...checked, server, partnerId: signer.partnerId, signed });
      try {
        return await send(
          request,
          { fetch: fetchFn, timeoutMs: callTimeoutMs, signal: options.signal },
          // The answer must be bound to this request: see checkPair and checkAnswerFor in response.ts.
          (response) =>
            parseJobStatusResponse(signer, response, {
              maxBodyBytes,
              request: { ...checked, signed },
              answerSkewSeconds,
            }),
        );
      } catch (error) {
        throw pathHint === undefined ? error : withPathHint(error, pathHint);
      }
    },
    waitForJobStatus(query: JobStatusQuery, options?: WaitForJobStatusOptions): Promise<JobStatus> {
      return waitForJobStatus(client, query, { requestTimeoutMs: timeoutMs, clock, ...options });
    },
    verifyCallback: ((
      input: Request | string | Uint8Array | JsonObject,
      options?: Omit<VerifyCallbackOptions, "reader">,
    ): Promise<VerifiedCallback> =>
      verifyCallback(signer, input, { replayGuard, clock, ...options, reader: client })) as SmileIdClient[
        "verifyCallback"
      ],
  };
  ownPairs.set(client, sent).set(signer, sent);
  return client;
}

/**
 * The time to sign a request with, written `2024-01-01T00:00:00.000+00:00`: the documented
 * `yyyy-MM-dd'T'HH:mm:ss.fffK`, with the offset the Python and PHP SDKs send, while Smile ID
 * signs its own answers and callbacks as `…Z`. So no genuine answer or callback ever carries a
 * pair this client sent, however many requests it makes, and one that does is refused outright
 * (a millisecond form like Smile ID's would collide with its timestamps once in every thousand
 * answers or callbacks per request a second; an echo retry would then be needed).
 */
function requestTime(clock: Clock): string {
  return new Date(readNow(clock)).toISOString().replace("Z", "+00:00");
}

/** An HTTP 404 from a base URL without /v1, with the hint added to its message. */
function withPathHint(error: unknown, hint: string): unknown {
  if (!(error instanceof SmileIdError) || error.code !== "http" || error.status !== 404) return error;
  return new SmileIdError("http", error.message + hint, {
    status: error.status,
    ...(error.smileCode === undefined ? {} : { smileCode: error.smileCode }),
    ...(error.serverMessage === undefined ? {} : { serverMessage: error.serverMessage }),
    ...(error.body === undefined ? {} : { body: error.body }),
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    cause: error,
  });
}
