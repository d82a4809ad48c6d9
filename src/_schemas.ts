// Valibot schemas of Smile ID's JSON, and the conversion of validated JSON into the typed
// views of ./types.ts. Internal: valibot types never reach the public API. Every object schema
// is loose, so unknown fields pass; views keep the original JSON as `raw`.

import * as v from "valibot";
import { type SchemaIssue, SmileIdError } from "./errors.ts";
import type { JobResult, JobStatus, JsonObject, PartnerParams } from "./types.ts";

// Each schema is built in a /* @__PURE__ */ closure so that bundlers drop the schemas (and
// valibot) from bundles that do not use them: esbuild ignores valibot's own
// @__NO_SIDE_EFFECTS__ marks on functions imported from another module (evanw/esbuild#4369).
const stringOrNumber = /* @__PURE__ */ (() => v.union([v.string(), v.number()]))();
const stringOrBoolean = /* @__PURE__ */ (() => v.union([v.string(), v.boolean()]))();

const partnerParamsSchema = /* @__PURE__ */ (() =>
  v.looseObject({
    user_id: v.optional(stringOrNumber),
    job_id: v.optional(stringOrNumber),
    job_type: v.optional(stringOrNumber),
  }))();

/** A result object: `result`, each `history` entry, and the callback body. */
export const jobResultSchema = /* @__PURE__ */ (() =>
  v.looseObject({
    ResultCode: v.optional(stringOrNumber),
    ResultText: v.optional(v.string()),
    ResultType: v.optional(v.string()),
    SmileJobID: v.optional(stringOrNumber),
    PartnerParams: v.optional(partnerParamsSchema),
    Actions: v.optional(v.record(v.string(), v.string())),
    ConfidenceValue: v.optional(stringOrNumber),
    IsFinalResult: v.optional(stringOrBoolean),
    IsMachineResult: v.optional(stringOrBoolean),
  }))();

/** The job-status answer. `signature` and `timestamp` are checked before this runs. */
export const jobStatusSchema = /* @__PURE__ */ (() =>
  v.looseObject({
    job_complete: v.boolean(),
    job_success: v.optional(v.boolean()),
    code: v.optional(stringOrNumber),
    result: v.optional(v.nullable(v.union([jobResultSchema, v.string()]))),
    history: v.optional(v.nullable(v.array(jobResultSchema))),
    image_links: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
    timestamp: v.string(),
    signature: v.string(),
  }))();

/** Smile ID's error body: `{ "code": "2205", "error": "You are not authorized to do that" }`. */
const errorBodySchema = /* @__PURE__ */ (() =>
  v.looseObject({
    code: v.optional(stringOrNumber),
    error: v.optional(v.string()),
  }))();

/** Validates JSON against a schema, or throws a `schema` SmileIdError listing every issue. */
export function validate<T extends v.GenericSchema>(
  schema: T,
  json: unknown,
  what: string,
  body?: string,
): v.InferOutput<T> {
  const parsed = v.safeParse(schema, json);
  if (parsed.success) return parsed.output;
  const issues = parsed.issues.flatMap((issue) => deepest(issue, []));
  const listed = issues.slice(0, 5).map((i) => `${i.path || "(top)"}: ${i.message}`).join("; ");
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : "";
  throw new SmileIdError(
    "schema",
    `${what} does not have the documented shape: ${listed}${more}`,
    body === undefined ? { issues } : { issues, body },
  );
}

/**
 * Lists an issue with its full dot path. A failed union (a result object or a string) says
 * only "Expected (Object | string)"; when a branch got deeper into the value, its issues say
 * more, so those are listed instead. Paths of a union's own issues are relative to it.
 */
function deepest(issue: v.BaseIssue<unknown>, prefix: readonly string[]): SchemaIssue[] {
  const path = [...prefix, ...(issue.path ?? []).map((item) => String(item.key))];
  const deeper = (issue.issues ?? []).filter((sub) => (sub.path?.length ?? 0) > 0);
  if (deeper.length > 0) return deeper.flatMap((sub) => deepest(sub, path));
  return [{ path: path.join("."), message: issue.message }];
}

/** Reads `{ code, error }` from an error body, if it has that shape. */
export function readErrorBody(json: unknown): { smileCode?: string; serverMessage?: string } {
  const parsed = v.safeParse(errorBodySchema, json);
  if (!parsed.success) return {};
  const out: { smileCode?: string; serverMessage?: string } = {};
  if (parsed.output.code !== undefined) out.smileCode = String(parsed.output.code);
  if (parsed.output.error !== undefined) out.serverMessage = parsed.output.error;
  return out;
}

/** Typed view of a validated job-status answer. */
export function toJobStatus(raw: JsonObject): JobStatus {
  const body = raw as v.InferOutput<typeof jobStatusSchema>;
  const result = body.result;
  return {
    jobComplete: body.job_complete,
    jobSuccess: body.job_success,
    code: optionalString(body.code),
    result: typeof result === "string" ? result : result == null ? undefined : toJobResult(result as JsonObject),
    history: body.history?.map((entry) => toJobResult(entry as JsonObject)) ?? undefined,
    imageLinks: (body.image_links as JsonObject | null | undefined) ?? undefined,
    timestamp: body.timestamp,
    signature: body.signature,
    raw,
  };
}

/** Typed view of a validated result object. */
export function toJobResult(raw: JsonObject): JobResult {
  const result = raw as v.InferOutput<typeof jobResultSchema>;
  return {
    resultCode: optionalString(result.ResultCode),
    resultText: result.ResultText,
    resultType: result.ResultType,
    smileJobId: optionalString(result.SmileJobID),
    partnerParams: result.PartnerParams === undefined ? undefined : toPartnerParams(result.PartnerParams as JsonObject),
    actions: result.Actions ?? {},
    confidenceValue: toNumber(result.ConfidenceValue),
    isFinalResult: toBoolean(result.IsFinalResult),
    isMachineResult: toBoolean(result.IsMachineResult),
    raw,
  };
}

function toPartnerParams(raw: JsonObject): PartnerParams {
  const params = raw as v.InferOutput<typeof partnerParamsSchema>;
  return {
    userId: optionalString(params.user_id),
    jobId: optionalString(params.job_id),
    jobType: optionalString(params.job_type),
    jobTypeNumber: toNumber(params.job_type),
    raw,
  };
}

function optionalString(value: string | number | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}

function toNumber(value: string | number | undefined): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

function toBoolean(value: string | boolean | undefined): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === undefined) return undefined;
  const lower = value.trim().toLowerCase();
  return lower === "true" ? true : lower === "false" ? false : undefined;
}
