/**
 * {@linkcode createCallbackHandler}: a callback endpoint as a standard fetch handler
 * (`Request` in, `Response` out) that runs your code once for each genuine result, and
 * {@linkcode classifyCallbackError}, the one table of HTTP statuses for callback rejections.
 *
 * @module
 */

import {
  beforeConfirm,
  type CallbackSettings,
  callbackSettings,
  checkedState,
  type ConfirmedCallback,
  GUARD_SHAPE,
  guardFailed,
  type InternalVerifyOptions,
  isReplayGuard,
  parseCallbackText,
  readCallbackText,
  type UnconfirmedCallback,
  type VerifiedCallback,
} from "./callback.ts";
import { PairBudget, ProcessedBodies, SharedConfirms } from "./_deliveries.ts";
import { readNow } from "./_clock.ts";
import type { SmileIdClient } from "./client.ts";
import { SmileIdError, type SmileIdErrorCode } from "./errors.ts";
import { createMemoryReplayGuard, type ReplayGuard } from "./replay_guard.ts";
import type { Clock, JobStatus } from "./types.ts";
import { escapeText, functionOption, invalidArgument, positiveIntegerOption, quote } from "./_validate.ts";

/**
 * What `onCallback` gets for a result it processes after {@linkcode reconcileJobs} polled it:
 * Smile ID's job status, with no callback body (none arrived). Its `replayKey` is the one a
 * callback reporting the same result gets, so the result runs once whichever way it came.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { HandledResult, ReconciledResult } from "@smile-id-kit/job-status";
 *
 * function jobOf(result: HandledResult): string | undefined {
 *   return result.jobId; // both kinds name the job
 * }
 * const status = { jobComplete: true, jobSuccess: true, code: "2302", result: undefined } as unknown as ReconciledResult["status"];
 * const polled: ReconciledResult = {
 *   source: "reconcile",
 *   confirmed: true,
 *   userId: "user-1",
 *   jobId: "job-1",
 *   status,
 *   replayKey: "result:…",
 *   replayTtlSeconds: 2592000,
 * };
 * assertEquals(jobOf(polled), "job-1");
 * ```
 */
export interface ReconciledResult {
  /** `"reconcile"`: found by polling, not delivered as a callback. */
  readonly source: "reconcile";
  /** `true`: `status` is Smile ID's own answer, as with a confirmed callback. */
  readonly confirmed: true;
  /** The user id the job was polled with. */
  readonly userId: string;
  /** The job id the job was polled with. */
  readonly jobId: string;
  /** Smile ID's job status, complete (`jobComplete: true`). */
  readonly status: JobStatus;
  /** The key the result is recorded under in the replay guard (the same as its callback's). */
  readonly replayKey: string;
  /** How long the result is remembered once processed, in seconds (`rememberSeconds`). */
  readonly replayTtlSeconds: number;
}

/**
 * What `onCallback` gets: a callback that arrived (`source: "callback"`, as `verifyCallback`
 * returned it), or with `confirm` also a result {@linkcode reconcileJobs} polled (`source:
 * "reconcile"`, a {@linkcode ReconciledResult}, which has no body). Both name the job in
 * `userId` and `jobId` and, when `confirm` is on, carry Smile ID's `status`; narrow on `source`
 * to read the body (`payload`, `mismatches`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { HandledResult } from "@smile-id-kit/job-status";
 *
 * const seen: string[] = [];
 * const onCallback = (result: HandledResult) => {
 *   // Both kinds name the job and have Smile ID's status; only a callback has a body.
 *   const mismatches = result.source === "callback" ? result.mismatches.length : 0;
 *   seen.push(`${result.source} ${result.jobId} complete: ${result.status.jobComplete}, ${mismatches} mismatches`);
 * };
 * const status = { jobComplete: true } as HandledResult["status"];
 * onCallback({ source: "reconcile", confirmed: true, userId: "u", jobId: "j", status, replayKey: "k", replayTtlSeconds: 60 });
 * assertEquals(seen, ["reconcile j complete: true, 0 mismatches"]);
 * ```
 */
export type HandledResult<Confirm extends boolean = true> =
  | (
    & (boolean extends Confirm ? VerifiedCallback : Confirm extends false ? UnconfirmedCallback : ConfirmedCallback)
    & {
      /** `"callback"`: delivered to the endpoint; `payload` is its body. */
      readonly source: "callback";
      /**
       * `payload.userId`: the user the callback is about. With `confirm` always a string (a callback
       * without one cannot be confirmed); without it, what the body names, if anything.
       */
      readonly userId: Confirm extends true ? string : string | undefined;
      /** `payload.jobId`: the job the callback is about; a string with `confirm`, as `userId`. */
      readonly jobId: Confirm extends true ? string : string | undefined;
    }
  )
  | (Confirm extends false ? never : ReconciledResult);

/**
 * Options of {@linkcode createCallbackHandler}, and of {@linkcode reconcileJobs}, which takes the
 * same object. `Confirm` follows the `confirm` option, so that `onCallback` receives a
 * {@linkcode ConfirmedCallback} (with Smile ID's `status`) unless `confirm: false`.
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
   * default) act on `callback.status`, Smile ID's own answer, never on the body's claims; a
   * result found by {@linkcode reconcileJobs} arrives here too (`source: "reconcile"`), once
   * whichever way it came. Throwing makes the handler answer 500 and lets a redelivery run it
   * again. It must finish within `leaseSeconds`. Results of one job can arrive out of order (a
   * provisional one processed after the final one): compare `status.timestamp` with what you
   * stored before overwriting it.
   */
  readonly onCallback: (callback: HandledResult<Confirm>) => unknown;
  /**
   * Where results are recorded, one key each. With several instances, a guard on a shared store
   * (`./redis`, `./deno-kv`, `./cloudflare`): the in-memory default sees only this process or
   * isolate.
   *
   * @default a new in-memory guard, shared by the handler and every `reconcileJobs` call given this same options object
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
   * Called with every delivery answered `200 duplicate`, with what it was verified as (for an
   * exact redelivery answered from memory, what the same body was verified as when it was
   * processed), so that a flood of duplicates is visible; what it throws is ignored.
   */
  readonly onDuplicate?: (
    callback: boolean extends Confirm ? VerifiedCallback : Confirm extends false ? UnconfirmedCallback
    : ConfirmedCallback,
    request: Request,
  ) => unknown;
  /**
   * With `confirm`: how many distinct jobs one signature pair (`timestamp`, `signature`) may make
   * this instance ask Smile ID about within 10 minutes of its first use. Further bodies under that
   * pair naming other jobs are answered 503 `confirm_limited`, without a request, until the 10
   * minutes are over: the signature does not cover the body, so whoever has seen one genuine
   * callback could otherwise make the handler spend Smile ID's rate limit on made-up jobs.
   * Genuine callbacks of several jobs signed in the same millisecond share a pair; those beyond
   * the bound are processed on a redelivery.
   *
   * @default {8}
   */
  readonly maxJobsPerPair?: number;
  /**
   * How long one delivery holds a result's lease while `onCallback` runs, in seconds (at least
   * 2). A crash leaves the lease behind: a redelivery is processed once it lapses.
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
  confirm_limited: { status: 503, retryable: true },
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
 * | `replayed` | 409 | yes | another delivery of it is being processed now (from `verifyCallback` alone: accepted before) |
 * | `callback_failed` | 500 | yes | `onCallback` threw; its lease was given up |
 * | `confirm_failed`, `answer_mismatch` | 503 | yes | Smile ID's job status could not be had, or was about another job |
 * | `confirm_limited` | 503 | yes | the body's signature pair already made this instance ask about `maxJobsPerPair` other jobs in the last 10 minutes (`Retry-After` says when it may again) |
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
const DEFAULT_MAX_JOBS_PER_PAIR = 8;

/** Default guards of options objects that name none, shared by their handler and `reconcileJobs`. */
const defaultGuards = new WeakMap<object, ReplayGuard>();

/** A handler's options, checked once, with defaults applied. Internal: shared with `reconcileJobs`. */
export interface HandlerSetup {
  readonly client: SmileIdClient;
  readonly guard: ReplayGuard;
  readonly confirm: boolean;
  readonly leaseSeconds: number;
  readonly maxJobsPerPair: number;
  readonly settings: CallbackSettings;
  readonly onCallback: (result: HandledResult<boolean>) => unknown;
  readonly onRejected: ((error: SmileIdError, request: Request) => unknown) | undefined;
  readonly onDuplicate: ((callback: VerifiedCallback, request: Request) => unknown) | undefined;
}

/** Checks the options of `createCallbackHandler` and `reconcileJobs`; throws `invalid_argument`. */
export function handlerSetup(options: CreateCallbackHandlerOptions<boolean>): HandlerSetup {
  if (typeof options !== "object" || options === null) throw invalidArgument("Handler options", "an object", options);
  const { client, onCallback, onRejected, onDuplicate } = options;
  if (typeof client?.verifyCallback !== "function" || typeof client.getJobStatus !== "function") {
    throw new SmileIdError("invalid_argument", "Option client must be a client from createClient");
  }
  if (typeof onCallback !== "function") throw invalidArgument("Option onCallback", "a function", onCallback);
  functionOption(onRejected, "onRejected");
  functionOption(onDuplicate, "onDuplicate");
  const settings = callbackSettings({ ...options, clock: options.clock ?? client.clock });
  let guard = options.replayGuard;
  if (guard === undefined) {
    guard = defaultGuards.get(options);
    if (guard === undefined) defaultGuards.set(options, guard = createMemoryReplayGuard({ clock: settings.clock }));
  }
  if (!isReplayGuard(guard)) throw invalidArgument("Option replayGuard", GUARD_SHAPE, guard);
  const confirm = options.confirm ?? true;
  if (typeof confirm !== "boolean") throw invalidArgument("Option confirm", "a boolean", confirm);
  const leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  if (typeof leaseSeconds !== "number" || !Number.isFinite(leaseSeconds) || leaseSeconds < 2) {
    throw invalidArgument("Option leaseSeconds", "a number of seconds, at least 2", leaseSeconds);
  }
  const maxJobsPerPair = positiveIntegerOption(options.maxJobsPerPair, "maxJobsPerPair") ?? DEFAULT_MAX_JOBS_PER_PAIR;
  return {
    client,
    guard,
    confirm,
    leaseSeconds,
    maxJobsPerPair,
    settings,
    onCallback: onCallback as HandlerSetup["onCallback"],
    onRejected,
    onDuplicate: onDuplicate as HandlerSetup["onDuplicate"],
  };
}

/** How the exactly-once step ended: `onCallback` ran and succeeded, or it was not run. */
export type OnceOutcome = "processed" | "duplicate" | "busy";

/**
 * The exactly-once step, the same for callbacks and `reconcileJobs`: `begin` on the key; `done`
 * is a duplicate, `busy` another delivery's; `claimed` runs `onCallback`, then `finish` (after a
 * success) or `abandon` (after a throw, which rejects as `callback_failed`). A failing `begin`
 * rejects as `replay_guard`; a failing `finish` still resolves `processed`, after telling
 * `finishFailed` (the work is done; the lease lapses by itself).
 */
export async function runOnce(
  setup: HandlerSetup,
  key: string,
  rememberSeconds: number,
  argument: HandledResult<boolean>,
  finishFailed: (error: SmileIdError) => unknown,
): Promise<OnceOutcome> {
  const { guard } = setup;
  let token: string;
  try {
    const begun = checkedState(await guard.begin(key, setup.leaseSeconds));
    if (begun.state !== "claimed") return begun.state === "done" ? "duplicate" : "busy";
    token = begun.token;
  } catch (error) {
    throw guardFailed("begin", error);
  }
  try {
    await setup.onCallback(argument);
  } catch (error) {
    // If this fails too, the lease lapses after leaseSeconds.
    await Promise.resolve().then(() => guard.abandon(key, token)).catch(() => {});
    throw new SmileIdError(
      "callback_failed",
      `onCallback threw: ${error instanceof Error ? escapeText(error.message) : "a non-Error value"}`,
      { cause: error },
    );
  }
  try {
    await guard.finish(key, token, rememberSeconds);
  } catch (error) {
    await finishFailed(guardFailed("finish", error));
  }
  return "processed";
}

/**
 * Creates a callback endpoint: a fetch handler for `Deno.serve(handler)`,
 * `Bun.serve({ fetch: handler })`, a Workers `fetch`, a Hono route (`(c) => handler(c.req.raw)`),
 * or Node through `toNodeHandler` from `./node`. It verifies each delivery (by default
 * confirming it with Smile ID), runs `onCallback` once per result, and answers:
 *
 * | delivery | answer | `onCallback` |
 * |---|---|---|
 * | genuine, first time | 200 `{"ok":true,"code":"processed"}` | ran once |
 * | a result already processed (with `confirm`: any delivery of the same result, whatever its body; without: any body under its pair) | 200 `{"ok":true,"code":"duplicate"}`, `onDuplicate` told | not called |
 * | the same result being processed right now by another delivery | 409 `replayed` | not called |
 * | unsigned, or a wrong signature | 401 | not called |
 * | outside the freshness window, without `confirm` (with it: processed, `fresh: false`) | 401 | not called |
 * | not JSON, or not the documented shape | 400 | not called |
 * | body over `maxBodyBytes` | 413, `Connection: close`, body left unread | not called |
 * | not `POST` | 405, `Allow: POST` | not called |
 * | `onCallback` threw | 500 `callback_failed`, lease given up: a redelivery is processed | ran, failed |
 * | Smile ID cannot be reached for `confirm`, or the guard's store fails | 503 (`Retry-After` when Smile ID sent one), nothing recorded | not called |
 * | its signature pair already made this instance ask about `maxJobsPerPair` other jobs in 10 minutes | 503 `confirm_limited` with `Retry-After`, no request | not called |
 *
 * Answers are `{"ok":…,"code":…}` only: no API key, no body values. Every non-2xx answer is
 * passed to `onRejected` first; `classifyCallbackError` is the table behind them.
 *
 * Exactly once, with one key per result in the guard (`replayKey`) and two store operations for
 * a first delivery: `begin` takes the key's lease for `leaseSeconds` (`busy`: 409; `done`: 200
 * duplicate, one operation), `onCallback` runs, and `finish` marks the key done for
 * `rememberSeconds`. If `onCallback` throws, the lease is given up at once (`abandon`); if the
 * process dies while it runs, the lease lapses after `leaseSeconds` and a redelivery is
 * processed then. So `onCallback` must finish within `leaseSeconds`, or a redelivery may run it
 * a second time. Should the store fail after `onCallback` succeeded, the answer is still 200 and
 * `onRejected` is told.
 *
 * What the handler keeps in memory, bounded: the bodies it processed (at most 1,000 and 4 Mi
 * characters; bodies over 64 Ki characters are not kept), so that an exact redelivery (the same
 * bytes) is answered 200 duplicate without asking Smile ID or the store; with `confirm`, the
 * jobs each signature pair made it ask about (10,000 pairs), and the confirms in flight, so
 * that concurrent deliveries of one callback share one request.
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
  const setup = handlerSetup(options as unknown as CreateCallbackHandlerOptions<boolean>);
  const { client, confirm, settings, onRejected, onDuplicate } = setup;
  const { clock } = settings;
  // What each remembered body was verified as, for onDuplicate; without the hook, nothing but the
  // text is kept (a verified callback is a graph of objects that the garbage collector walks).
  const bodies = new ProcessedBodies<VerifiedCallback | null>();
  const pairs = new PairBudget(setup.maxJobsPerPair);
  const confirms = new SharedConfirms(client);
  const verifyOptions: InternalVerifyOptions = {
    confirm,
    toleranceSeconds: settings.tolerance,
    maxBodyBytes: settings.maxBytes,
    rememberSeconds: settings.rememberSeconds,
    clock,
    replayGuard: false,
    // Between the signature check and the request: a pair may make this instance ask about a
    // bounded number of jobs, and deliveries of one callback share one request.
    [beforeConfirm]: (payload) => {
      const pair = `${payload.timestamp} ${payload.signature}`;
      const job = `${payload.userId}\n${payload.jobId}`;
      const waitMs = pairs.admit(pair, job, readNow(clock));
      if (waitMs !== undefined) {
        throw new SmileIdError(
          "confirm_limited",
          `This callback's signature pair has already made this instance ask Smile ID about ${setup.maxJobsPerPair} ` +
            `other jobs in the last 10 minutes; it may again in ${Math.ceil(waitMs / 1000)} s`,
          { retryAfterMs: waitMs },
        );
      }
      return confirms.readerFor(`${pair}\n${job}`);
    },
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
  const duplicate = async (callback: VerifiedCallback | null, request: Request): Promise<Response> => {
    try {
      if (callback !== null) await onDuplicate?.(callback, request);
    } catch {
      // What onDuplicate throws must not change the answer.
    }
    return Response.json({ ok: true, code: "duplicate" });
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
    let text: string;
    let pair: string | undefined;
    let verified: VerifiedCallback;
    try {
      text = await readCallbackText(request, settings.maxBytes);
      const json = parseCallbackText(text);
      const { timestamp, signature } = json;
      if (typeof timestamp === "string" && typeof signature === "string") {
        pair = `${timestamp} ${signature}`;
        // The very bytes of a delivery whose result is marked done: answered without Smile ID or the store.
        const seen = bodies.get(pair, text, readNow(clock));
        if (seen !== undefined) return await duplicate(seen.value, request);
      }
      // Through the client (it brings verifyCallback; the handler bundles none of its own), which
      // passes the internal hook on: the reader the hook returns is the one asked. The body is
      // passed parsed: its size was checked as it was read.
      verified = await client.verifyCallback(json, verifyOptions);
    } catch (error) {
      return await reject(error, request);
    }
    const { replayKey, replayTtlSeconds } = verified;
    let outcome: OnceOutcome;
    let unfinished = false;
    try {
      outcome = await runOnce(
        setup,
        replayKey,
        replayTtlSeconds,
        {
          ...verified,
          source: "callback",
          userId: verified.payload.userId,
          jobId: verified.payload.jobId,
        } as HandledResult<boolean>,
        (error) => {
          unfinished = true;
          return tell(error, request);
        },
      );
    } catch (error) {
      return await reject(error, request);
    }
    if (outcome === "busy") {
      return await reject(
        new SmileIdError("replayed", "This callback's result is being processed by another delivery right now"),
        request,
      );
    }
    // Only a key known to be marked done may answer the same bytes from memory.
    if (!unfinished && pair !== undefined) {
      bodies.remember(pair, text, onDuplicate ? verified : null, readNow(clock), replayTtlSeconds);
    }
    return outcome === "duplicate"
      ? await duplicate(verified, request)
      : Response.json({ ok: true, code: "processed" });
  };
}
