// Micro-benchmark of what confirm does per delivery once Smile ID's status is in hand: compare
// the callback body with it and derive the replay key. Prints the microseconds per delivery of
// this code and of the code before issue 21 (src/_compare.ts at fb33148, copied below), measured
// in interleaved rounds in one run, and their ratio. Not a test: it judges nothing.
//
//   deno run -A --import-map=scripts/dev_imports.json scripts/bench/compare.ts
//   node scripts/bench/compare.ts        (Node 22.18+ runs TypeScript directly)

import { compareWithTruth, resultKey } from "../../src/_compare.ts";
import { isJsonObject, toJobResult, toJobStatus } from "../../src/_schemas.ts";
import type { CallbackMismatch, CallbackPayload } from "../../src/callback.ts";
import type { JobStatus, JsonObject, JsonValue } from "../../src/types.ts";

// ---- the code before issue 21, verbatim but for `export` ---------------------------------------

/** Top-level fields never compared, because they differ per request. */
const UNCOMPARED = ["signature", "timestamp"] as const;

/** The part of the truth a body of this envelope claims to carry. */
function truthFor(payload: CallbackPayload, status: JobStatus): JsonObject {
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
function comparable(json: JsonObject): JsonObject {
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
function compare(body: JsonValue, truth: JsonValue, path: string, out: CallbackMismatch[]): void {
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
async function resultKey_(userId: string, jobId: string, status: JobStatus): Promise<string> {
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

// ---- one delivery: a Biometric KYC-sized result with history and image links ------------------

const result: JsonObject = {
  ResultCode: "0810",
  ResultText: "Enroll User",
  ResultType: "SAIA",
  SmileJobID: "0000001234",
  PartnerParams: { user_id: "user-1", job_id: "job-1", job_type: 1 },
  ConfidenceValue: "99.94",
  IsFinalResult: "true",
  IsMachineResult: "true",
  Actions: {
    Liveness_Check: "Passed",
    Register_Selfie: "Approved",
    Verify_ID_Number: "Verified",
    Human_Review_Compare: "Not Applicable",
    Return_Personal_Info: "Returned",
    Selfie_To_ID_Card_Compare: "Not Applicable",
    Human_Review_Update_Selfie: "Not Applicable",
    Human_Review_Liveness_Check: "Not Applicable",
    Selfie_To_ID_Authority_Compare: "Completed",
    Update_Registered_Selfie_On_File: "Not Applicable",
    Selfie_Provided: "Passed",
    Human_Review_Selfie_Check: "Not Applicable",
  },
};
const history = [
  { ...result, ResultCode: "1210", ResultText: "Enroll User", ResultType: "DIVA" },
  { ...result, ResultCode: "0814", ResultText: "Provisional Enroll - Under Review" },
  {
    ...result,
    ResultCode: "1012",
    ResultText: "ID Number Validated",
    ResultType: "ID Verification",
    FullName: "Jane Doe",
  },
];
const links = (at: string) => ({
  selfie_image:
    `https://smile-fr-results.s3.us-west-2.amazonaws.com/test/job-1/SID_Preview_FULL.jpg?X-Amz-Date=${at}&X-Amz-Expires=900&X-Amz-Signature=abc`,
});
const pair = { timestamp: "2024-01-01T00:00:05.000Z", signature: "s".repeat(43) + "=" };
const body: JsonObject = { ...result, history, image_links: links("20240101T000001Z"), ...pair };
const statusRaw: JsonObject = {
  job_complete: true,
  job_success: true,
  code: "2302",
  result,
  history,
  image_links: links("20240101T000009Z"),
  timestamp: "2024-01-01T00:00:09.000Z",
  signature: "t".repeat(43) + "=",
};
const status: JobStatus = toJobStatus(statusRaw);
const payload: CallbackPayload = {
  envelope: "result",
  result: toJobResult(body),
  jobStatus: undefined,
  userId: "user-1",
  jobId: "job-1",
  ...pair,
  raw: body,
};

async function before(): Promise<number> {
  const mismatches: CallbackMismatch[] = [];
  compare(comparable(body), truthFor(payload, status), "", mismatches);
  return mismatches.length + (await resultKey_(payload.userId!, payload.jobId!, status)).length;
}
async function after(): Promise<number> {
  const { mismatches } = compareWithTruth(payload, status);
  return mismatches.length + (await resultKey(payload.userId!, payload.jobId!, status)).length;
}

const ROUNDS = 7;
const PER_ROUND = 5_000;
async function round(run: () => Promise<number>): Promise<number> {
  const start = performance.now();
  let sink = 0;
  for (let i = 0; i < PER_ROUND; i++) sink += await run();
  if (sink === 0) throw new Error("nothing measured");
  return ((performance.now() - start) * 1000) / PER_ROUND;
}
// Both see a genuine delivery: no mismatch (the keys differ in form: 84 and 71 characters).
if ((await before()) !== 84 || (await after()) !== 71) throw new Error("the two versions disagree about this delivery");
for (let i = 0; i < 2; i++) await round(before), await round(after); // warm-up
const times = { before: [] as number[], after: [] as number[] };
for (let i = 0; i < ROUNDS; i++) {
  times.before.push(await round(before));
  times.after.push(await round(after));
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[list.length >> 1]!;
const [b, a] = [median(times.before), median(times.after)];
console.log(`compare + result key per delivery (median of ${ROUNDS} rounds of ${PER_ROUND}):`);
console.log(`  before issue 21  ${b.toFixed(1)} µs`);
console.log(
  `  now              ${a.toFixed(1)} µs   (${(a / b).toFixed(2)}× the time, ${(b / a).toFixed(2)}× the speed)`,
);
