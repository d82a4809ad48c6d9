// Valibot schemas of Smile ID's JSON, and the conversion of validated JSON into the typed
// views of ./types.ts. Internal: valibot types never reach the public API. Every object schema
// is loose, so unknown fields pass; views keep the original JSON as `raw`.
//
// Lossless: a signed answer is rejected only when it has no readable `job_complete`, without
// which it means nothing. Every other field is typed in the view when it has a documented type
// (numbers given for string codes and ids become their decimal string; "true"/"false" strings
// become booleans) and is `undefined` in the view otherwise, kept as received in `raw`. Arrays
// never pass as objects, and a value that is not a string never appears in `actions`.

import * as v from "valibot";
import { type SchemaIssue, SmileIdError } from "./errors.ts";
import type { IdResponse, ImageLinks, JobResult, JobStatus, JsonObject, JsonValue, PartnerParams } from "./types.ts";
import { escapeText, isPlaceholder } from "./_validate.ts";

// Each schema is built in a /* @__PURE__ */ closure so that bundlers drop the schemas (and
// valibot) from bundles that do not use them: esbuild ignores valibot's own
// @__NO_SIDE_EFFECTS__ marks on functions imported from another module (evanw/esbuild#4369).
const stringOrNumber = /* @__PURE__ */ (() => v.union([v.string(), v.number()]))();

/**
 * The job-status answer: `job_complete` a boolean or the string `"true"`/`"false"`. Every other
 * member is read leniently by {@linkcode toJobStatus}. Both callers have already checked that the
 * JSON is an object (not an array) with string `signature` and `timestamp`, so the schema checks
 * only `job_complete` (no pipe, array check or string schemas that could not fail: less valibot in
 * every bundle).
 */
export const jobStatusSchema =
  /* @__PURE__ */ (() => v.looseObject({ job_complete: v.union([v.boolean(), v.picklist(["true", "false"])]) }))();

/** Smile ID's error body: `{ "code": "2205", "error": "You are not authorized to do that" }`. */
const errorBodySchema = /* @__PURE__ */ (() =>
  v.looseObject({
    code: v.optional(stringOrNumber),
    error: v.optional(v.string()),
  }))();

/**
 * Validates JSON against a schema, or throws a `schema` SmileIdError listing every issue. With
 * `hideValues` (callbacks, whose bodies carry names and ID numbers) the issues and the message
 * name the field and the expected type only, never the value received.
 */
export function validate<T extends v.GenericSchema>(
  schema: T,
  json: unknown,
  what: string,
  body?: string,
  options: { readonly hideValues?: boolean } = {},
): v.InferOutput<T> {
  const parsed = v.safeParse(schema, json);
  if (parsed.success) return parsed.output;
  const issues = parsed.issues.flatMap((issue) => deepest(issue, [], options.hideValues === true));
  const listed = escapeText(issues.slice(0, 5).map((i) => `${i.path || "(top)"}: ${i.message}`).join("; "));
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
function deepest(issue: v.BaseIssue<unknown>, prefix: readonly string[], hideValues: boolean): SchemaIssue[] {
  const path = [...prefix, ...(issue.path ?? []).map((item) => String(item.key))];
  const deeper = (issue.issues ?? []).filter((sub) => (sub.path?.length ?? 0) > 0);
  if (deeper.length > 0) return deeper.flatMap((sub) => deepest(sub, path, hideValues));
  // valibot's message ends with "but received <value>"; `expected` describes the schema only.
  const message = hideValues
    ? (issue.expected === null ? "Invalid value" : `Expected ${issue.expected}`)
    : issue.message;
  return [{ path: path.join("."), message }];
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

/** Typed view of a validated job-status answer; see the lossless rule at the top of this file. */
export function toJobStatus(raw: JsonObject): JobStatus {
  const { result, history, image_links: links } = raw;
  const typedResult = typeof result === "string" ? result : isJsonObject(result) ? toJobResult(result) : undefined;
  const typedHistory = Array.isArray(history) && history.every(isJsonObject) ? history.map(toJobResult) : undefined;
  return {
    jobComplete: toBoolean(raw.job_complete) === true,
    jobSuccess: toBoolean(raw.job_success),
    code: toText(raw.code),
    result: typedResult,
    history: typedHistory,
    // The result's, else the newest history entry's (the last: Smile ID's examples list oldest first).
    idResponse: (typeof typedResult === "object" ? typedResult.idResponse : undefined) ??
      typedHistory?.slice().reverse().find((entry) => entry.idResponse)?.idResponse,
    imageLinks: isJsonObject(links)
      ? { selfieImage: text(links.selfie_image), error: text(links.error), raw: links } satisfies ImageLinks
      : undefined,
    kycReceipt: text(raw.kyc_receipt),
    kybReceipt: text(raw.kyb_receipt),
    timestamp: raw.timestamp as string,
    signature: raw.signature as string,
    raw,
  };
}

/** Typed view of a result object; see the lossless rule at the top of this file. */
export function toJobResult(raw: JsonObject): JobResult {
  return {
    resultCode: toText(raw.ResultCode),
    resultText: text(raw.ResultText),
    resultType: text(raw.ResultType),
    smileJobId: toText(raw.SmileJobID),
    partnerParams: isJsonObject(raw.PartnerParams) ? toPartnerParams(raw.PartnerParams) : undefined,
    actions: toActions(raw.Actions),
    confidence: toNumber(raw.ConfidenceValue),
    isFinalResult: toBoolean(raw.IsFinalResult),
    isMachineResult: toBoolean(raw.IsMachineResult),
    idResponse: toIdResponse(raw),
    raw,
  };
}

/**
 * The ID response of a result (its top-level ID keys), or `undefined` when it has none. Strings
 * that stand for no value (`"Not Available"`, `"NaN-NaN-NaN"`, blank) and values of another type
 * are `undefined`; `raw` keeps them.
 */
function toIdResponse(raw: JsonObject): IdResponse | undefined {
  // The documented keys; the first 13 are strings, each typed under its name with the leading
  // capitals lowered ("Country" → "country", "IDType" → "idType", "DOB" → "dob"). One string,
  // split here, so that bundles without the views carry none of it.
  const keys = ("Country IDType IDNumber IssuanceDate ExpirationDate FullName DOB Gender PhoneNumber PhoneNumber2 " +
    "Address Photo Document SecondaryIDNumber Secondary_ID_Number FullData IDNumberPreviouslyRegistered " +
    "UserIDsOfPreviousRegistrants").split(" ");
  if (!keys.some((key) => key in raw)) return undefined;
  const id: Record<string, unknown> = {};
  for (const key of keys.slice(0, 13)) {
    id[key.replace(/^[A-Z]+(?![a-z])|^[A-Z]/, (capitals) => capitals.toLowerCase())] = idText(raw[key]);
  }
  const previous = raw.UserIDsOfPreviousRegistrants;
  const previousIds = Array.isArray(previous) ? previous.map(toText) : undefined;
  return {
    ...id as Omit<
      IdResponse,
      "secondaryIdNumber" | "fullData" | "idNumberPreviouslyRegistered" | "previousRegistrantUserIds"
    >,
    secondaryIdNumber: idText(raw.SecondaryIDNumber) ?? idText(raw.Secondary_ID_Number),
    fullData: isJsonObject(raw.FullData) ? raw.FullData : undefined,
    idNumberPreviouslyRegistered: toBoolean(raw.IDNumberPreviouslyRegistered),
    previousRegistrantUserIds: previousIds?.includes(undefined) ? undefined : previousIds as string[] | undefined,
  };
}

/** A string of the ID response, `undefined` for a placeholder or another type. */
function idText(value: JsonValue | undefined): string | undefined {
  return typeof value === "string" && !isPlaceholder(value) ? value : undefined;
}

/** A string as it is; anything else `undefined`. */
function text(value: JsonValue | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function toPartnerParams(raw: JsonObject): PartnerParams {
  return {
    userId: toText(raw.user_id),
    jobId: toText(raw.job_id),
    jobType: toText(raw.job_type),
    jobTypeNumber: toNumber(raw.job_type),
    raw,
  };
}

/**
 * `Actions` with only its string values, as own properties of a fresh object: a `__proto__`,
 * `constructor` or `prototype` key is an ordinary key, kept only when its value is a string.
 */
function toActions(value: JsonValue | undefined): Readonly<Record<string, string>> {
  if (!isJsonObject(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

/** A JSON object that is not an array. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A string as it is, a number as its decimal string; anything else `undefined`. */
export function toText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  return typeof value === "number" && Number.isFinite(value) ? String(value) : undefined;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value !== "string") return undefined;
  const lower = value.trim().toLowerCase();
  return lower === "true" ? true : lower === "false" ? false : undefined;
}
