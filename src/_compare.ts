// Comparison of a callback body with Smile ID's authoritative answer, and the replay keys: what
// `verifyCallback` does with `confirm`. Internal.
//
// Both walks over received JSON (the comparison and the canonical form) are iterative, on an
// explicit stack, so that no nesting depth a body under `maxBodyBytes` can reach (a million
// levels fit in 2 MiB) ends in a `RangeError`. Neither builds an object out of received keys:
// a `__proto__` key is compared like any other, never assigned onto a prototype.

import { isJsonObject } from "./_schemas.ts";
import { SmileIdError } from "./errors.ts";
import type { CallbackMismatch, CallbackPayload } from "./callback.ts";
import type { JobResult, JobStatus, JsonObject, JsonValue } from "./types.ts";

/** Top-level fields Smile ID signs afresh for every answer, compared nowhere: the pair, and receipt URLs (which embed it). */
const SIGNED = ["signature", "timestamp", "kyc_receipt", "KYCReceipt"];
/** Image links, as job-status answers (`image_links`) and some callbacks (`ImageLinks`) spell them. */
const LINKS = ["image_links", "ImageLinks"];

/** What {@linkcode compareWithTruth} found. */
export interface Comparison {
  readonly mismatches: CallbackMismatch[];
  /**
   * Paths not compared: `signature`, `timestamp`, the receipt URLs, and each image link whose
   * query string (signed afresh per answer) was left out, written as its path followed by `?`.
   */
  readonly uncompared: string[];
}

/**
 * A pair of values still to compare (`absent` on a side that lacks it), its path, and where it
 * is: 0 at the body's top level, 1 below it, 2 inside image links.
 */
type Task = [body: JsonValue | typeof absent, truth: JsonValue | typeof absent, path: string, where: 0 | 1 | 2];
const absent = Symbol();

/**
 * Compares a callback body with the part of Smile ID's answer the body claims to carry (the
 * whole answer for a job-status-shaped body; for a bare one the result, with the job's history
 * beside it when the body has one), field by field, both ways, depth first in the order of the
 * body's keys then the answer's. At the top, either spelling of image links is compared with
 * the answer's links, up to each link's query string; the pair and receipts are skipped.
 */
export function compareWithTruth(payload: CallbackPayload, status: JobStatus): Comparison {
  const { raw } = status;
  let truth = raw;
  if (payload.envelope === "result") {
    truth = { ...(status.result as JobResult | undefined)?.raw }; // a string result has no raw: {}
    if (payload.raw.history !== undefined && raw.history !== undefined) truth.history = raw.history;
  }
  const links = raw.image_links ?? raw.ImageLinks ?? absent;
  const mismatches: CallbackMismatch[] = [];
  const uncompared = [...SIGNED];
  const stack: Task[] = [[payload.raw, truth, "", 0]];
  for (let task; (task = stack.pop());) {
    const [body, other, path, where] = task;
    const at = (key: string): string => where === 0 ? key : `${path}.${key}`;
    if (body === absent || other === absent) mismatches.push({ path, kind: body === absent ? "missing" : "added" });
    else if (isJsonObject(body) && isJsonObject(other)) {
      // Pushed last first, so that they are compared in the order of the body's keys, then the answer's.
      const top = where === 0;
      const hasLinks = top && LINKS.some((key) => Object.hasOwn(body, key));
      for (const key of Object.keys(other).reverse()) {
        const skip = top && (SIGNED.includes(key) || (hasLinks && LINKS.includes(key)));
        if (!Object.hasOwn(body, key) && !skip) stack.push([absent, other[key]!, at(key), 1]);
      }
      for (const key of Object.keys(body).reverse()) {
        if (top && SIGNED.includes(key)) continue;
        const isLinks = top && LINKS.includes(key);
        const value = isLinks ? links : Object.hasOwn(other, key) ? other[key]! : absent;
        stack.push([body[key]!, value, at(key), isLinks ? 2 : where || 1]);
      }
    } else if (Array.isArray(body) && Array.isArray(other)) {
      for (let i = Math.max(body.length, other.length) - 1; i >= 0; i--) {
        stack.push([i < body.length ? body[i]! : absent, i < other.length ? other[i]! : absent, at(`${i}`), where]);
      }
    } else if (where === 2 && typeof body === "string" && typeof other === "string") {
      // Compared up to the query string or fragment, which S3 signs per answer (`?X-Amz-…`).
      const bare = withoutQuery(body);
      if (bare !== withoutQuery(other)) mismatches.push({ path, kind: "changed" });
      else if (bare !== body || bare.length !== other.length) uncompared.push(`${path}?`);
    } else if (body !== other) {
      // Scalars differ, or a container meets a scalar or the other kind of container.
      mismatches.push({ path, kind: "changed" });
    }
  }
  return { mismatches, uncompared };
}

function withoutQuery(url: string): string {
  return url.replace(/[?#][\s\S]*$/, "");
}

/**
 * `result:<64 hex>`: SHA-256 over the canonical JSON of `[userId, jobId, outcome]`, where the
 * outcome is the authoritative answer's `job_complete`, `job_success`, `code` and `result`. Every
 * delivery reporting the same result has the same key, whatever its body says; its length is
 * fixed, whatever the ids' length.
 */
export function resultKey(userId: string, jobId: string, status: JobStatus): Promise<string> {
  const { job_complete, job_success, code, result } = status.raw;
  return key("result", [userId, jobId, { job_complete, job_success, code, result } as JsonObject]);
}

/** `pair:<64 hex>`: SHA-256 over the canonical JSON of `[timestamp, signature]`. */
export function pairKey(timestamp: string, signature: string): Promise<string> {
  return key("pair", [timestamp, signature]);
}

/**
 * `<kind>:` and the SHA-256, in hex, of `value` as canonical JSON: object keys sorted at every
 * level, absent (`undefined`) members left out. JSON.stringify recurses: a value nested deeper
 * than the runtime's stack allows (thousands of levels, only in a made-up answer) is a `schema`
 * rejection, not a `RangeError`.
 */
async function key(kind: string, value: JsonValue[]): Promise<string> {
  let text: string;
  try {
    text = JSON.stringify(
      value,
      (_, item) => isJsonObject(item) ? Object.fromEntries(Object.keys(item).sort().map((k) => [k, item[k]])) : item,
    );
  } catch {
    throw new SmileIdError("schema", "Smile ID's job status is nested too deeply");
  }
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `${kind}:${Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}
