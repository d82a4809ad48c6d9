// Comparison of a callback body with Smile ID's authoritative answer, and the replay key
// derived from that answer: what `verifyCallback` does with `confirm`. Internal.

import { isJsonObject } from "./_schemas.ts";
import type { CallbackMismatch, CallbackPayload } from "./callback.ts";
import type { JobStatus, JsonObject, JsonValue } from "./types.ts";

/** Top-level fields never compared, because they differ per request. */
export const UNCOMPARED = ["signature", "timestamp"] as const;

/** The part of the truth a body of this envelope claims to carry. */
export function truthFor(payload: CallbackPayload, status: JobStatus): JsonObject {
  if (payload.envelope === "job_status") return comparable(status.raw);
  const truth: JsonObject = typeof status.result === "object" ? { ...status.result.raw } : {};
  // A bare result may carry the job's history and image links beside it (the bench's bodies do).
  for (const key of ["history", "image_links"]) {
    const value = status.raw[key];
    if (payload.raw[key] !== undefined && value !== undefined) truth[key] = value;
  }
  return comparable(truth);
}

/** A copy without the uncompared fields, image links without their query strings. */
export function comparable(json: JsonObject): JsonObject {
  const copy: JsonObject = {};
  for (const key in json) {
    if ((UNCOMPARED as readonly string[]).includes(key)) continue;
    const value = json[key]!;
    copy[key] = key === "image_links" ? withoutQueries(value) : value;
  }
  return copy;
}

/** Image link URLs are signed per request (`?X-Amz-…`): compare them up to the query string. */
function withoutQueries(value: JsonValue): JsonValue {
  if (typeof value === "string") return value.replace(/[?#][\s\S]*$/, "");
  if (Array.isArray(value)) return value.map(withoutQueries);
  if (isJsonObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutQueries(v)]));
  return value;
}

/** Collects every path where `body` and `truth` differ, walking both. */
export function compare(body: JsonValue, truth: JsonValue, path: string, out: CallbackMismatch[]): void {
  const both = (isJsonObject(body) && isJsonObject(truth)) || (Array.isArray(body) && Array.isArray(truth));
  if (!both) {
    if (canonical(body) !== canonical(truth)) out.push({ path, kind: "changed" });
    return;
  }
  const a = body as Record<string, JsonValue>;
  const b = truth as Record<string, JsonValue>;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const at = path ? `${path}.${key}` : key;
    if (!Object.hasOwn(b, key)) out.push({ path: at, kind: "added" });
    else if (!Object.hasOwn(a, key)) out.push({ path: at, kind: "missing" });
    else compare(a[key]!, b[key]!, at, out);
  }
}

/** `result:<user>/<job>/<sha256 of the authoritative outcome>`; ids URI-encoded so `/` cannot collide. */
export async function resultKey(userId: string, jobId: string, status: JobStatus): Promise<string> {
  const { job_complete, job_success, code, result } = status.raw;
  const outcome = canonical({ job_complete, job_success, code, result } as JsonObject);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(outcome)));
  const hex = Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `result:${encodeURIComponent(userId)}/${encodeURIComponent(jobId)}/${hex}`;
}

/** JSON with object keys sorted at every level, absent (`undefined`) members left out. */
function canonical(value: JsonValue | undefined): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonical(item ?? null)).join(",")}]`;
  if (isJsonObject(value)) {
    const members = Object.keys(value).sort().filter((key) => value[key] !== undefined);
    return `{${members.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}
