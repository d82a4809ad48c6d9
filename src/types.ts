/**
 * The parsed data this library returns: hand-written interfaces, so no validation library's
 * types leak into the public API. Every parsed object keeps the JSON it came from as `raw`,
 * so nothing the server sent is lost; the other fields are typed views of it.
 *
 * @module
 */

/**
 * Any JSON value.
 *
 * @example
 * ```ts
 * import type { JsonValue } from "@smile-id-kit/job-status";
 *
 * const value: JsonValue = { ok: true, list: [1, "two", null] };
 * console.log(JSON.stringify(value));
 * ```
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/**
 * A JSON object, as `JSON.parse` returns it.
 *
 * @example
 * ```ts
 * import type { JsonObject } from "@smile-id-kit/job-status";
 *
 * const object: JsonObject = JSON.parse('{"ResultCode":"1012"}');
 * console.log(object.ResultCode);
 * ```
 */
export interface JsonObject {
  /** Any member. */
  [key: string]: JsonValue;
}

/**
 * The `PartnerParams` of a result: ids echoed back, the job type, and any extras the partner
 * sent (in `raw`).
 *
 * @example
 * ```ts
 * import type { PartnerParams } from "@smile-id-kit/job-status";
 *
 * function label(params: PartnerParams): string {
 *   return `${params.userId}/${params.jobId} (type ${params.jobTypeNumber})`;
 * }
 * console.log(label({ userId: "u", jobId: "j", jobType: "1", jobTypeNumber: 1, raw: { job_type: "1" } }));
 * ```
 */
export interface PartnerParams {
  /** `user_id`, as a string even if sent as a number. */
  readonly userId: string | undefined;
  /** `job_id`, as a string even if sent as a number. */
  readonly jobId: string | undefined;
  /** `job_type` as sent, as a string (`"1"` whether the server sent `1` or `"1"`). */
  readonly jobType: string | undefined;
  /** `job_type` as a number, when it is one. */
  readonly jobTypeNumber: number | undefined;
  /** Every parameter as received, partner extras included. */
  readonly raw: JsonObject;
}

/**
 * One job result: the `result` of a job-status answer, an entry of its `history`, or the body
 * of a callback. Stringly fields are typed (`"true"` → `true`, `"99"` → `99`); the strings as
 * sent stay in `raw`.
 *
 * @example
 * ```ts
 * import type { JobResult } from "@smile-id-kit/job-status";
 *
 * function passedLiveness(result: JobResult): boolean {
 *   return result.actions.Liveness_Check === "Passed";
 * }
 * ```
 */
export interface JobResult {
  /** `ResultCode`, a four-digit string whose leading zeros matter (`"0810"`). */
  readonly resultCode: string | undefined;
  /** `ResultText`, verbatim. */
  readonly resultText: string | undefined;
  /** `ResultType` (`"SAIA"`, `"ID Verification"`, …). */
  readonly resultType: string | undefined;
  /** `SmileJobID`, a string with leading zeros. */
  readonly smileJobId: string | undefined;
  /** `PartnerParams`, when present. */
  readonly partnerParams: PartnerParams | undefined;
  /** `Actions`: every key and value as sent, unknown values included; `{}` when absent. */
  readonly actions: Readonly<Record<string, string>>;
  /** `ConfidenceValue` as a number (`"97.000000"` → `97`). */
  readonly confidenceValue: number | undefined;
  /** `IsFinalResult` as a boolean. */
  readonly isFinalResult: boolean | undefined;
  /** `IsMachineResult` as a boolean. */
  readonly isMachineResult: boolean | undefined;
  /** The result object exactly as received. */
  readonly raw: JsonObject;
}

/**
 * A verified job-status answer.
 *
 * @example
 * ```ts
 * import type { JobStatus } from "@smile-id-kit/job-status";
 *
 * function summary(status: JobStatus): string {
 *   if (!status.jobComplete) return "still processing";
 *   return typeof status.result === "string" ? status.result : status.result?.resultText ?? "";
 * }
 * ```
 */
export interface JobStatus {
  /** `job_complete`: whether a final result has been reported. */
  readonly jobComplete: boolean;
  /** `job_success`: whether the job achieved a successful match, enrolment or authentication. */
  readonly jobSuccess: boolean | undefined;
  /** `code` (`"2302"`), as a string even if sent as a number. */
  readonly code: string | undefined;
  /** `result`: a result object, or a plain string such as `"No zip uploaded"`. */
  readonly result: JobResult | string | undefined;
  /** `history`, when requested. */
  readonly history: readonly JobResult[] | undefined;
  /** `image_links` (`selfie_image`, …), when requested; values as sent. */
  readonly imageLinks: Readonly<Record<string, JsonValue>> | undefined;
  /** The server's timestamp, exactly as received and verified. */
  readonly timestamp: string;
  /** The server's signature over `timestamp`, verified. */
  readonly signature: string;
  /** The whole answer exactly as received, unknown fields included. */
  readonly raw: JsonObject;
}
