// The fake Smile ID's protocol as a pure function: one job-status request in, the answer out
// (status, body, what the request said). It holds no state: the jobs are looked up through the
// `lookup` the caller passes, and the answer is signed by the caller, with its clock and faults.
// The table of answers is documented on src/testing/mod.ts.

import { readText } from "../_body.ts";
import type { Signer } from "../signature.ts";
import type { JsonObject, JsonValue } from "../types.ts";
import { quote } from "../_validate.ts";

/** Largest request body the fake reads. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
export const NOT_AUTHORIZED = "You are not authorized to do that";
export const MISSING_ZIP_CODE = "2314";
export const MISSING_ZIP_RESULT = "No zip file received";
const REQUIRED = ["user_id", "job_id", "partner_id", "timestamp", "signature"] as const;

/** A job as the protocol sees it at the moment of the request. */
export interface JobView {
  readonly userId: string;
  readonly result: JsonObject | string;
  readonly jobSuccess: boolean;
  readonly code: string;
  readonly history: readonly JsonObject[];
  readonly imageLinks: JsonObject;
  readonly missingZip: boolean;
  /** Whether the job can be found yet (`appearsAfterMs` has passed). */
  readonly visible: boolean;
  readonly complete: boolean;
}

/** What the protocol needs besides the request. */
export interface ProtocolContext {
  /** The path of the endpoint, `{basePath}/job_status`. */
  readonly endpoint: string;
  /** The partner's signer: requests must be signed with its key, for its partner id. */
  readonly signer: Signer;
  /** The job with this id, after a request for it passed every check; `undefined` if unknown. */
  readonly lookup: (userId: string, jobId: string) => JobView | undefined;
}

/** What a request carried, as far as it could be read. */
export interface RequestFacts {
  userId?: string;
  jobId?: string;
  partnerId?: string;
  timestamp?: string;
  /** The `history` flag as read (`"true"` counts as `true`); `undefined` if unreadable. */
  history?: boolean;
  /** The `image_links` flag as read; `undefined` if unreadable. */
  imageLinks?: boolean;
  /** The parsed JSON body, when it was a JSON object. */
  body?: JsonObject;
  /** Whether partner id and signature were checked and valid; `undefined` when not checked. */
  signatureValid?: boolean;
}

/** The answer before signing: a 200 body gets `signature` and `timestamp` from the caller. */
export interface ProtocolAnswer {
  readonly status: number;
  readonly body: JsonObject;
  readonly headers?: Record<string, string>;
  /** `job_complete` of a 200 answer. */
  readonly jobComplete?: boolean;
  /** What the request said. */
  readonly facts: RequestFacts;
}

/** Checks one request and builds the answer Smile ID's v1 `job_status` endpoint would give. */
export async function answerJobStatus(request: Request, context: ProtocolContext): Promise<ProtocolAnswer> {
  const facts: RequestFacts = {};
  const done = (status: number, body: JsonObject, extra: Partial<ProtocolAnswer> = {}): ProtocolAnswer => ({
    status,
    body,
    ...extra,
    facts,
  });
  const smileError = (status: number, code: string, error: string) => done(status, { code, error });

  const path = safePath(request.url);
  if (path !== context.endpoint) return done(404, { error: `Not found: ${path}` });
  if (request.method !== "POST") return done(405, { error: "Method not allowed" }, { headers: { allow: "POST" } });
  // No Content-Type, or an empty one, is read as JSON: the PHP SDK sends such requests.
  const type = (request.headers.get("content-type") ?? "").trim();
  if (type !== "" && !/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    await request.body?.cancel().catch(() => {});
    return smileError(415, "2203", `Content-Type must be application/json, got ${quote(type)}`);
  }
  let text: string;
  try {
    text = await readText(request, MAX_REQUEST_BYTES, "The request body");
  } catch {
    return done(413, { error: `Request body is larger than ${MAX_REQUEST_BYTES} bytes` });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return smileError(400, "2203", "Invalid JSON");
  }
  if (!isObject(body)) return smileError(400, "2203", "The request body must be a JSON object");

  facts.body = body;
  const idOf = (value: JsonValue | undefined) =>
    typeof value === "string" || typeof value === "number" ? String(value) : undefined;
  assign(facts, "userId", idOf(body.user_id));
  assign(facts, "jobId", idOf(body.job_id));
  assign(facts, "partnerId", idOf(body.partner_id));
  assign(facts, "timestamp", idOf(body.timestamp));
  assign(facts, "history", readFlag(body.history));
  assign(facts, "imageLinks", readFlag(body.image_links));

  const missing = REQUIRED.filter((key) => body[key] === undefined || body[key] === null || body[key] === "");
  if (missing.length > 0) return smileError(400, "2213", `Missing parameter: ${missing.join(", ")}`);
  const wrong = [
    ...(["user_id", "job_id", "partner_id", "timestamp"] as const).filter((key) => idOf(body[key]) === undefined),
    ...(typeof body.signature === "string" ? [] : ["signature"]),
    ...(["history", "image_links"] as const).filter((key) => readFlag(body[key]) === undefined),
  ];
  if (wrong.length > 0) return smileError(400, "2204", `Invalid data type for: ${wrong.join(", ")}`);

  // Like the real server: another partner's id, or a signature that does not cover the body's
  // timestamp for this partner, is "not authorized".
  facts.signatureValid = facts.partnerId === context.signer.partnerId &&
    await context.signer.verify(facts.timestamp!, body.signature as string);
  if (!facts.signatureValid) return smileError(401, "2205", NOT_AUTHORIZED);

  const userId = facts.userId!;
  const jobId = facts.jobId!;
  const job = context.lookup(userId, jobId);
  if (job === undefined || job.userId !== userId || !job.visible) {
    return smileError(404, "2210", `No job found for user_id ${quote(userId)} and job_id ${quote(jobId)}`);
  }
  const complete = job.complete;
  const out: JsonObject = { job_complete: complete, job_success: complete && job.jobSuccess, code: job.code };
  if (complete) out.result = clone(job.result);
  else if (job.missingZip) Object.assign(out, { code: MISSING_ZIP_CODE, result: MISSING_ZIP_RESULT });
  if (facts.history) out.history = complete ? job.history.map((entry) => clone(entry)) : [];
  if (facts.imageLinks) out.image_links = complete ? clone(job.imageLinks) : {};
  return done(200, out, { jobComplete: complete });
}

/**
 * The answer's own timestamp at `at`, later than the request's like Smile ID's: answering within
 * the millisecond the request was signed in would repeat the request's pair, which clients refuse.
 */
export function answerTimestamp(at: number, requestTimestamp: string | undefined): string {
  const timestamp = new Date(at).toISOString();
  return timestamp === requestTimestamp ? new Date(at + 1).toISOString() : timestamp;
}

/** Accepts what SDKs send for `history`/`image_links`: absent, a boolean, or the old docs' "true"/"false". */
function readFlag(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return false;
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}

function assign<K extends keyof RequestFacts>(facts: RequestFacts, key: K, value: RequestFacts[K] | undefined): void {
  if (value !== undefined) facts[key] = value;
}

export function clone<T extends JsonValue>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}
