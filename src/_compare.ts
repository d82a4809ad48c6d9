// Comparison of a callback body with Smile ID's authoritative answer, and the replay keys: what
// `verifyCallback` does with `confirm`. Internal.
//
// Both walks over received JSON (the comparison and the canonical form) are iterative, on an
// explicit stack, so that no nesting depth a body under `maxBodyBytes` can reach (a million
// levels fit in 2 MiB) ends in a `RangeError`. Neither builds an object out of received keys:
// a `__proto__` key is compared like any other, never assigned onto a prototype.

import { isJsonObject } from "./_schemas.ts";
import type { CallbackMismatch, CallbackPayload } from "./callback.ts";
import type { JobStatus, JsonObject, JsonValue } from "./types.ts";

/** Top-level fields Smile ID signs afresh for every answer: never compared. */
const SIGNED = ["signature", "timestamp"];
/** Receipt URLs, which embed the answer's own signature and timestamp, so change with every answer. */
const RECEIPTS = ["kyc_receipt", "KYCReceipt", "kyb_receipt", "KYBReceipt"];
/** Image links, as job-status answers (`image_links`) and some callbacks (`ImageLinks`) spell them. */
const LINKS = ["image_links", "ImageLinks"];

/** What {@linkcode compareWithTruth} found. */
export interface Comparison {
  readonly mismatches: CallbackMismatch[];
  /**
   * Paths not compared: `signature`, `timestamp`, a receipt URL, and each image link whose
   * query string (signed afresh per answer) was left out, written as its path followed by `?`.
   */
  readonly uncompared: string[];
}

/** A dot path, built only when a mismatch is reported. */
type Path = { readonly parent: Path; readonly key: string } | undefined;
/** One pair of values still to compare; `absent` on a side that lacks it. */
type Task = readonly [body: JsonValue | typeof absent, truth: JsonValue | typeof absent, path: Path, links: boolean];
const absent = Symbol("absent");

/**
 * Compares a callback body with the part of Smile ID's answer the body claims to carry (the
 * whole answer for a job-status-shaped body, the result for a bare one, with the job's history
 * and image links beside it when the body has them), field by field, both ways.
 */
export function compareWithTruth(payload: CallbackPayload, status: JobStatus): Comparison {
  const body = payload.raw;
  const truth: JsonObject = payload.envelope === "job_status"
    ? status.raw
    : typeof status.result === "object"
    ? status.result.raw
    : {};
  const truthLinks = linksOf(status.raw);
  const uncompared = [...SIGNED];
  for (const key of RECEIPTS) if (Object.hasOwn(body, key) || Object.hasOwn(truth, key)) uncompared.push(key);

  // Top-level members, paired by meaning: both spellings of image links are the answer's links.
  const tasks: Task[] = [];
  const skip = (key: string) => SIGNED.includes(key) || RECEIPTS.includes(key);
  let bodyHasLinks = false;
  for (const key of Object.keys(body)) {
    if (skip(key)) continue;
    const links = LINKS.includes(key);
    bodyHasLinks ||= links;
    const truthValue = links ? truthLinks : Object.hasOwn(truth, key) ? truth[key]! : absent;
    // A bare result carries the job's history beside it only when the body has it.
    const other = key === "history" && payload.envelope === "result" ? status.raw.history ?? absent : truthValue;
    tasks.push([body[key]!, other, { parent: undefined, key }, links]);
  }
  if (payload.envelope === "job_status") {
    for (const key of Object.keys(truth)) {
      if (skip(key) || Object.hasOwn(body, key) || (LINKS.includes(key) && bodyHasLinks)) continue;
      tasks.push([absent, truth[key]!, { parent: undefined, key }, false]);
    }
  } else {
    for (const key of Object.keys(truth)) {
      if (skip(key) || Object.hasOwn(body, key) || LINKS.includes(key) || key === "history") continue;
      tasks.push([absent, truth[key]!, { parent: undefined, key }, false]);
    }
  }
  const mismatches = walk(tasks.reverse(), uncompared);
  return { mismatches, uncompared };
}

/** The answer's image links, whichever spelling it uses. */
function linksOf(raw: JsonObject): JsonValue | typeof absent {
  for (const key of LINKS) if (Object.hasOwn(raw, key)) return raw[key]!;
  return absent;
}

/**
 * Walks the pairs on `stack` depth first, in the order of the body's keys then the truth's,
 * and lists every path where they differ. Image links are compared up to their query string.
 */
function walk(stack: Task[], uncompared: string[]): CallbackMismatch[] {
  const out: CallbackMismatch[] = [];
  for (let task = stack.pop(); task !== undefined; task = stack.pop()) {
    const [body, truth, path, links] = task;
    if (truth === absent) out.push({ path: pathText(path), kind: "added" });
    else if (body === absent) out.push({ path: pathText(path), kind: "missing" });
    else if (isJsonObject(body) && isJsonObject(truth)) {
      const children: Task[] = [];
      for (const key of Object.keys(body)) {
        children.push([body[key]!, Object.hasOwn(truth, key) ? truth[key]! : absent, { parent: path, key }, links]);
      }
      for (const key of Object.keys(truth)) {
        if (!Object.hasOwn(body, key)) children.push([absent, truth[key]!, { parent: path, key }, links]);
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    } else if (Array.isArray(body) && Array.isArray(truth)) {
      for (let i = Math.max(body.length, truth.length) - 1; i >= 0; i--) {
        stack.push([i < body.length ? body[i]! : absent, i < truth.length ? truth[i]! : absent, {
          parent: path,
          key: String(i),
        }, links]);
      }
    } else if (links && typeof body === "string" && typeof truth === "string") {
      const bare = withoutQuery(body);
      if (bare !== withoutQuery(truth)) out.push({ path: pathText(path), kind: "changed" });
      else if (bare !== body || bare !== truth) uncompared.push(`${pathText(path)}?`);
    } else if (!sameLeaf(body, truth)) out.push({ path: pathText(path), kind: "changed" });
  }
  return out;
}

/** Two values that are not both objects or both arrays: equal only as the same JSON scalar. */
function sameLeaf(body: JsonValue, truth: JsonValue): boolean {
  if (typeof body === "object" && body !== null) return false; // a container against anything else
  return body === truth || ((body ?? null) === null && (truth ?? null) === null);
}

/** An image link URL up to its query string or fragment, which S3 signs per answer (`?X-Amz-…`). */
function withoutQuery(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function pathText(path: Path): string {
  const keys: string[] = [];
  for (let at = path; at !== undefined; at = at.parent) keys.push(at.key);
  return keys.reverse().join(".");
}

/**
 * `result:<64 hex>`: SHA-256 over the canonical JSON of `[userId, jobId, outcome]`, where the
 * outcome is the authoritative answer's `job_complete`, `job_success`, `code` and `result`. Every
 * delivery reporting the same result has the same key, whatever its body says; its length is
 * fixed, whatever the ids' length.
 */
export async function resultKey(userId: string, jobId: string, status: JobStatus): Promise<string> {
  const { job_complete, job_success, code, result } = status.raw;
  return `result:${await sha256Hex(
    canonical([userId, jobId, { job_complete, job_success, code, result } as JsonObject]),
  )}`;
}

/** `pair:<64 hex>`: SHA-256 over the canonical JSON of `[timestamp, signature]`. */
export async function pairKey(timestamp: string, signature: string): Promise<string> {
  return `pair:${await sha256Hex(canonical([timestamp, signature]))}`;
}

const HEX = /* @__PURE__ */ Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  let hex = "";
  for (const byte of digest) hex += HEX[byte];
  return hex;
}

/** A container being written out, and how far. */
interface Frame {
  readonly value: JsonObject | readonly (JsonValue | undefined)[];
  /** The sorted keys with a defined value, for an object; `undefined` for an array. */
  readonly keys: string[] | undefined;
  next: number;
}

/**
 * JSON with object keys sorted at every level, absent (`undefined`) members left out and
 * `undefined` array items written as `null`. Iterative: any depth.
 */
export function canonical(root: JsonValue | undefined): string {
  let out = "";
  const stack: Frame[] = [];
  let value: JsonValue | undefined = root;
  for (;;) {
    if (Array.isArray(value)) {
      out += "[";
      stack.push({ value, keys: undefined, next: 0 });
    } else if (isJsonObject(value)) {
      const object = value;
      out += "{";
      stack.push({ value, keys: Object.keys(object).sort().filter((key) => object[key] !== undefined), next: 0 });
    } else {
      out += JSON.stringify(value ?? null);
    }
    // Close every finished container, then move on to the next member or item.
    for (;;) {
      const frame = stack.at(-1);
      if (frame === undefined) return out;
      const { keys } = frame;
      const size = keys === undefined ? (frame.value as readonly unknown[]).length : keys.length;
      if (frame.next < size) {
        if (frame.next > 0) out += ",";
        if (keys === undefined) value = (frame.value as readonly (JsonValue | undefined)[])[frame.next];
        else {
          const key = keys[frame.next]!;
          out += `${JSON.stringify(key)}:`;
          value = (frame.value as JsonObject)[key];
        }
        frame.next++;
        break;
      }
      out += keys === undefined ? "]" : "}";
      stack.pop();
    }
  }
}
