/**
 * {@linkcode verifyCallback}: checks a callback Smile ID posted to a webhook (size, signature,
 * shape, freshness), can confirm it against the authoritative job status, and records it in a
 * replay guard.
 *
 * Smile ID's signature covers only `timestamp + partner_id + "sid_request"`, not the body: it
 * proves that someone holding the API key produced the pair at that time, nothing about the
 * body. `confirm` closes that gap: the result then comes from Smile ID's own job status, and
 * the replay key from that answer, so a forged body can neither pass as the truth nor use up
 * the genuine delivery.
 *
 * @module
 */

import { bytesToText, parseJsonObject, readText } from "./_body.ts";
import { compareWithTruth, pairKey, resultKey } from "./_compare.ts";
import { clockOption, readNow } from "./_clock.ts";
import { ownPairs } from "./_own_pairs.ts";
import { jobStatusSchema, toJobResult, toJobStatus, toText, validate } from "./_schemas.ts";
import { parseTimestamp } from "./_time.ts";
import { SmileIdError, type SmileIdErrorDetails } from "./errors.ts";
import type { JobStatusReader } from "./poll.ts";
import { createMemoryReplayGuard, type ReplayGuard, type ReplayKeyState } from "./replay_guard.ts";
import type { Signer } from "./signature.ts";
import type { Clock, JobResult, JobStatus, JsonObject } from "./types.ts";
import { escapeText, invalidArgument, positiveOption, quote, signalOption } from "./_validate.ts";

/**
 * How {@linkcode verifyCallback} checks a callback.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createSigner, verifyCallback, type VerifyCallbackOptions } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "085", apiKey: "my-api-key" });
 * // Ten minutes after the callback was signed: outside the default 300 s window, inside this one.
 * const clock = { now: () => Date.parse("2024-01-01T00:10:00.000Z") };
 * const options: VerifyCallbackOptions = { toleranceSeconds: 900, clock, replayGuard: false };
 * const body = { ResultCode: "1012", ...(await signer.sign("2024-01-01T00:00:00.000Z")) };
 * assertEquals((await verifyCallback(signer, body, options)).fresh, true);
 * ```
 */
export interface VerifyCallbackOptions {
  /**
   * Largest accepted distance between the callback's timestamp and now, in either direction,
   * in seconds; `false` turns the check off. Without `confirm` a callback outside the window is
   * rejected; with `confirm` it is processed from the authoritative status and reported with
   * `fresh: false`, because Smile ID documents no window and human review can delay a callback.
   *
   * @default {300}
   */
  readonly toleranceSeconds?: number | false;
  /**
   * The clock the freshness window is read on; only its `now` is used, so any `Clock` (such as
   * the `TestClock` that drives the fake Smile ID) fits.
   *
   * @default the system clock (`Date.now`)
   */
  readonly clock?: Pick<Clock, "now">;
  /**
   * Where the callback's replay key is recorded, as the last check: `begin`, then at once
   * `finish`, so that the key is marked done before the callback is returned; `false` records
   * nothing (the caller runs the guard on `replayKey` itself, as `createCallbackHandler` does,
   * which marks the key done only once its `onCallback` has succeeded).
   *
   * @default one in-memory guard shared by every call in this process or isolate that passes none
   */
  readonly replayGuard?: ReplayGuard | false;
  /**
   * Largest accepted body, in bytes.
   *
   * @default {2097152}
   */
  readonly maxBodyBytes?: number;
  /**
   * Fetch the authoritative job status, compare the body with it and key the replay claim on
   * it; needs `reader`. With `confirm: true` written literally, the result is typed
   * {@linkcode ConfirmedCallback}.
   *
   * @default {false}
   */
  readonly confirm?: boolean;
  /** What `confirm` asks, usually the client. */
  readonly reader?: JobStatusReader;
  /** Aborts the `confirm` request. */
  readonly signal?: AbortSignal;
  /**
   * With `confirm`: how long a processed result is remembered, in seconds, so that a later
   * delivery of the same result is a duplicate.
   *
   * @default {2592000} (30 days)
   */
  readonly rememberSeconds?: number;
}

/**
 * A callback's body, typed. `result` is the body itself for a bare result object, and the
 * `result` field for a job-status-shaped body; `raw` is the body exactly as received. Nothing
 * in it is checked against Smile ID: with `confirm`, trust `status` instead.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { CallbackPayload } from "@smile-id-kit/job-status";
 *
 * function resultCode(payload: Pick<CallbackPayload, "result">): string | undefined {
 *   return typeof payload.result === "object" ? payload.result.resultCode : undefined;
 * }
 * assertEquals(resultCode({ result: "No zip uploaded" }), undefined);
 * ```
 */
export interface CallbackPayload {
  /** `"result"`: a bare result object; `"job_status"`: a body shaped like a job-status answer. */
  readonly envelope: "result" | "job_status";
  /** The result the body claims. */
  readonly result: JobResult | string | undefined;
  /** The whole body as a job status, for the `"job_status"` envelope. */
  readonly jobStatus: JobStatus | undefined;
  /** `PartnerParams.user_id` of the result (or the body's `user_id`). */
  readonly userId: string | undefined;
  /** `PartnerParams.job_id` of the result (or the body's `job_id`). */
  readonly jobId: string | undefined;
  /** The signed timestamp, verbatim. */
  readonly timestamp: string;
  /** The signature, verbatim. */
  readonly signature: string;
  /** The body exactly as received, unknown fields included. */
  readonly raw: JsonObject;
}

/**
 * A field where a callback's body and the authoritative job status differ.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { type CallbackMismatch, createClient } from "@smile-id-kit/job-status";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "my-api-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 * const client = createClient({ partnerId: "085", apiKey: "my-api-key", fetch: fake.fetch });
 * const { ResultText: _dropped, ...stripped } = await fake.buildCallback("job-1", { overrides: { ResultCode: "1022" } });
 * const callback = await client.verifyCallback(stripped, { confirm: true });
 * const mismatches: readonly CallbackMismatch[] = callback.mismatches;
 * assertEquals(mismatches, [{ path: "ResultCode", kind: "changed" }, { path: "ResultText", kind: "missing" }]);
 * ```
 */
export interface CallbackMismatch {
  /** Dot path of the field: `"ResultCode"`, `"Actions.Liveness_Check"`, `"history.0.ResultCode"`. */
  readonly path: string;
  /**
   * `"changed"`: both have it, with different values; `"added"`: only the body has it;
   * `"missing"`: only Smile ID's status has it (a body stripped of fields).
   */
  readonly kind: "changed" | "added" | "missing";
}

/**
 * What {@linkcode verifyCallback} checked, without `confirm`: the signature and freshness, not
 * the body. A callback that fails a check is rejected instead.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createSigner, type UnconfirmedCallback, verifyCallback } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "085", apiKey: "my-api-key" });
 * const body = { ResultCode: "1012", PartnerParams: { user_id: "user-1", job_id: "job-1" }, ...(await signer.sign()) };
 * const callback = await verifyCallback(signer, body, { replayGuard: false });
 * if (!callback.confirmed) {
 *   const unconfirmed: UnconfirmedCallback = callback; // no status: only the body's claims
 *   assertEquals(unconfirmed.payload.jobId, "job-1");
 * }
 * assertEquals(callback.confirmed, false);
 * ```
 */
export interface UnconfirmedCallback {
  /** The body, typed. Unchecked claims: the signature does not cover the body. */
  readonly payload: CallbackPayload;
  /**
   * Whether the timestamp was checked and lies within `toleranceSeconds` of now; `false` when
   * the check is off, or (with `confirm`) when the timestamp is outside the window or unreadable.
   */
  readonly fresh: boolean;
  /** Whether `replayKey` was recorded in a replay guard (so this is its first accepted delivery). */
  readonly replayChecked: boolean;
  /** `false`: the authoritative status was not fetched. */
  readonly confirmed: false;
  /**
   * The key this callback is claimed under, 71 or 72 characters whatever the ids' length.
   * Without `confirm`: `pair:<64 hex>`, the SHA-256 of the timestamp and signature pair. With
   * `confirm`: `result:<64 hex>`, the SHA-256 of the user id, the job id and the authoritative
   * answer's outcome (its `job_complete`, `job_success`, `code` and `result`), so that every
   * delivery reporting the same result has the same key whatever its body says.
   */
  readonly replayKey: string;
  /**
   * How long the key must be remembered, in seconds: the rest of the freshness window for a
   * pair (at least 1; 24 hours with `toleranceSeconds: false`), `rememberSeconds` for a result.
   */
  readonly replayTtlSeconds: number;
}

/**
 * A callback confirmed against Smile ID's job status (`confirm: true`): `status` is the truth
 * to act on.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { type ConfirmedCallback, createClient, describeResult } from "@smile-id-kit/job-status";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "my-api-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 * const client = createClient({ partnerId: "085", apiKey: "my-api-key", fetch: fake.fetch });
 * const callback: ConfirmedCallback = await client.verifyCallback(await fake.buildCallback("job-1"), { confirm: true });
 * assertEquals([describeResult(callback.status).decision, callback.mismatches], ["approved", []]);
 * ```
 */
export interface ConfirmedCallback extends Omit<UnconfirmedCallback, "confirmed"> {
  /** `true`: the authoritative status was fetched. */
  readonly confirmed: true;
  /**
   * Smile ID's job status for the callback's user and job, asked after the callback arrived.
   * `jobComplete` can be `false`: Smile ID had no final result when asked.
   */
  readonly status: JobStatus;
  /** Every field where the body differs from `status`; empty when all agree. */
  readonly mismatches: readonly CallbackMismatch[];
  /**
   * What is never compared, because Smile ID signs it afresh for every answer: `signature`,
   * `timestamp`, the receipt URL (`kyc_receipt`, `KYCReceipt`), and
   * the query string of each image link that has one, written as the link's path followed by `?`
   * (`"ImageLinks.selfie_image?"`): the link itself is compared up to its query.
   */
  readonly uncompared: readonly string[];
}

/**
 * What {@linkcode verifyCallback} checked: {@linkcode ConfirmedCallback} when `confirmed` is
 * `true` (with Smile ID's `status`), else {@linkcode UnconfirmedCallback}. A callback that
 * fails a check is rejected instead.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { VerifiedCallback } from "@smile-id-kit/job-status";
 *
 * function resultCode(callback: VerifiedCallback): string | undefined {
 *   if (!callback.confirmed) return undefined; // only Smile ID's own status is trusted
 *   const result = callback.status.result;
 *   return typeof result === "object" ? result.resultCode : undefined;
 * }
 * const payload = { envelope: "result", result: undefined, jobStatus: undefined, userId: "u", jobId: "j", timestamp: "t", signature: "s", raw: {} } as const;
 * assertEquals(resultCode({ payload, fresh: true, replayChecked: true, confirmed: false, replayKey: "pair:…", replayTtlSeconds: 300 }), undefined);
 * ```
 */
export type VerifiedCallback = UnconfirmedCallback | ConfirmedCallback;

const DEFAULT_TOLERANCE_SECONDS = 300;
const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;
const DEFAULT_REMEMBER_SECONDS = 30 * 86_400;
const UNBOUNDED_PAIR_TTL_SECONDS = 86_400;
/** The lease `verifyCallback` takes between its `begin` and its `finish`, should it crash in between. */
const VERIFY_LEASE_SECONDS = 60;
const WHAT = "The callback body";
let sharedGuard: ReplayGuard | undefined;

/** Options checked once, with defaults applied; `createCallbackHandler` checks its own with it. */
export interface CallbackSettings {
  readonly tolerance: number | false;
  readonly maxBytes: number;
  readonly rememberSeconds: number;
  readonly clock: Pick<Clock, "now">;
}

/** Checks the options that do not depend on the call; throws `invalid_argument`. */
export function callbackSettings(options: VerifyCallbackOptions): CallbackSettings {
  const clock = clockOption(options.clock, false);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (tolerance !== false && !(typeof tolerance === "number" && Number.isFinite(tolerance) && tolerance >= 0)) {
    throw invalidArgument("Option toleranceSeconds", "a non-negative number of seconds or false", tolerance);
  }
  return {
    tolerance,
    maxBytes: positiveOption(options.maxBodyBytes, "maxBodyBytes") ?? DEFAULT_MAX_BODY_BYTES,
    rememberSeconds: positiveOption(options.rememberSeconds, "rememberSeconds") ?? DEFAULT_REMEMBER_SECONDS,
    clock,
  };
}

/**
 * Verifies a callback Smile ID posted, with the partner's `signer`: a `Request`, the raw body
 * (`string` or `Uint8Array`) or the parsed JSON object. Checks, in order, each rejecting with a
 * `SmileIdError`:
 *
 * 1. size: at most `maxBodyBytes`, refused without reading further (`payload_too_large`); a
 *    body that breaks off or was already read is `body_unreadable`;
 * 2. a JSON object (`unexpected_response`);
 * 3. string `signature` and `timestamp` present (`missing_signature`);
 * 4. the signature matches the timestamp for the partner, and is not the pair of one of the
 *    latest 10,000 requests of the client whose signer or reader this is (`signature_mismatch`:
 *    anyone who saw the request can copy its pair);
 * 5. the body has the documented shape, a bare result object or a job-status-shaped body
 *    (`schema`; the error names fields and expected types, never the values received);
 * 6. the timestamp reads as a time (`invalid_timestamp`) within `toleranceSeconds` of now
 *    (`stale_timestamp`, `future_timestamp`); with `confirm` none of these rejects: the result
 *    is `fresh: false` instead;
 * 7. with `confirm: true`, the authoritative status is fetched through `reader` (with history
 *    and image links when the body has them, spelled `image_links` or `ImageLinks`;
 *    `confirm_failed` when that fails) and must name the body's user and job
 *    (`answer_mismatch`); the body is compared with it field by field, both ways, nested objects
 *    and arrays included, at any depth, into `mismatches`; `ImageLinks` is compared with the
 *    answer's `image_links`, link URLs without their query string, and receipt URLs not at all,
 *    since Smile ID signs those afresh for every answer (both are listed in `uncompared`);
 * 8. the replay key is recorded in `replayGuard`, `begin` then `finish` (`replayed` when the
 *    key is already done or leased, `replay_guard` when the store fails).
 *
 * Without `confirm` the replay key is derived from the signature and timestamp pair, remembered
 * for the rest of the freshness window. With `confirm` it is derived from the authoritative answer and
 * remembered for `rememberSeconds`: a forged body under a genuine pair is processed as what
 * Smile ID says, and the genuine delivery of the same result is then a duplicate, never lost.
 * Callback bodies carry personal data, so no error includes them. The result is a
 * {@linkcode ConfirmedCallback} with `confirm: true` (typed so when `confirm: true` is written
 * literally), else an {@linkcode UnconfirmedCallback}.
 *
 * @example Verify a callback (signed here with the same key, as Smile ID would)
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createSigner, verifyCallback } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "085", apiKey: "my-api-key" });
 * const body = {
 *   ResultCode: "1012",
 *   ResultText: "ID Number Validated",
 *   PartnerParams: { user_id: "user-1", job_id: "job-1", job_type: 5 },
 *   ...(await signer.sign()),
 * };
 * const request = new Request("https://example.com/smile-callback", { method: "POST", body: JSON.stringify(body) });
 *
 * const callback = await verifyCallback(signer, request);
 * assertEquals([callback.payload.jobId, callback.fresh, callback.replayChecked], ["job-1", true, true]);
 * assertEquals(callback.replayKey.length, "pair:".length + 64); // a SHA-256 of the pair
 * ```
 *
 * @example Confirm a forged body against Smile ID (here the fake from `./testing`)
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient, verifyCallback } from "@smile-id-kit/job-status";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "my-api-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1", result: { ResultCode: "1022", ResultText: "No Match" } });
 * const client = createClient({ partnerId: "085", apiKey: "my-api-key", fetch: fake.fetch });
 * const forged = await fake.buildCallback("job-1", { overrides: { ResultCode: "1012" } });
 *
 * const callback = await verifyCallback(client.signer, forged, { reader: client, confirm: true });
 * assertEquals(callback.mismatches, [{ path: "ResultCode", kind: "changed" }]);
 * assertEquals(typeof callback.status.result === "object" && callback.status.result.resultCode, "1022");
 * ```
 */
export function verifyCallback(
  signer: Signer,
  input: Request | string | Uint8Array | JsonObject,
  options: VerifyCallbackOptions & { readonly confirm: true },
): Promise<ConfirmedCallback>;
/** Verifies a callback Smile ID posted; see the first signature. */
export function verifyCallback(
  signer: Signer,
  input: Request | string | Uint8Array | JsonObject,
  options?: VerifyCallbackOptions,
): Promise<VerifiedCallback>;
export async function verifyCallback(
  signer: Signer,
  input: Request | string | Uint8Array | JsonObject,
  options: VerifyCallbackOptions = {},
): Promise<VerifiedCallback> {
  if (typeof signer?.verify !== "function") {
    throw invalidArgument("Signer", "a Signer from createSigner", signer);
  }
  if (typeof options !== "object" || options === null) throw invalidArgument("Callback options", "an object", options);
  const { reader, confirm, signal, replayGuard } = options;
  if (confirm && typeof reader?.getJobStatus !== "function") {
    throw new SmileIdError(
      "invalid_argument",
      "Option confirm needs a reader to fetch the job status: use client.verifyCallback or pass reader",
    );
  }
  signalOption(signal);
  if (replayGuard !== undefined && replayGuard !== false && !isReplayGuard(replayGuard)) {
    throw invalidArgument("Option replayGuard", `false or ${GUARD_SHAPE}`, replayGuard);
  }
  const { tolerance, maxBytes, rememberSeconds, clock } = callbackSettings(options);
  const guard = replayGuard ?? (sharedGuard ??= createMemoryReplayGuard());

  // 1–2: size and JSON object.
  const json = await readJson(input, maxBytes);

  // 3–4: signature.
  const { signature, timestamp } = json;
  if (typeof signature !== "string" || typeof timestamp !== "string" || !signature || !timestamp) {
    throw new SmileIdError(
      "missing_signature",
      `The callback is not signed: expected string fields signature and timestamp, got ${quote(signature)} and ${
        quote(timestamp)
      }`,
    );
  }
  if (!(await signer.verify(timestamp, signature))) {
    throw new SmileIdError(
      "signature_mismatch",
      `The callback signature ${quote(signature)} does not match timestamp ${quote(timestamp)} for partner ${
        quote(signer.partnerId)
      }`,
    );
  }

  // A pair one of the client's own requests carried, which anyone who saw the request can copy.
  if (ownPairs.get(signer)?.has(timestamp) || ownPairs.get(reader!)?.has(timestamp)) {
    throw new SmileIdError(
      "signature_mismatch",
      "The callback carries the pair of a request this client sent, which anyone who saw the request can copy",
    );
  }

  // 5: shape.
  const payload = toPayload(json, timestamp, signature);

  // 6: freshness. Outside the window, a callback is rejected only when nothing else can vouch for it.
  let fresh = false;
  let pairTtl = UNBOUNDED_PAIR_TTL_SECONDS;
  if (tolerance !== false) {
    const current = readNow(clock);
    const at = parseTimestamp(timestamp);
    if (at === undefined) {
      if (!confirm) {
        throw new SmileIdError(
          "invalid_timestamp",
          `The callback timestamp ${quote(timestamp)} is not a readable time`,
        );
      }
    } else {
      const skew = current - at;
      fresh = Math.abs(skew) <= tolerance * 1000;
      if (!fresh && !confirm) {
        throw new SmileIdError(
          skew > 0 ? "stale_timestamp" : "future_timestamp",
          `The callback timestamp ${quote(timestamp)} is ${Math.round(Math.abs(skew) / 1000)} s in the ${
            skew > 0 ? "past" : "future"
          }; expected at most ${tolerance} s`,
        );
      }
      pairTtl = Math.max(1, Math.ceil(tolerance - skew / 1000));
    }
  }

  // 7: confirm.
  let outcome: VerifiedCallback;
  if (confirm) {
    const { userId, jobId } = payload;
    if (!userId || !jobId) {
      const absent = [userId ? "" : "PartnerParams.user_id", jobId ? "" : "PartnerParams.job_id"].filter(Boolean);
      throw new SmileIdError("schema", `${WHAT} cannot be confirmed: it names no ${absent.join(" and no ")}`);
    }
    const asked = (options as InternalVerifyOptions)[beforeConfirm]?.(payload) ?? reader!;
    const status = await confirmStatus(asked, payload, signal);
    const { mismatches, uncompared } = compareWithTruth(payload, status);
    outcome = {
      payload,
      fresh,
      replayChecked: false,
      confirmed: true,
      status,
      mismatches,
      uncompared,
      replayKey: await resultKey(userId, jobId, status),
      replayTtlSeconds: rememberSeconds,
    };
  } else {
    outcome = {
      payload,
      fresh,
      replayChecked: false,
      confirmed: false,
      replayKey: await pairKey(timestamp, signature),
      replayTtlSeconds: pairTtl,
    };
  }

  // 8: replay guard, last, so that a callback that failed any check can be delivered again.
  if (!guard) return outcome;
  const { replayKey, replayTtlSeconds } = outcome;
  let begun: ReplayKeyState;
  try {
    begun = checkedState(await guard.begin(replayKey, Math.min(replayTtlSeconds, VERIFY_LEASE_SECONDS)));
  } catch (error) {
    throw guardFailed("begin", error);
  }
  if (begun.state !== "claimed") {
    throw new SmileIdError(
      "replayed",
      confirm
        ? "The result this callback reports (as Smile ID's job status has it) was already accepted once"
        : `The callback signed at ${quote(timestamp)} was already accepted once`,
    );
  }
  try {
    await guard.finish(replayKey, begun.token, replayTtlSeconds);
  } catch (error) {
    // Unmarked, the key must not stay leased either: a redelivery should be accepted.
    await Promise.resolve().then(() => guard.abandon(replayKey, begun.token)).catch(() => {});
    throw guardFailed("finish", error);
  }
  return { ...outcome, replayChecked: true };
}

/** The shape a replay guard must have, as option errors describe it. */
export const GUARD_SHAPE = "an object with begin, finish and abandon methods";

/** Whether `value` has the methods of a {@linkcode ReplayGuard}. */
export function isReplayGuard(value: unknown): value is ReplayGuard {
  const guard = value as Partial<ReplayGuard> | null | undefined;
  return typeof guard?.begin === "function" && typeof guard.finish === "function" &&
    typeof guard.abandon === "function";
}

/** What a guard's `begin` resolved with, if it is a {@linkcode ReplayKeyState}; throws otherwise. */
export function checkedState(state: unknown): ReplayKeyState {
  const value = state as Partial<Record<string, unknown>> | null | undefined;
  if (value?.state === "busy" || value?.state === "done") return value as ReplayKeyState;
  if (value?.state === "claimed" && typeof value.token === "string" && value.token !== "") {
    return value as ReplayKeyState;
  }
  throw new TypeError(`begin resolved with ${quote(state)}, expected { state: "claimed", token } or busy or done`);
}

/**
 * Internal to the library (not exported from its entry points): `createCallbackHandler` passes,
 * under this key, a function that `verifyCallback` calls with the payload right before `confirm`
 * asks Smile ID. It may throw a `SmileIdError` to refuse the callback without a request, or
 * return the reader to ask instead of `reader`.
 */
export const beforeConfirm: unique symbol = Symbol("beforeConfirm");

/** {@linkcode VerifyCallbackOptions} with the library's internal hook. */
export interface InternalVerifyOptions extends VerifyCallbackOptions {
  readonly [beforeConfirm]?: (payload: CallbackPayload) => JobStatusReader | undefined;
}

/**
 * Reads a callback `Request`'s body as text, within `maxBytes` (`payload_too_large`); a body that
 * breaks off or was already read is `body_unreadable`.
 */
export async function readCallbackText(request: Request, maxBytes: number): Promise<string> {
  const used = request.bodyUsed;
  try {
    return await readText(request, maxBytes, WHAT);
  } catch (error) {
    if (error instanceof SmileIdError) throw error;
    throw new SmileIdError(
      "body_unreadable",
      used
        ? `${WHAT} was already read by other code: pass the Request before anything reads it, or pass the body`
        : `${WHAT} could not be read: a body parser (express.json() or another) may have read it first, so mount ` +
          "the handler before any; or the client disconnected mid-upload",
      { cause: error },
    );
  }
}

/** Parses a callback body's text as a JSON object (`unexpected_response` otherwise, quoting none of it). */
export function parseCallbackText(text: string): JsonObject {
  return parseJsonObject(text, WHAT, false);
}

/** Reads the input as a JSON object, within `maxBytes`; a broken or used `Request` body is `body_unreadable`. */
async function readJson(input: Request | string | Uint8Array | JsonObject, maxBytes: number): Promise<JsonObject> {
  if (input instanceof Request) return parseJsonObject(await readCallbackText(input, maxBytes), WHAT, false);
  if (input instanceof Uint8Array) return parseJsonObject(bytesToText(input, maxBytes, WHAT), WHAT, false);
  if (typeof input === "string") {
    if (input.length > maxBytes || (input.length * 3 > maxBytes && new TextEncoder().encode(input).length > maxBytes)) {
      throw new SmileIdError("payload_too_large", `${WHAT} is larger than the limit of ${maxBytes} bytes`);
    }
    return parseJsonObject(input, WHAT, false);
  }
  if (typeof input === "object" && input !== null) {
    if (Array.isArray(input)) {
      throw new SmileIdError("unexpected_response", `${WHAT} is not a JSON object: got an array`);
    }
    return input;
  }
  throw invalidArgument("The callback input", "a Request, a string, a Uint8Array or a JSON object", input);
}

/** The store behind a replay guard failed. */
export function guardFailed(operation: "begin" | "finish" | "abandon", error: unknown): SmileIdError {
  return new SmileIdError(
    "replay_guard",
    `The replay guard could not ${operation} the callback's key: ${
      error instanceof Error ? escapeText(error.message) : "it failed"
    }`,
    { cause: error },
  );
}

function toPayload(json: JsonObject, timestamp: string, signature: string): CallbackPayload {
  let result: JobResult | string | undefined;
  let jobStatus: JobStatus | undefined;
  if ("job_complete" in json) {
    validate(jobStatusSchema, json, WHAT, undefined, { hideValues: true });
    jobStatus = toJobStatus(json);
    result = jobStatus.result;
  } else {
    // A bare result object: any JSON object is one (readJson has made sure it is one).
    result = toJobResult(json);
  }
  const params = typeof result === "object" ? result.partnerParams : undefined;
  return {
    envelope: jobStatus ? "job_status" : "result",
    result,
    jobStatus,
    userId: params?.userId ?? toText(json.user_id),
    jobId: params?.jobId ?? toText(json.job_id),
    timestamp,
    signature,
    raw: json,
  };
}

/** Fetches the truth for the payload's job; failures become `confirm_failed` or `answer_mismatch`. */
async function confirmStatus(
  reader: JobStatusReader,
  payload: CallbackPayload,
  signal: AbortSignal | undefined,
): Promise<JobStatus> {
  const userId = payload.userId!;
  const jobId = payload.jobId!;
  let status: JobStatus;
  try {
    status = await reader.getJobStatus(
      {
        userId,
        jobId,
        includeHistory: payload.raw.history !== undefined,
        // Job-status answers spell it image_links; some callbacks carry ImageLinks.
        includeImageLinks: (payload.raw.image_links ?? payload.raw.ImageLinks) !== undefined,
      },
      signal ? { signal } : undefined,
    );
  } catch (error) {
    // An answer about another job is no failure to reach Smile ID; the client reports it so.
    if (error instanceof SmileIdError && error.code === "answer_mismatch") throw error;
    const cause = error instanceof SmileIdError ? error : undefined;
    throw new SmileIdError(
      "confirm_failed",
      `The callback could not be confirmed with Smile ID: ${
        cause ? `${cause.code}: ${cause.message}` : "the job status reader failed"
      }`,
      // An absent detail is `undefined` either way.
      {
        cause: error,
        status: cause?.status,
        smileCode: cause?.smileCode,
        retryAfterMs: cause?.retryAfterMs,
      } as SmileIdErrorDetails,
    );
  }
  const params = typeof status.result === "object" ? status.result.partnerParams : undefined;
  for (const [field, value, expected] of [["user_id", params?.userId, userId], ["job_id", params?.jobId, jobId]]) {
    if (value !== undefined && value !== expected) {
      throw new SmileIdError(
        "answer_mismatch",
        `Smile ID's job status names another PartnerParams.${field} than the callback it was asked for`,
      );
    }
  }
  return status;
}
