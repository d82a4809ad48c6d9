/**
 * {@linkcode verifyCallback}: checks a callback Smile ID posted to a webhook (signature,
 * freshness, replay, shape) and can confirm its contents against the authoritative job status.
 *
 * Smile ID's signature covers only `timestamp + partner_id + "sid_request"`, not the body: it
 * proves that someone holding the API key produced the pair at that time, nothing about the
 * body. The freshness window, the replay guard and `confirm` close that gap.
 *
 * @module
 */

import { bytesToText, parseJsonObject, readText } from "./_body.ts";
import { jobResultSchema, jobStatusSchema, toJobResult, toJobStatus, validate } from "./_schemas.ts";
import { parseTimestamp } from "./_time.ts";
import { invalidArgument, quote, SmileIdError } from "./errors.ts";
import type { JobStatusReader } from "./poll.ts";
import type { Signer } from "./signature.ts";
import type { JobResult, JobStatus, JsonObject, JsonValue } from "./types.ts";

/**
 * Remembers callback signatures already accepted, so that a captured one cannot be used
 * twice. The default, {@linkcode createMemoryReplayGuard}, lives in one process or isolate;
 * with several instances, back it with a shared store (Redis, Deno KV, Workers KV, a
 * database) so that every instance sees every key.
 *
 * @example A guard backed by any key-value store with expiry
 * ```ts
 * import type { ReplayGuard } from "@smile-id-kit/job-status";
 *
 * interface Store {
 *   get(key: string): Promise<string | null>;
 *   set(key: string, value: string, options: { ttlSeconds: number }): Promise<void>;
 * }
 * function storeGuard(store: Store): ReplayGuard {
 *   return {
 *     seen: async (key) => (await store.get(`smile-callback:${key}`)) !== null,
 *     remember: (key, ttlSeconds) => store.set(`smile-callback:${key}`, "1", { ttlSeconds }),
 *   };
 * }
 * ```
 */
export interface ReplayGuard {
  /** Whether `key` was remembered and has not expired. */
  seen(key: string): Promise<boolean>;
  /** Remembers `key` for `ttlSeconds` (after that, freshness rejects the pair anyway). */
  remember(key: string, ttlSeconds: number): Promise<void>;
}

/**
 * Creates an in-memory {@linkcode ReplayGuard} holding at most `maxEntries` keys (default
 * 10000); expired keys are dropped first, then the oldest. Its memory is per process or
 * isolate: a replay sent to another instance is not caught.
 *
 * @example
 * ```ts
 * import { createMemoryReplayGuard } from "@smile-id-kit/job-status";
 *
 * const guard = createMemoryReplayGuard({ maxEntries: 1000 });
 * await guard.remember("pair", 300);
 * console.log(await guard.seen("pair"), await guard.seen("other")); // true false
 * ```
 */
export function createMemoryReplayGuard(
  options: { readonly maxEntries?: number; readonly now?: () => number } = {},
): ReplayGuard {
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw invalidArgument("Option maxEntries", "a positive integer", maxEntries);
  }
  const now = options.now ?? Date.now;
  const expiries = new Map<string, number>();
  return {
    seen(key) {
      const expiry = expiries.get(key);
      if (expiry !== undefined && expiry <= now()) expiries.delete(key);
      return Promise.resolve(expiry !== undefined && expiry > now());
    },
    remember(key, ttlSeconds) {
      const time = now();
      expiries.delete(key);
      // Oldest first (a Map keeps insertion order): drop expired entries, and the oldest live
      // ones while the map is full; stop at the first live entry once there is room. Each entry
      // is dropped once, so a full guard costs O(1) per call, not a walk over every key.
      for (const [k, expiry] of expiries) {
        if (expiries.size < maxEntries && expiry > time) break;
        expiries.delete(k);
      }
      expiries.set(key, time + ttlSeconds * 1000);
      return Promise.resolve();
    },
  };
}

/**
 * How {@linkcode verifyCallback} checks a callback.
 *
 * @example
 * ```ts
 * import { createMemoryReplayGuard, createSigner, type VerifyCallbackOptions } from "@smile-id-kit/job-status";
 *
 * const options: VerifyCallbackOptions = {
 *   signer: createSigner({ partnerId: "085", apiKey: "my-api-key" }),
 *   toleranceSeconds: 120,
 *   replayGuard: createMemoryReplayGuard(),
 * };
 * console.log(options.toleranceSeconds);
 * ```
 */
export interface VerifyCallbackOptions {
  /** The partner's signer; the callback's signature must match its timestamp for this partner. */
  readonly signer: Signer;
  /**
   * Largest accepted distance between the callback's timestamp and now, in either direction,
   * in seconds (default 300); `false` turns the check off.
   */
  readonly toleranceSeconds?: number | false;
  /** Current time in milliseconds (default `Date.now`). */
  readonly now?: () => number;
  /**
   * Where accepted signatures are remembered (default: one in-memory guard shared by every
   * call in this process or isolate that passes none); `false` turns the check off.
   */
  readonly replayGuard?: ReplayGuard | false;
  /** Largest accepted body, in bytes (default 2 MiB). */
  readonly maxBodyBytes?: number;
  /** Fetch the authoritative job status and compare the body with it; needs `reader`. */
  readonly confirm?: boolean;
  /** What `confirm` asks, usually the client. */
  readonly reader?: JobStatusReader;
  /** Aborts the `confirm` request. */
  readonly signal?: AbortSignal;
}

/**
 * A callback's body, typed. `result` is the body itself for a bare result object, and the
 * `result` field for a job-status-shaped body; `raw` is the body exactly as received.
 *
 * @example
 * ```ts
 * import type { CallbackPayload } from "@smile-id-kit/job-status";
 *
 * function resultCode(payload: CallbackPayload): string | undefined {
 *   return typeof payload.result === "object" ? payload.result.resultCode : undefined;
 * }
 * ```
 */
export interface CallbackPayload {
  /** `"result"`: a bare result object; `"job_status"`: a body shaped like a job-status answer. */
  readonly envelope: "result" | "job_status";
  /** The result the callback reports. */
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
 * What {@linkcode verifyCallback} checked. A callback that fails a check is rejected instead.
 *
 * @example
 * ```ts
 * import type { VerifiedCallback } from "@smile-id-kit/job-status";
 *
 * function trusted(callback: VerifiedCallback): boolean {
 *   return callback.confirmed && callback.mismatches?.length === 0;
 * }
 * ```
 */
export interface VerifiedCallback {
  /** The body, typed. */
  readonly payload: CallbackPayload;
  /** Always `"valid"`: an invalid signature rejects. It says nothing about the body. */
  readonly signature: "valid";
  /** Whether the timestamp was checked against the tolerance window (and passed). */
  readonly fresh: boolean;
  /** Whether a replay guard was consulted (and the pair was new). */
  readonly replayChecked: boolean;
  /** Whether the authoritative status was fetched (`confirm: true`). */
  readonly confirmed: boolean;
  /** The authoritative status, when confirmed: trust it over the body. */
  readonly status?: JobStatus;
  /**
   * When confirmed: dot paths of the body's fields that differ from the authoritative status
   * (`"ResultCode"`, `"Actions.Liveness_Check"`); empty when all agree. A difference means a
   * forged body, or a result Smile ID has since replaced.
   */
  readonly mismatches?: string[];
}

const DEFAULT_TOLERANCE_SECONDS = 300;
const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;
const UNBOUNDED_TTL_SECONDS = 86_400;
const WHAT = "The callback body";
let sharedGuard: ReplayGuard | undefined;
const inFlight = /* @__PURE__ */ new WeakMap<ReplayGuard, Set<string>>();

/**
 * Verifies a callback Smile ID posted: a `Request`, the raw body (`string` or `Uint8Array`) or
 * the parsed JSON object. Checks, in order, each rejecting with a `SmileIdError`:
 *
 * 1. size: at most `maxBodyBytes`, refused without reading further (`payload_too_large`);
 * 2. a JSON object (`unexpected_response`);
 * 3. string `signature` and `timestamp` present (`missing_signature`);
 * 4. the signature matches the timestamp for the partner (`signature_mismatch`);
 * 5. the timestamp reads as a time (`invalid_timestamp`) within `toleranceSeconds` of now
 *    (`stale_timestamp`, `future_timestamp`);
 * 6. the signature and timestamp pair was not accepted before (`replayed`); it is remembered
 *    only once every check, `confirm` included, passed, so a delivery that failed can be
 *    retried;
 * 7. the body has the documented shape, either a bare result object or a job-status-shaped
 *    body (`schema`);
 * 8. with `confirm: true`, the authoritative status is fetched through `reader` and the body
 *    compared with it (errors as for `getJobStatus`).
 *
 * The signature does not cover the body: only `confirm` tells whether the body says what
 * Smile ID says. Callback bodies carry personal data, so errors do not include them.
 *
 * @example Verify a callback (signed here with the same key, as Smile ID would)
 * ```ts
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
 * const callback = await verifyCallback(request, { signer });
 * console.log(callback.payload.jobId, callback.fresh, callback.replayChecked); // job-1 true true
 * ```
 */
export async function verifyCallback(
  input: Request | string | Uint8Array | JsonObject,
  options: VerifyCallbackOptions,
): Promise<VerifiedCallback> {
  const { signer, reader, confirm, now = Date.now, signal, replayGuard } = options ?? {};
  if (typeof signer?.verify !== "function") {
    throw new SmileIdError("invalid_argument", "Option signer must be a Signer from createSigner");
  }
  if (confirm && typeof reader?.getJobStatus !== "function") {
    throw new SmileIdError(
      "invalid_argument",
      "Option confirm needs a reader to fetch the job status: use client.verifyCallback or pass reader",
    );
  }
  if (typeof now !== "function") throw invalidArgument("Option now", "a function", now);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidArgument("Option signal", "an AbortSignal", signal);
  }
  if (
    replayGuard !== undefined && replayGuard !== false &&
    (typeof replayGuard?.seen !== "function" || typeof replayGuard.remember !== "function")
  ) {
    throw invalidArgument("Option replayGuard", "false or an object with seen and remember methods", replayGuard);
  }
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (tolerance !== false && !(Number.isFinite(tolerance) && tolerance >= 0)) {
    throw invalidArgument("Option toleranceSeconds", "a non-negative number of seconds or false", tolerance);
  }
  const maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!(Number.isFinite(maxBytes) && maxBytes > 0)) {
    throw invalidArgument("Option maxBodyBytes", "a positive number", maxBytes);
  }
  const guard = replayGuard ?? (sharedGuard ??= createMemoryReplayGuard());

  // 1–2: size and JSON object.
  let json: JsonObject;
  if (input instanceof Request) {
    json = parseJsonObject(await readText(input, maxBytes, WHAT), WHAT, false);
  } else if (input instanceof Uint8Array) {
    json = parseJsonObject(bytesToText(input, maxBytes, WHAT), WHAT, false);
  } else if (typeof input === "string") {
    if (input.length > maxBytes || (input.length * 3 > maxBytes && new TextEncoder().encode(input).length > maxBytes)) {
      throw new SmileIdError("payload_too_large", `${WHAT} is larger than the limit of ${maxBytes} bytes`);
    }
    json = parseJsonObject(input, WHAT, false);
  } else if (typeof input === "object" && input !== null) {
    if (Array.isArray(input)) {
      throw new SmileIdError("unexpected_response", `${WHAT} is not a JSON object: got an array`);
    }
    json = input;
  } else {
    throw invalidArgument("The callback input", "a Request, a string, a Uint8Array or a JSON object", input);
  }

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

  // 5: freshness.
  let ttl = UNBOUNDED_TTL_SECONDS;
  if (tolerance !== false) {
    const at = parseTimestamp(timestamp);
    if (at === undefined) {
      throw new SmileIdError("invalid_timestamp", `The callback timestamp ${quote(timestamp)} is not a readable time`);
    }
    const current = now();
    if (!Number.isFinite(current)) throw invalidArgument("Option now", "a function returning milliseconds", current);
    const skew = current - at;
    if (Math.abs(skew) > tolerance * 1000) {
      throw new SmileIdError(
        skew > 0 ? "stale_timestamp" : "future_timestamp",
        `The callback timestamp ${quote(timestamp)} is ${Math.round(Math.abs(skew) / 1000)} s in the ${
          skew > 0 ? "past" : "future"
        }; expected at most ${tolerance} s`,
      );
    }
    ttl = Math.max(1, Math.ceil(tolerance - skew / 1000));
  }

  // 6: replay. The pair is claimed in `pending` at once, so a concurrent delivery in this
  // isolate is refused, and remembered by the guard only once every check below passed.
  const key = `${timestamp} ${signature}`;
  let pending: Set<string> | undefined;
  if (guard) {
    pending = inFlight.get(guard);
    if (!pending) inFlight.set(guard, pending = new Set());
    if (pending.has(key)) throw replayed(timestamp);
    pending.add(key);
  }
  try {
    if (guard && await guard.seen(key)) throw replayed(timestamp);
    // 7: shape.
    const payload = toPayload(json, timestamp, signature);
    const verified = { payload, signature: "valid", fresh: tolerance !== false, replayChecked: !!guard } as const;
    let outcome: VerifiedCallback = { ...verified, confirmed: false };
    // 8: confirm.
    if (confirm) {
      const { userId, jobId } = payload;
      if (!userId || !jobId) {
        throw new SmileIdError(
          "schema",
          `${WHAT} cannot be confirmed: expected PartnerParams.user_id and job_id, got ${quote(userId)} and ${
            quote(jobId)
          }`,
        );
      }
      const status = await reader!.getJobStatus({ userId, jobId }, { signal });
      const mismatches: string[] = [];
      if (payload.envelope === "job_status") diff(json, status.raw, "", mismatches);
      else diff(json, typeof status.result === "object" ? status.result.raw : {}, "", mismatches);
      outcome = { ...verified, confirmed: true, status, mismatches };
    }
    if (guard) await guard.remember(key, ttl);
    return outcome;
  } finally {
    pending?.delete(key);
  }
}

function toPayload(json: JsonObject, timestamp: string, signature: string): CallbackPayload {
  let result: JobResult | string | undefined;
  let jobStatus: JobStatus | undefined;
  if ("job_complete" in json) {
    validate(jobStatusSchema, json, WHAT);
    jobStatus = toJobStatus(json);
    result = jobStatus.result;
  } else {
    validate(jobResultSchema, json, WHAT);
    result = toJobResult(json);
  }
  const params = typeof result === "object" ? result.partnerParams : undefined;
  return {
    envelope: jobStatus ? "job_status" : "result",
    result,
    jobStatus,
    userId: params?.userId ?? text(json.user_id),
    jobId: params?.jobId ?? text(json.job_id),
    timestamp,
    signature,
    raw: json,
  };
}

const UNCOMPARED = ["signature", "timestamp", "history", "image_links"];

/** Collects the dot paths where `body` says something `truth` does not. */
function diff(body: JsonObject, truth: JsonObject, prefix: string, out: string[]): void {
  for (const key in body) {
    if (!prefix && UNCOMPARED.includes(key)) continue;
    const a = body[key]!;
    const b = truth[key];
    if (isObject(a) && isObject(b)) diff(a, b, `${prefix}${key}.`, out);
    else if (JSON.stringify(a) !== JSON.stringify(b)) out.push(prefix + key);
  }
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: JsonValue | undefined): string | undefined {
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
}

function replayed(timestamp: string): SmileIdError {
  return new SmileIdError("replayed", `The callback signed at ${quote(timestamp)} was already accepted once`);
}
