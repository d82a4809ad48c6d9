/**
 * {@linkcode createCallbackHandler}: a callback endpoint as a standard fetch handler
 * (`Request` in, `Response` out) that runs your code once for each genuine result, and
 * {@linkcode classifyCallbackError}, the one table of HTTP statuses for callback rejections.
 *
 * @module
 */

import {
  callbackSettings,
  type ConfirmedCallback,
  guardFailed,
  type UnconfirmedCallback,
  type VerifiedCallback,
} from "./callback.ts";
import type { SmileIdClient } from "./client.ts";
import { escapeText, invalidArgument, quote, SmileIdError, type SmileIdErrorCode } from "./errors.ts";
import { createMemoryReplayGuard, type ReplayGuard } from "./replay_guard.ts";
import type { Clock } from "./types.ts";

/**
 * Options of {@linkcode createCallbackHandler}. `Confirm` follows the `confirm` option, so that
 * `onCallback` receives a {@linkcode ConfirmedCallback} (with Smile ID's `status`) unless
 * `confirm: false`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { type CreateCallbackHandlerOptions, createClient, describeResult } from "@smile-id-kit/job-status";
 *
 * const decisions: string[] = [];
 * const options: CreateCallbackHandlerOptions = {
 *   client: createClient({ partnerId: "085", apiKey: "my-api-key" }),
 *   onCallback: (callback) => void decisions.push(describeResult(callback.status).decision),
 *   leaseSeconds: 60,
 * };
 * assertEquals(options.confirm, undefined); // confirm is on by default
 * ```
 */
export interface CreateCallbackHandlerOptions<Confirm extends boolean = true> {
  /** The client: its key verifies callbacks, and `confirm` asks it for the job status. */
  readonly client: SmileIdClient;
  /**
   * Your code, run once for each result: save it, start the next step. With `confirm` (the
   * default) act on `callback.status`, Smile ID's own answer, never on the body's claims.
   * Throwing makes the handler answer 500 and lets a redelivery run it again. It must finish
   * within `leaseSeconds`.
   */
  readonly onCallback: (
    callback: boolean extends Confirm ? VerifiedCallback : Confirm extends false ? UnconfirmedCallback
    : ConfirmedCallback,
  ) => unknown;
  /**
   * Where deliveries are claimed. With several instances, a guard on a shared store (`./redis`,
   * `./deno-kv`, `./cloudflare`): the in-memory default sees only this process or isolate.
   *
   * @default a new in-memory guard for this handler
   */
  readonly replayGuard?: ReplayGuard;
  /**
   * Ask Smile ID for the job status and act on that: the signature does not cover the body. Off,
   * `onCallback` gets the body's claims, only the signature and freshness checked.
   *
   * @default {true}
   */
  readonly confirm?: Confirm;
  /**
   * Freshness window in seconds, or `false`; see `verifyCallback`. With `confirm`, a genuine
   * callback outside it is still processed (`fresh: false`).
   *
   * @default {300}
   */
  readonly toleranceSeconds?: number | false;
  /**
   * Largest body accepted, in bytes; a larger one is answered 413 without being read.
   *
   * @default {2097152}
   */
  readonly maxBodyBytes?: number;
  /** Called with every rejection (for logs and metrics); what it throws is ignored. */
  readonly onRejected?: (error: SmileIdError, request: Request) => unknown;
  /**
   * How long one delivery holds the callback while `onCallback` runs, in seconds (at least 2).
   * A crash leaves the lease behind: a redelivery is processed once it expires.
   *
   * @default {300}
   */
  readonly leaseSeconds?: number;
  /**
   * How long a processed result is remembered, in seconds, with `confirm`. Without it the
   * signature and timestamp pair is remembered for the rest of the freshness window.
   *
   * @default {2592000} (30 days)
   */
  readonly rememberSeconds?: number;
  /**
   * The clock of the freshness window and of the default in-memory replay guard; only its `now`
   * is used.
   *
   * @default the client's `clock` (the system clock unless `createClient` was given one)
   */
  readonly clock?: Pick<Clock, "now">;
}

/**
 * How a callback rejection is answered: its HTTP status, and whether a redelivery of the same
 * callback can succeed.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { type CallbackErrorClass, classifyCallbackError, SmileIdError } from "@smile-id-kit/job-status";
 *
 * const answer: CallbackErrorClass = classifyCallbackError(new SmileIdError("replayed", "Already accepted"));
 * assertEquals(answer, { status: 409, retryable: true });
 * ```
 */
export interface CallbackErrorClass {
  /** The HTTP status to answer. */
  readonly status: number;
  /** Whether a redelivery can succeed: nothing was claimed, and the cause may go away. */
  readonly retryable: boolean;
}

const CLASSES: Partial<Record<SmileIdErrorCode, CallbackErrorClass>> = {
  payload_too_large: { status: 413, retryable: false },
  unexpected_response: { status: 400, retryable: false },
  schema: { status: 400, retryable: false },
  body_unreadable: { status: 400, retryable: true },
  missing_signature: { status: 401, retryable: false },
  signature_mismatch: { status: 401, retryable: false },
  invalid_timestamp: { status: 401, retryable: false },
  stale_timestamp: { status: 401, retryable: false },
  future_timestamp: { status: 401, retryable: false },
  method_not_allowed: { status: 405, retryable: false },
  replayed: { status: 409, retryable: true },
  callback_failed: { status: 500, retryable: true },
  confirm_failed: { status: 503, retryable: true },
  answer_mismatch: { status: 503, retryable: true },
  replay_guard: { status: 503, retryable: true },
};
const OTHER: CallbackErrorClass = { status: 500, retryable: true };

/**
 * Maps what `verifyCallback` or the callback handler rejected with to an HTTP status, and says
 * whether a redelivery can succeed. The handler answers with it; use it where you call
 * `verifyCallback` yourself.
 *
 * | code | status | retryable | meaning |
 * |---|---|---|---|
 * | `payload_too_large` | 413 | no | body over `maxBodyBytes` (answered with `Connection: close`, unread) |
 * | `unexpected_response`, `schema` | 400 | no | not a JSON object, or not the documented shape |
 * | `body_unreadable` | 400 | yes | the upload broke off, or other code had read the body; nothing was claimed |
 * | `missing_signature`, `signature_mismatch` | 401 | no | unsigned, or not signed with the partner's key |
 * | `invalid_timestamp`, `stale_timestamp`, `future_timestamp` | 401 | no | outside the freshness window (without `confirm` only) |
 * | `method_not_allowed` | 405 | no | not a `POST` (answered with `Allow: POST`) |
 * | `replayed` | 409 | yes | another delivery of it is being processed now (from `verifyCallback` alone: claimed before) |
 * | `callback_failed` | 500 | yes | `onCallback` threw; the claim was released |
 * | `confirm_failed`, `answer_mismatch` | 503 | yes | Smile ID's job status could not be had, or was about another job |
 * | `replay_guard` | 503 | yes | the replay guard's store failed |
 * | anything else | 500 | yes | misconfiguration or a bug (`invalid_argument`, an error that is no `SmileIdError`) |
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { classifyCallbackError, SmileIdError } from "@smile-id-kit/job-status";
 *
 * assertEquals(classifyCallbackError(new SmileIdError("signature_mismatch", "forged")), { status: 401, retryable: false });
 * assertEquals(classifyCallbackError(new SmileIdError("confirm_failed", "Smile ID down")), { status: 503, retryable: true });
 * assertEquals(classifyCallbackError(new TypeError("bug")), { status: 500, retryable: true });
 * ```
 */
export function classifyCallbackError(error: unknown): CallbackErrorClass {
  return (error instanceof SmileIdError ? CLASSES[error.code] : undefined) ?? OTHER;
}

const DEFAULT_LEASE_SECONDS = 300;
/** The "is it done?" probe is claimed then released at once; should a crash leave it, it lapses well inside the lease. */
const PROBE_SECONDS = 1;

/**
 * Creates a callback endpoint: a fetch handler for `Deno.serve(handler)`,
 * `Bun.serve({ fetch: handler })`, a Workers `fetch`, a Hono route (`(c) => handler(c.req.raw)`),
 * or Node through `toNodeHandler` from `./node`. It verifies each delivery (by default
 * confirming it with Smile ID), runs `onCallback` once per result, and answers:
 *
 * | delivery | answer | `onCallback` |
 * |---|---|---|
 * | genuine, first time | 200 `{"ok":true,"code":"processed"}` | ran once |
 * | a callback already processed (any body under its pair, with `confirm`: any delivery of the same result) | 200 `{"ok":true,"code":"duplicate"}` | not called |
 * | the same callback being processed right now by another delivery | 409 `replayed` | not called |
 * | unsigned, or a wrong signature | 401 | not called |
 * | outside the freshness window, without `confirm` (with it: processed, `fresh: false`) | 401 | not called |
 * | not JSON, or not the documented shape | 400 | not called |
 * | body over `maxBodyBytes` | 413, `Connection: close`, body left unread | not called |
 * | not `POST` | 405, `Allow: POST` | not called |
 * | `onCallback` threw | 500 `callback_failed`, claim released: a redelivery is processed | ran, failed |
 * | Smile ID cannot be reached for `confirm`, or its store fails | 503 (`Retry-After` when Smile ID sent one), nothing claimed | not called |
 *
 * Answers are `{"ok":…,"code":…}` only: no API key, no body values. Every non-2xx answer is
 * passed to `onRejected` first; `classifyCallbackError` is the table behind them.
 *
 * Exactly once, with nothing but `claim` and `release` on the guard: a delivery claims
 * `<replayKey>:lease` for `leaseSeconds` (409 if another delivery holds it), checks
 * `<replayKey>:done` by claiming and at once releasing it (already claimed: a duplicate),
 * runs `onCallback`, then claims `:done` for the key's TTL and releases the lease. If
 * `onCallback` throws, the lease is released at once; if the process dies while it runs, the
 * lease lapses after `leaseSeconds` and a redelivery is processed then. So `onCallback` must
 * finish within `leaseSeconds`, or a redelivery may run it a second time. Should the store fail
 * after `onCallback` succeeded, the answer is still 200 and `onRejected` is told.
 *
 * @example Exactly once, even when a tampered body arrives first (here against the fake Smile ID)
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createCallbackHandler, createClient } from "@smile-id-kit/job-status";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "my-api-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1", result: { ResultCode: "1022", ResultText: "No Match" } });
 * const client = createClient({ partnerId: "085", apiKey: "my-api-key", fetch: fake.fetch });
 *
 * const saved: (string | undefined)[] = [];
 * const handler = createCallbackHandler({
 *   client,
 *   onCallback: ({ status }) => void saved.push(typeof status.result === "object" ? status.result.resultCode : undefined),
 * });
 * const post = (body: unknown) => handler(new Request("https://partner.example/cb", { method: "POST", body: JSON.stringify(body) }));
 * const genuine = await fake.buildCallback("job-1");
 * const tampered = { ...genuine, ResultCode: "1012", ResultText: "ID Number Validated" };
 *
 * assertEquals(await (await post(tampered)).json(), { ok: true, code: "processed" });
 * assertEquals(await (await post(genuine)).json(), { ok: true, code: "duplicate" });
 * assertEquals(saved, ["1022"]); // Smile ID's answer, once
 * ```
 *
 * @example Serve it
 * ```ts ignore
 * import { createCallbackHandler, createClient } from "@smile-id-kit/job-status";
 *
 * const client = createClient({ partnerId: "085", apiKey: Deno.env.get("SMILE_API_KEY")!, server: "production" });
 * Deno.serve(createCallbackHandler({ client, onCallback: async ({ status }) => await save(status) }));
 * ```
 */
export function createCallbackHandler<Confirm extends boolean = true>(
  options: CreateCallbackHandlerOptions<Confirm>,
): (request: Request) => Promise<Response> {
  if (typeof options !== "object" || options === null) throw invalidArgument("Handler options", "an object", options);
  const { client, onCallback, onRejected } = options;
  if (typeof client?.verifyCallback !== "function") {
    throw new SmileIdError("invalid_argument", "Option client must be a client from createClient");
  }
  if (typeof onCallback !== "function") throw invalidArgument("Option onCallback", "a function", onCallback);
  if (onRejected !== undefined && typeof onRejected !== "function") {
    throw invalidArgument("Option onRejected", "a function", onRejected);
  }
  const settings = callbackSettings({ ...options, clock: options.clock ?? client.clock });
  const guard = options.replayGuard ?? createMemoryReplayGuard({ clock: settings.clock });
  if (typeof guard?.claim !== "function" || typeof guard.release !== "function") {
    throw invalidArgument("Option replayGuard", "an object with claim and release methods", guard);
  }
  const confirm = options.confirm ?? true;
  if (typeof confirm !== "boolean") throw invalidArgument("Option confirm", "a boolean", confirm);
  const leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  if (typeof leaseSeconds !== "number" || !Number.isFinite(leaseSeconds) || leaseSeconds < 2) {
    throw invalidArgument("Option leaseSeconds", "a number of seconds, at least 2", leaseSeconds);
  }
  const verifyOptions = {
    confirm,
    toleranceSeconds: settings.tolerance,
    maxBodyBytes: settings.maxBytes,
    rememberSeconds: settings.rememberSeconds,
    clock: settings.clock,
    replayGuard: false,
  } as const;

  // Plain promise chains rather than async functions: one frame and one promise fewer per call,
  // five calls per delivery. A guard that throws instead of rejecting fails the same way.
  const claimFailed = (error: unknown): never => {
    throw guardFailed("claim", error);
  };
  const releaseFailed = (error: unknown): never => {
    throw guardFailed("release", error);
  };
  const isTrue = (claimed: unknown) => claimed === true;
  const claim = (key: string, ttlSeconds: number): Promise<boolean> => {
    try {
      return Promise.resolve(guard.claim(key, ttlSeconds)).then(isTrue, claimFailed);
    } catch (error) {
      return Promise.reject(guardFailed("claim", error));
    }
  };
  const release = (key: string): Promise<void> => {
    try {
      return Promise.resolve(guard.release(key)).then(undefined, releaseFailed);
    } catch (error) {
      return Promise.reject(guardFailed("release", error));
    }
  };
  const tell = async (error: SmileIdError, request: Request): Promise<void> => {
    try {
      await onRejected?.(error, request);
    } catch {
      // What onRejected throws must not change the answer.
    }
  };
  const reject = async (error: unknown, request: Request): Promise<Response> => {
    const rejection = error instanceof SmileIdError
      ? error
      : new SmileIdError("callback_failed", "The callback handler failed unexpectedly", { cause: error });
    await tell(rejection, request);
    const { status } = classifyCallbackError(rejection);
    const headers: Record<string, string> = {};
    if (rejection.code === "payload_too_large") headers.connection = "close";
    if (rejection.code === "method_not_allowed") headers.allow = "POST";
    if (status === 503 && rejection.retryAfterMs !== undefined) {
      headers["retry-after"] = String(Math.ceil(rejection.retryAfterMs / 1000));
    }
    return Response.json({ ok: false, code: rejection.code }, { status, headers });
  };

  return async (request: Request): Promise<Response> => {
    if (request.method !== "POST") {
      await request.body?.cancel().catch(() => {});
      const method = new SmileIdError(
        "method_not_allowed",
        `The callback endpoint accepts POST only, got ${quote(request.method)}`,
      );
      return await reject(method, request);
    }
    let verified: VerifiedCallback;
    try {
      verified = await client.verifyCallback(request, verifyOptions);
    } catch (error) {
      return await reject(error, request);
    }
    const lease = `${verified.replayKey}:lease`;
    const done = `${verified.replayKey}:done`;
    try {
      if (!(await claim(lease, leaseSeconds))) {
        const busy = new SmileIdError("replayed", "This callback is being processed by another delivery right now");
        return await reject(busy, request);
      }
    } catch (error) {
      return await reject(error, request);
    }
    let ran = false;
    try {
      if (!(await claim(done, PROBE_SECONDS))) {
        await release(lease).catch(() => {}); // it lapses by itself otherwise
        return Response.json({ ok: true, code: "duplicate" });
      }
      await release(done);
      try {
        await onCallback(verified as Parameters<CreateCallbackHandlerOptions<Confirm>["onCallback"]>[0]);
      } catch (error) {
        throw new SmileIdError(
          "callback_failed",
          `onCallback threw: ${error instanceof Error ? escapeText(error.message) : "a non-Error value"}`,
          { cause: error },
        );
      }
      ran = true;
      await claim(done, verified.replayTtlSeconds); // false: marked done meanwhile, fine too
      await release(lease);
      return Response.json({ ok: true, code: "processed" });
    } catch (error) {
      const failure = error instanceof SmileIdError ? error : guardFailed("claim", error);
      if (ran) {
        // The work is done: answer 200 so it is not redelivered, and keep the lease (it lapses).
        await tell(failure, request);
        return Response.json({ ok: true, code: "processed" });
      }
      await release(lease).catch(() => {}); // if this fails too, the lease lapses after leaseSeconds
      return await reject(failure, request);
    }
  };
}
