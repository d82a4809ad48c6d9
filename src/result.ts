/**
 * {@linkcode describeResult}: the decision a job result stands for, read from its
 * `ResultCode`, with the stringly fields typed and every action kept.
 *
 * @module
 */

import type { JobResult, JobStatus } from "./types.ts";

/**
 * What a result means for the partner.
 *
 * - `approved`, `provisional`, `rejected`: the categories Smile ID documents for result codes.
 * - `error`: a documented code saying the check could not be done (unsupported ID number
 *   format, ID authority unavailable, product not activated).
 * - `pending`: the job is not complete yet.
 * - `unknown`: no result, a plain-string result, or a code without a documented category.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { Decision } from "@smile-id-kit/job-status";
 *
 * function nextStep(decision: Decision): string {
 *   return decision === "approved" ? "go" : decision === "pending" ? "wait" : "review";
 * }
 * const decisions: Decision[] = ["approved", "pending", "provisional"];
 * assertEquals(decisions.map(nextStep), ["go", "wait", "review"]);
 * ```
 */
export type Decision = "approved" | "provisional" | "rejected" | "error" | "pending" | "unknown";

/**
 * A job result summarised for a decision.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { describeResult, type ResultSummary } from "@smile-id-kit/job-status";
 *
 * function line(summary: ResultSummary): string {
 *   return `${summary.decision} (${summary.code ?? "no code"}: ${summary.text ?? ""})`;
 * }
 * assertEquals(line(describeResult("No zip uploaded")), "unknown (no code: No zip uploaded)");
 * ```
 */
export interface ResultSummary {
  /** The decision the code stands for; `unknown` when the sources do not document it. */
  readonly decision: Decision;
  /** `ResultCode` exactly as received (four digits, leading zeros kept). */
  readonly code: string | undefined;
  /** `ResultText`, or the text of a plain-string result. */
  readonly text: string | undefined;
  /** `IsFinalResult` as a boolean. */
  readonly final: boolean | undefined;
  /** `IsMachineResult` as a boolean. */
  readonly machine: boolean | undefined;
  /** `ConfidenceValue` as a number. */
  readonly confidence: number | undefined;
  /** `Actions`, every key and value as received; `{}` when absent. */
  readonly actions: Readonly<Record<string, string>>;
}

// Only the result codes whose category a source gives (docs/sources.md, "Where the result
// decisions come from"). 0903, 0907, 1012, 1013, 1014–1016 and 1020–1023 have a category row in Smile
// ID's result-code docs. Two rest on less: 0001 is "Rejected" on docs.smileidentity.com but
// uncategorised on docs.usesmileid.com; 0814 has no docs row, only the Python SDK's fixture
// text "Provisional Enroll - Under Review". 0810, 0811, 0812, 0820, 1030, 1210, 1220 and every
// other code are left out on purpose: no source states their category.
const DECISIONS: Readonly<Record<string, Decision>> = {
  "0001": "rejected",
  "0814": "provisional",
  "0903": "rejected",
  "0907": "rejected",
  "1012": "approved",
  "1013": "rejected",
  "1014": "error",
  "1015": "error",
  "1016": "error",
  "1020": "approved",
  "1021": "approved",
  "1022": "rejected",
  "1023": "rejected",
};

/**
 * Summarises a job result, a job status or a plain-string result. The decision comes from
 * `ResultCode` alone, and only for the codes a source gives a category (Smile ID's docs for
 * most; 0001 is categorised by one of its two docs sites only, and 0814 "provisional" rests on
 * fixture text, not a docs row); any other code gives `unknown` with the code kept. A status whose job is not complete gives
 * `pending`. A plain-string result (such as `"No zip uploaded"`) gives `unknown` with the
 * string as `text`: no source documents what those strings mean.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createSigner, describeResult, parseJobStatusResponse } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "085", apiKey: "my-api-key" });
 * const status = await parseJobStatusResponse(signer, {
 *   job_complete: true,
 *   job_success: true,
 *   result: {
 *     ResultCode: "1012",
 *     ResultText: "ID Number Validated",
 *     IsFinalResult: "true",
 *     ConfidenceValue: "99",
 *     Actions: { Verify_ID_Number: "Verified" },
 *   },
 *   ...(await signer.sign()),
 * });
 *
 * const summary = describeResult(status);
 * assertEquals([summary.decision, summary.final, summary.confidence], ["approved", true, 99]);
 * ```
 */
export function describeResult(result: JobResult | JobStatus | string | undefined): ResultSummary {
  if (typeof result === "object" && result !== null && "jobComplete" in result) {
    const summary = describeResult(result.result);
    return result.jobComplete ? summary : { ...summary, decision: "pending" };
  }
  if (typeof result === "object" && result !== null) {
    const code = result.resultCode;
    return {
      decision: (code !== undefined && Object.hasOwn(DECISIONS, code) && DECISIONS[code]) || "unknown",
      code,
      text: result.resultText,
      final: result.isFinalResult,
      machine: result.isMachineResult,
      confidence: result.confidence,
      actions: result.actions ?? {},
    };
  }
  return {
    decision: "unknown",
    code: undefined,
    text: typeof result === "string" ? result : undefined,
    final: undefined,
    machine: undefined,
    confidence: undefined,
    actions: {},
  };
}
