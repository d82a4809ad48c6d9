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
    basis: "result_code",
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
  // The documentation's own example: 0810 "Enroll User" has no documented category, and the
  // answer's job_success: true decides.
  const example = describeResult(await status(docsExample as unknown as JsonObject));
  assertStrictEquals(example.decision, "approved");
  assertStrictEquals(example.basis, "job_success");
  assertStrictEquals(example.code, "0810");
  assertStrictEquals(example.final, true);
  assertStrictEquals(example.confidence, 99);
  assertStrictEquals(example.actions.Register_Selfie, "Approved");
});

test("describeResult() of nothing is unknown", async () => {
  assertEquals(describeResult(undefined), {
    decision: "unknown",
    basis: "none",
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

test("describeResult() of a documented code decides by result_code, whatever job_success says", async () => {
  for (const jobSuccess of [true, false, null, undefined]) {
    const body: JsonObject = { job_complete: true, result: { ResultCode: "1022" } };
    if (jobSuccess !== undefined) body.job_success = jobSuccess;
    const summary = describeResult(await status(body));
    assertEquals([summary.decision, summary.basis], ["rejected", "result_code"], String(jobSuccess));
  }
  const alone = describeResult(await resultWith({ ResultCode: "1012" }));
  assertEquals([alone.decision, alone.basis], ["approved", "result_code"]);
});

test("describeResult() of a complete job without a documented code decides by job_success", async () => {
  // The outcomes Smile ID's examples pair with job_success: 0810 and 1210 "Enroll User", 1220
  // "Authenticated", a registration without ResultCode; and codes no source categorises.
  const results: JsonObject[] = [
    { ResultCode: "0810", ResultText: "Enroll User" },
    { ResultCode: "1210", ResultText: "Enroll User" },
    { ResultCode: "1220", ResultText: "Authenticated" },
    { ResultText: "Enroll User" },
    { ResultCode: "9999" },
  ];
  for (const result of results) {
    for (const [jobSuccess, decision] of [[true, "approved"], [false, "rejected"], ["true", "approved"]] as const) {
      const summary = describeResult(await status({ job_complete: true, job_success: jobSuccess, result }));
      assertEquals([summary.decision, summary.basis], [decision, "job_success"], `${result.ResultCode} ${jobSuccess}`);
      assertStrictEquals(summary.code, result.ResultCode === undefined ? undefined : String(result.ResultCode));
    }
  }
  // A string result, or none, of a complete job: job_success decides too.
  const text = describeResult(await status({ job_complete: true, job_success: false, result: "Zip file failed" }));
  assertEquals([text.decision, text.basis, text.text], ["rejected", "job_success", "Zip file failed"]);
  const none = describeResult(await status({ job_complete: true, job_success: true }));
  assertEquals([none.decision, none.basis], ["approved", "job_success"]);
});

test("describeResult() is unknown with basis none when job_success is absent, null or unreadable", async () => {
  for (const jobSuccess of [undefined, null, "yes", 1]) {
    const body: JsonObject = { job_complete: true, result: { ResultCode: "0810" } };
    if (jobSuccess !== undefined) body.job_success = jobSuccess;
    const summary = describeResult(await status(body));
    assertEquals([summary.decision, summary.basis], ["unknown", "none"], String(jobSuccess));
  }
  // A result or a string on its own carries no job_success.
  const parsed = await status({ job_complete: true, job_success: true, result: { ResultCode: "0810" } });
  assertEquals([describeResult(parsed.result).decision, describeResult(parsed.result).basis], ["unknown", "none"]);
  assertEquals([describeResult("Done").decision, describeResult("Done").basis], ["unknown", "none"]);
});

test("describeResult() of an incomplete job is pending with basis none, job_success notwithstanding", async () => {
  for (const result of [{ ResultCode: "1012" }, { ResultCode: "0810" }, "No zip file received"]) {
    const summary = describeResult(await status({ job_complete: false, job_success: true, result }));
    assertEquals([summary.decision, summary.basis], ["pending", "none"]);
  }
});
