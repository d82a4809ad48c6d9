import { test } from "node:test";
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { createSigner, describeResult, type JobStatus, type JsonObject, parseJobStatusResponse } from "../mod.ts";
import docsExample from "./testdata/job-status-docs-example.json" with { type: "json" };

const signer = createSigner({ partnerId: "085", apiKey: "result-test-secret-key" });

/** A verified job status, parsed through the public path. */
async function status(body: JsonObject): Promise<JobStatus> {
  return await parseJobStatusResponse(signer, { ...body, ...(await signer.sign()) });
}

async function resultWith(fields: JsonObject) {
  const parsed = await status({ job_complete: true, result: fields });
  assert(typeof parsed.result === "object");
  return parsed.result;
}

// Written out independently of src/result.ts, from Smile ID's result-code table and the sources
// docs/sources.md names ("Where the result decisions come from").
const documented: Array<[string, string]> = [
  ["0001", "rejected"],
  ["0814", "provisional"],
  ["0903", "rejected"],
  ["0907", "rejected"],
  ["1012", "approved"],
  ["1013", "rejected"],
  ["1014", "error"],
  ["1015", "error"],
  ["1016", "error"],
  ["1020", "approved"],
  ["1021", "approved"],
  ["1022", "rejected"],
  ["1023", "rejected"],
];

test("describeResult() maps every documented ResultCode to its category", async () => {
  for (const [code, decision] of documented) {
    const summary = describeResult(await resultWith({ ResultCode: code, ResultText: `text ${code}` }));
    assertStrictEquals(summary.decision, decision, code);
    assertStrictEquals(summary.code, code);
    assertStrictEquals(summary.text, `text ${code}`);
  }
});

test("describeResult() gives unknown, with the code kept, for codes without a documented category", async () => {
  for (const code of ["0810", "0811", "0812", "0820", "0821", "1030", "1210", "1211", "1220", "9999", "810", "1", ""]) {
    const summary = describeResult(await resultWith({ ResultCode: code }));
    assertStrictEquals(summary.decision, "unknown", code);
    assertStrictEquals(summary.code, code);
  }
  for (const code of ["toString", "__proto__", "constructor"]) {
    assertStrictEquals(describeResult(await resultWith({ ResultCode: code })).decision, "unknown", code);
  }
});

test("describeResult() reads a numeric ResultCode as its string", async () => {
  const summary = describeResult(await resultWith({ ResultCode: 1012 }));
  assertStrictEquals(summary.code, "1012");
  assertStrictEquals(summary.decision, "approved");
});

test("describeResult() types the stringly fields and keeps every action", async () => {
  const summary = describeResult(
    await resultWith({
      ResultCode: "1020",
      IsFinalResult: "false",
      IsMachineResult: "true",
      ConfidenceValue: "97.000000",
      Actions: { Verify_ID_Number: "Verified", Liveness_Check: "Passed", Brand_New_Check: "Something New" },
    }),
  );
  assertEquals(summary, {
    decision: "approved",
    code: "1020",
    text: undefined,
    final: false,
    machine: true,
    confidence: 97,
    actions: { Verify_ID_Number: "Verified", Liveness_Check: "Passed", Brand_New_Check: "Something New" },
  });
});

test("describeResult() of a plain-string result is unknown with the string as text", async () => {
  const summary = describeResult("No zip uploaded");
  assertStrictEquals(summary.decision, "unknown");
  assertStrictEquals(summary.text, "No zip uploaded");
  assertStrictEquals(summary.code, undefined);
  assertEquals(summary.actions, {});
  const complete = await status({ job_complete: true, result: "Zip file failed" });
  assertStrictEquals(describeResult(complete).decision, "unknown");
  assertStrictEquals(describeResult(complete).text, "Zip file failed");
});

test("describeResult() of an incomplete job is pending, keeping what the result says", async () => {
  const summary = describeResult(
    await status({
      job_complete: false,
      result: { ResultCode: "0814", ResultText: "Provisional Enroll - Under Review" },
    }),
  );
  assertStrictEquals(summary.decision, "pending");
  assertStrictEquals(summary.code, "0814");
  assertStrictEquals(describeResult(await status({ job_complete: false })).decision, "pending");
  assertStrictEquals(
    describeResult(await status({ job_complete: false, result: "No zip uploaded" })).decision,
    "pending",
  );
});

test("describeResult() of a complete job describes its result", async () => {
  const summary = describeResult(
    await status({ job_complete: true, result: { ResultCode: "1022", ResultText: "No Match" } }),
  );
  assertStrictEquals(summary.decision, "rejected");
  assertStrictEquals(summary.text, "No Match");
  // The documentation's own example: 0810 "Enroll User" has no documented category.
  const example = describeResult(await status(docsExample as unknown as JsonObject));
  assertStrictEquals(example.decision, "unknown");
  assertStrictEquals(example.code, "0810");
  assertStrictEquals(example.final, true);
  assertStrictEquals(example.confidence, 99);
  assertStrictEquals(example.actions.Register_Selfie, "Approved");
});

test("describeResult() of nothing is unknown", async () => {
  assertEquals(describeResult(undefined), {
    decision: "unknown",
    code: undefined,
    text: undefined,
    final: undefined,
    machine: undefined,
    confidence: undefined,
    actions: {},
  });
  assertStrictEquals(describeResult(await status({ job_complete: true })).decision, "unknown");
  assertStrictEquals(describeResult(await resultWith({ ResultText: "no code" })).decision, "unknown");
});
