import { test } from "node:test";
import assert from "node:assert/strict";
import { createSigner, type JsonObject, parseJobStatusResponse, SmileIdError } from "../mod.ts";
import docsExample from "./testdata/job-status-docs-example.json" with { type: "json" };

const signer = createSigner({ partnerId: "085", apiKey: "response-test-key" });

async function signedBody(body: JsonObject): Promise<JsonObject> {
  return { ...body, ...(await signer.sign()) };
}

function isCode(code: string, message?: RegExp) {
  return (error: unknown) =>
    error instanceof SmileIdError && error.code === code && (message === undefined || message.test(error.message));
}

test("parseJobStatusResponse() keeps Smile ID's documented example whole", async () => {
  const body = await signedBody(structuredClone(docsExample) as JsonObject);
  const text = JSON.stringify(body);
  const status = await parseJobStatusResponse(new Response(text), { signer });
  assert.deepEqual(status.raw, JSON.parse(text));
  assert.equal(status.jobComplete, true);
  assert.equal(status.jobSuccess, true);
  assert.equal(status.code, "2302");
  assert.equal(status.timestamp, body.timestamp);
  assert.equal(status.signature, body.signature);
  assert.deepEqual(status.imageLinks, { selfie_image: "image_link" });
  const result = status.result;
  assert.ok(result !== undefined && typeof result !== "string");
  assert.equal(result.resultCode, "0810");
  assert.equal(result.resultText, "Enroll User");
  assert.equal(result.resultType, "SAIA");
  assert.equal(result.smileJobId, "0000001111");
  assert.equal(result.confidenceValue, 99);
  assert.equal(result.isFinalResult, true);
  assert.equal(result.isMachineResult, true);
  assert.equal(result.actions.Register_Selfie, "Approved");
  assert.equal(Object.keys(result.actions).length, 11);
  assert.deepEqual(result.partnerParams, {
    userId: "HBBBBBBH57g",
    jobId: "HBBBBBBHg",
    jobType: "1",
    jobTypeNumber: 1,
    raw: docsExample.result.PartnerParams,
  });
  assert.equal(result.raw.JSONVersion, "1.0.0");
  assert.equal(result.raw.Source, "WebAPI");
  assert.equal(status.history?.length, 1);
  assert.equal(status.history?.[0]?.resultText, " Enroll User", "leading space kept as sent");
  assert.equal(status.history?.[0]?.partnerParams?.raw.optional_info, "we are one");
});

test("parseJobStatusResponse() accepts a result given as a plain string", async () => {
  const body = await signedBody({ job_complete: false, job_success: false, code: "2302", result: "No zip uploaded" });
  const status = await parseJobStatusResponse(JSON.stringify(body), { signer });
  assert.equal(status.result, "No zip uploaded");
  assert.equal(status.jobComplete, false);
  assert.equal(status.history, undefined);
  assert.equal(status.imageLinks, undefined);
});

test("parseJobStatusResponse() types numeric codes and job types as strings and numbers", async () => {
  const body = await signedBody({
    job_complete: true,
    code: 2302,
    result: {
      ResultCode: 1012,
      ConfidenceValue: "97.000000",
      IsFinalResult: "false",
      PartnerParams: { job_type: 4, user_id: 7, job_id: "j" },
    },
  });
  const status = await parseJobStatusResponse(body, { signer });
  assert.equal(status.code, "2302");
  assert.equal(status.raw.code, 2302, "raw keeps the number as sent");
  const result = status.result;
  assert.ok(result !== undefined && typeof result !== "string");
  assert.equal(result.resultCode, "1012");
  assert.equal(result.confidenceValue, 97);
  assert.equal(result.isFinalResult, false);
  assert.equal(result.isMachineResult, undefined);
  assert.equal(result.partnerParams?.jobType, "4");
  assert.equal(result.partnerParams?.jobTypeNumber, 4);
  assert.equal(result.partnerParams?.userId, "7");
  assert.deepEqual(result.actions, {});
});

test("parseJobStatusResponse() keeps unknown fields and unknown Action values", async () => {
  const body = await signedBody({
    job_complete: true,
    kyc_receipt: "receipt",
    brand_new_field: { nested: [1, 2, 3] },
    result: { Actions: { Liveness_Check: "Something New", Future_Action: "Passed" }, Antifraud: { x: true } },
  });
  const status = await parseJobStatusResponse(body, { signer });
  assert.deepEqual(status.raw.brand_new_field, { nested: [1, 2, 3] });
  assert.equal(status.raw.kyc_receipt, "receipt");
  const result = status.result;
  assert.ok(result !== undefined && typeof result !== "string");
  assert.deepEqual(result.actions, { Liveness_Check: "Something New", Future_Action: "Passed" });
  assert.deepEqual(result.raw.Antifraud, { x: true });
});

test("parseJobStatusResponse() rejects a tampered signature or timestamp", async () => {
  const body = await signedBody({ job_complete: true });
  const tampered = [
    { ...body, signature: (body.signature as string).replace(/^./, (c) => (c === "A" ? "B" : "A")) },
    { ...body, timestamp: "2001-01-01T00:00:00.000Z" },
  ];
  for (const candidate of tampered) {
    await assert.rejects(
      parseJobStatusResponse(JSON.stringify(candidate), { signer }),
      isCode("signature_mismatch", /could not be authenticated.*does not match timestamp/),
    );
  }
  const otherSigner = createSigner({ partnerId: "086", apiKey: "response-test-key" });
  await assert.rejects(parseJobStatusResponse(body, { signer: otherSigner }), isCode("signature_mismatch"));
});

test("parseJobStatusResponse() rejects a response without signature or timestamp", async () => {
  const { timestamp } = await signer.sign();
  for (
    const body of [{ job_complete: true }, { job_complete: true, timestamp }, { job_complete: true, signature: 5 }]
  ) {
    await assert.rejects(
      parseJobStatusResponse(body as JsonObject, { signer }),
      isCode("signature_mismatch", /could not be authenticated: expected string signature and timestamp/),
    );
  }
});

test("parseJobStatusResponse() checks the signature before the shape", async () => {
  await assert.rejects(
    parseJobStatusResponse({ job_complete: "yes", signature: "x", timestamp: "y" }, { signer }),
    isCode("signature_mismatch"),
  );
});

test("parseJobStatusResponse() reports shape problems with their paths", async () => {
  const body = await signedBody({
    job_complete: "true",
    result: { Actions: { Liveness_Check: null }, IsFinalResult: 1 },
    history: [{ ResultCode: ["0810"] }],
  });
  await assert.rejects(parseJobStatusResponse(JSON.stringify(body), { signer }), (error: unknown) => {
    assert.ok(error instanceof SmileIdError);
    assert.equal(error.code, "schema");
    const paths = (error.issues ?? []).map((issue) => issue.path);
    assert.deepEqual(paths, [
      "job_complete",
      "result.Actions.Liveness_Check",
      "result.IsFinalResult",
      "history.0.ResultCode",
    ]);
    assert.match(error.message, /does not have the documented shape: job_complete: /);
    assert.equal(error.body, JSON.stringify(body));
    return true;
  });
});

test("parseJobStatusResponse() turns Smile ID error bodies into http errors", async () => {
  const cases: Array<[number, unknown, string | undefined, string | undefined]> = [
    [401, { code: "2205", error: "You are not authorized to do that" }, "2205", "You are not authorized to do that"],
    [
      400,
      { error: "Job already exists. Did you mean to set the retry flag to true?", code: 2215 },
      "2215",
      "Job already exists. Did you mean to set the retry flag to true?",
    ],
    [500, "<html><body>Internal error</body></html>", undefined, undefined],
    [404, "", undefined, undefined],
  ];
  for (const [status, body, smileCode, serverMessage] of cases) {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    await assert.rejects(parseJobStatusResponse(new Response(text, { status }), { signer }), (error: unknown) => {
      assert.ok(error instanceof SmileIdError);
      assert.equal(error.code, "http");
      assert.equal(error.status, status);
      assert.equal(error.smileCode, smileCode);
      assert.equal(error.serverMessage, serverMessage);
      assert.equal(error.body, text === "" ? undefined : text);
      assert.match(error.message, new RegExp(`^Smile ID answered HTTP ${status}`));
      if (smileCode) assert.match(error.message, new RegExp(`with error ${smileCode}: `));
      return true;
    });
  }
});

test("parseJobStatusResponse() reads Retry-After in seconds and as an HTTP date", async () => {
  const seconds = new Response("busy", { status: 503, headers: { "retry-after": "7" } });
  await assert.rejects(parseJobStatusResponse(seconds, { signer }), (error: unknown) => {
    return error instanceof SmileIdError && error.retryAfterMs === 7000;
  });
  const date = new Date(Date.now() + 60_000).toUTCString();
  const dated = new Response("busy", { status: 429, headers: { "retry-after": date } });
  await assert.rejects(parseJobStatusResponse(dated, { signer }), (error: unknown) => {
    return error instanceof SmileIdError && error.retryAfterMs !== undefined && error.retryAfterMs > 50_000 &&
      error.retryAfterMs <= 60_000;
  });
});

test("parseJobStatusResponse() never follows a redirect", async () => {
  const redirect = new Response(null, { status: 307, headers: { location: "https://elsewhere.example/steal" } });
  await assert.rejects(
    parseJobStatusResponse(redirect, { signer }),
    isCode("http", /redirect \(HTTP 307 to "https:\/\/elsewhere.example\/steal"\), which is not followed/),
  );
});

test("parseJobStatusResponse() rejects bodies that are not JSON objects", async () => {
  const cases: Array<[string, RegExp]> = [
    ["", /not JSON: expected a JSON object, got an empty body/],
    ["<html>Bad gateway</html>", /not JSON: expected a JSON object, got "<html>Bad gateway<\/html>"/],
    ['{"job_complete": tr', /not JSON/],
    ["[1,2]", /not a JSON object: got an array/],
    ["null", /not a JSON object: got null/],
    ['"text"', /not a JSON object: got "text"/],
  ];
  for (const [body, message] of cases) {
    await assert.rejects(
      parseJobStatusResponse(new Response(body), { signer }),
      isCode("unexpected_response", message),
    );
  }
});

test("parseJobStatusResponse() refuses a body above maxBodyBytes without reading it whole", async () => {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(1024).fill(32));
      if (pulled > 10_000) controller.close();
    },
  });
  await assert.rejects(
    parseJobStatusResponse(new Response(stream), { signer, maxBodyBytes: 4096 }),
    isCode("payload_too_large", /larger than the limit of 4096 bytes/),
  );
  assert.ok(pulled < 10, `pulled ${pulled} chunks`);
  const declared = new Response("x".repeat(10), { headers: { "content-length": "99999999" } });
  await assert.rejects(parseJobStatusResponse(declared, { signer, maxBodyBytes: 100 }), isCode("payload_too_large"));
});

test("parseJobStatusResponse() refuses input that is not a body", async () => {
  // deno-lint-ignore no-explicit-any
  await assert.rejects(parseJobStatusResponse(42 as any, { signer }), isCode("invalid_argument"));
  // deno-lint-ignore no-explicit-any
  await assert.rejects(parseJobStatusResponse([1] as any, { signer }), isCode("invalid_argument"));
});
