import { test } from "node:test";
import {
  assert,
  assertEquals,
  assertExists,
  assertGreater,
  assertLessOrEqual,
  assertMatch,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
} from "@std/assert";
import { createSigner, type JsonObject, type JsonValue, parseJobStatusResponse, SmileIdError } from "../mod.ts";
import docsExample from "./testdata/job-status-docs-example.json" with { type: "json" };
import { assertRejectsWithCode } from "./_helpers.ts";

const signer = createSigner({ partnerId: "085", apiKey: "response-test-key" });

async function signedBody(body: JsonObject): Promise<JsonObject> {
  return { ...body, ...(await signer.sign()) };
}

test("parseJobStatusResponse() keeps Smile ID's documented example whole", async () => {
  const body = await signedBody(structuredClone(docsExample) as JsonObject);
  const text = JSON.stringify(body);
  const status = await parseJobStatusResponse(signer, new Response(text));
  assertEquals(status.raw, JSON.parse(text));
  assertStrictEquals(status.jobComplete, true);
  assertStrictEquals(status.jobSuccess, true);
  assertStrictEquals(status.code, "2302");
  assertStrictEquals(status.timestamp, body.timestamp);
  assertStrictEquals(status.signature, body.signature);
  assertEquals(status.imageLinks?.raw, { selfie_image: "image_link" });
  const result = status.result;
  assert(result !== undefined && typeof result !== "string");
  assertStrictEquals(result.resultCode, "0810");
  assertStrictEquals(result.resultText, "Enroll User");
  assertStrictEquals(result.resultType, "SAIA");
  assertStrictEquals(result.smileJobId, "0000001111");
  assertStrictEquals(result.confidence, 99);
  assertStrictEquals(result.isFinalResult, true);
  assertStrictEquals(result.isMachineResult, true);
  assertStrictEquals(result.actions.Register_Selfie, "Approved");
  assertStrictEquals(Object.keys(result.actions).length, 11);
  assertEquals(result.partnerParams, {
    userId: "HBBBBBBH57g",
    jobId: "HBBBBBBHg",
    jobType: "1",
    jobTypeNumber: 1,
    raw: docsExample.result.PartnerParams,
  });
  assertStrictEquals(result.raw.JSONVersion, "1.0.0");
  assertStrictEquals(result.raw.Source, "WebAPI");
  assertStrictEquals(status.history?.length, 1);
  assertStrictEquals(status.history?.[0]?.resultText, " Enroll User", "leading space kept as sent");
  assertStrictEquals(status.history?.[0]?.partnerParams?.raw.optional_info, "we are one");
});

test("parseJobStatusResponse() accepts a result given as a plain string", async () => {
  const body = await signedBody({ job_complete: false, job_success: false, code: "2302", result: "No zip uploaded" });
  const status = await parseJobStatusResponse(signer, JSON.stringify(body));
  assertStrictEquals(status.result, "No zip uploaded");
  assertStrictEquals(status.jobComplete, false);
  assertStrictEquals(status.history, undefined);
  assertStrictEquals(status.imageLinks, undefined);
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
  const status = await parseJobStatusResponse(signer, body);
  assertStrictEquals(status.code, "2302");
  assertStrictEquals(status.raw.code, 2302, "raw keeps the number as sent");
  const result = status.result;
  assert(result !== undefined && typeof result !== "string");
  assertStrictEquals(result.resultCode, "1012");
  assertStrictEquals(result.confidence, 97);
  assertStrictEquals(result.isFinalResult, false);
  assertStrictEquals(result.isMachineResult, undefined);
  assertStrictEquals(result.partnerParams?.jobType, "4");
  assertStrictEquals(result.partnerParams?.jobTypeNumber, 4);
  assertStrictEquals(result.partnerParams?.userId, "7");
  assertEquals(result.actions, {});
});

test("parseJobStatusResponse() keeps unknown fields and unknown Action values", async () => {
  const body = await signedBody({
    job_complete: true,
    kyc_receipt: "receipt",
    brand_new_field: { nested: [1, 2, 3] },
    result: { Actions: { Liveness_Check: "Something New", Future_Action: "Passed" }, Antifraud: { x: true } },
  });
  const status = await parseJobStatusResponse(signer, body);
  assertEquals(status.raw.brand_new_field, { nested: [1, 2, 3] });
  assertStrictEquals(status.raw.kyc_receipt, "receipt");
  const result = status.result;
  assert(result !== undefined && typeof result !== "string");
  assertEquals(result.actions, { Liveness_Check: "Something New", Future_Action: "Passed" });
  assertEquals(result.raw.Antifraud, { x: true });
});

test("parseJobStatusResponse() rejects a tampered signature or timestamp", async () => {
  const body = await signedBody({ job_complete: true });
  const tampered = [
    { ...body, signature: (body.signature as string).replace(/^./, (c) => (c === "A" ? "B" : "A")) },
    { ...body, timestamp: "2001-01-01T00:00:00.000Z" },
  ];
  for (const candidate of tampered) {
    await assertRejectsWithCode(
      () => parseJobStatusResponse(signer, JSON.stringify(candidate)),
      "signature_mismatch",
      /could not be authenticated.*does not match timestamp/,
    );
  }
  const otherSigner = createSigner({ partnerId: "086", apiKey: "response-test-key" });
  await assertRejectsWithCode(() => parseJobStatusResponse(otherSigner, body), "signature_mismatch");
});

test("parseJobStatusResponse() rejects a response without signature or timestamp as missing_signature", async () => {
  const { timestamp } = await signer.sign();
  for (
    const body of [{ job_complete: true }, { job_complete: true, timestamp }, { job_complete: true, signature: 5 }]
  ) {
    const error = await assertRejectsWithCode(
      () => parseJobStatusResponse(signer, body as JsonObject),
      "missing_signature",
      /could not be authenticated: expected string signature and timestamp/,
    );
    assertStrictEquals(error.smileCode, undefined);
  }
});

test("parseJobStatusResponse() reports Smile ID's error body on a 2xx with its code and quoted message", async () => {
  const cases: Array<[unknown, string | undefined, string]> = [
    [{ code: "2205", error: "You are not authorized to do that" }, "2205", "You are not authorized to do that"],
    [{ error: "Job already exists", code: 2215 }, "2215", "Job already exists"],
    [{ error: "Line one\nFAKE LOG LINE" }, undefined, "Line one\nFAKE LOG LINE"],
  ];
  for (const [body, smileCode, serverMessage] of cases) {
    const text = JSON.stringify(body);
    const error = await assertRejectsWithCode(
      () => parseJobStatusResponse(signer, new Response(text, { status: 200 })),
      "missing_signature",
      /^The job status response is not signed: Smile ID answered HTTP 200 with /,
    );
    assertStrictEquals(error.smileCode, smileCode);
    assertStrictEquals(error.serverMessage, serverMessage);
    assertStrictEquals(error.status, 200);
    assertStrictEquals(error.body, text);
    assertStringIncludes(error.message, JSON.stringify(serverMessage), "the server's text is quoted");
    assert(!error.message.includes("\n"), "no raw newline from the server reaches the message");
    if (smileCode) assertStringIncludes(error.message, `error ${smileCode} (`);
  }
  const parsed = await assertRejectsWithCode(
    () => parseJobStatusResponse(signer, { code: "2204", error: "unauthorized" }),
    "missing_signature",
    /^The job status response is not signed: Smile ID answered error 2204 \("unauthorized"\) and no signature/,
  );
  assertStrictEquals(parsed.smileCode, "2204");
});

test("parseJobStatusResponse() checks the signature before the shape", async () => {
  await assertRejectsWithCode(
    () => parseJobStatusResponse(signer, { job_complete: "yes", signature: "x", timestamp: "y" }),
    "signature_mismatch",
  );
});

test("parseJobStatusResponse() refuses only an answer without a readable job_complete", async () => {
  for (const jobComplete of [undefined, null, "yes", 1, ["true"], { value: true }]) {
    const body = await signedBody({
      ...(jobComplete === undefined ? {} : { job_complete: jobComplete as JsonValue }),
      result: { Actions: { Liveness_Check: null }, IsFinalResult: 1 },
      history: [{ ResultCode: ["0810"] }],
    });
    const error = await assertRejectsWithCode(
      () => parseJobStatusResponse(signer, JSON.stringify(body)),
      "schema",
      /does not have the documented shape: job_complete: /,
      JSON.stringify(jobComplete),
    );
    assertEquals((error.issues ?? []).map((issue) => issue.path), ["job_complete"], "the odd result fields are kept");
    assertStrictEquals(error.body, JSON.stringify(body));
  }
});

test('parseJobStatusResponse() reads job_complete "true" and "false" as booleans', async () => {
  for (const [sent, read] of [["true", true], ["false", false]] as const) {
    const status = await parseJobStatusResponse(signer, await signedBody({ job_complete: sent }));
    assertStrictEquals(status.jobComplete, read);
    assertStrictEquals(status.raw.job_complete, sent, "raw keeps the string");
  }
});

test("parseJobStatusResponse() keeps odd top-level values: undefined in the view, as sent in raw", async () => {
  const odd: JsonObject = {
    job_complete: true,
    job_success: null,
    code: null,
    history: { not: "an array" },
    image_links: ["https://example.invalid/selfie.jpg"],
  };
  const status = await parseJobStatusResponse(signer, await signedBody(odd));
  assertStrictEquals(status.jobSuccess, undefined);
  assertStrictEquals(status.code, undefined);
  assertStrictEquals(status.history, undefined);
  assertStrictEquals(status.imageLinks, undefined);
  assertStrictEquals(status.result, undefined);
  assertEquals({ ...status.raw, signature: undefined, timestamp: undefined }, {
    ...odd,
    signature: undefined,
    timestamp: undefined,
  });

  const more = await parseJobStatusResponse(
    signer,
    await signedBody({ job_complete: false, job_success: "false", code: { n: 1 }, result: 42, history: ["text"] }),
  );
  assertStrictEquals(more.jobSuccess, false, 'job_success "false" is read as a boolean');
  assertStrictEquals(more.code, undefined);
  assertStrictEquals(more.result, undefined);
  assertStrictEquals(more.history, undefined, "a history with an entry that is not a result object");
  assertEquals(more.raw.history, ["text"]);
});

test("parseJobStatusResponse() keeps odd result fields: undefined in the view, as sent in raw", async () => {
  const odd: JsonObject = {
    ResultCode: null,
    ResultText: 5,
    ResultType: ["SAIA"],
    SmileJobID: { id: 1 },
    PartnerParams: { user_id: null, job_id: ["job-1"], job_type: true },
    ConfidenceValue: "high",
    IsFinalResult: 1,
    IsMachineResult: null,
    Actions: {
      Liveness_Check: null,
      Verify_ID_Number: 1,
      Selfie_Check: { v: "Passed" },
      Return_Personal_Info: "Returned",
    },
  };
  const status = await parseJobStatusResponse(
    signer,
    await signedBody({ job_complete: true, result: odd, history: [odd] }),
  );
  for (const result of [status.result, status.history?.[0]]) {
    assert(typeof result === "object");
    assertEquals(
      [result.resultCode, result.resultText, result.resultType, result.smileJobId, result.confidence],
      [undefined, undefined, undefined, undefined, undefined],
    );
    assertEquals([result.isFinalResult, result.isMachineResult], [undefined, undefined]);
    assertEquals(
      [result.partnerParams?.userId, result.partnerParams?.jobId, result.partnerParams?.jobType],
      [undefined, undefined, undefined],
    );
    assertEquals(result.actions, { Return_Personal_Info: "Returned" }, "only string action values are typed");
    assertEquals(result.raw, odd);
  }
});

test("parseJobStatusResponse() never takes an array for an object", async () => {
  const arrays = await parseJobStatusResponse(signer, await signedBody({ job_complete: true, result: [] }));
  assertStrictEquals(arrays.result, undefined);
  assertEquals(arrays.raw.result, []);
  const nested = await parseJobStatusResponse(
    signer,
    await signedBody({
      job_complete: true,
      result: { ResultCode: "1012", PartnerParams: [1], Actions: ["Passed"] },
      history: [[{ ResultCode: "0810" }]],
      image_links: [],
    }),
  );
  const result = nested.result;
  assert(typeof result === "object");
  assertStrictEquals(result.resultCode, "1012");
  assertStrictEquals(result.partnerParams, undefined);
  assertEquals(result.actions, {});
  assertEquals(result.raw.PartnerParams, [1]);
  assertStrictEquals(nested.history, undefined);
  assertStrictEquals(nested.imageLinks, undefined);
});

test("parseJobStatusResponse() lets no __proto__, constructor or prototype key put a non-string into actions", async () => {
  const { signature, timestamp } = await signer.sign();
  const text = `{"job_complete":true,"signature":"${signature}","timestamp":"${timestamp}","result":{"Actions":` +
    `{"__proto__":{"Liveness_Check":"Passed"},"constructor":5,"prototype":[1],"Selfie_Check":"Passed"}}}`;
  const status = await parseJobStatusResponse(signer, text);
  const result = status.result;
  assert(typeof result === "object");
  assertEquals(Object.keys(result.actions), ["Selfie_Check"]);
  assertStrictEquals(Object.getPrototypeOf(result.actions), Object.prototype);
  assertStrictEquals(result.actions.Liveness_Check, undefined, "nothing arrives through a prototype");
  assertStrictEquals(Object.hasOwn(result.actions, "constructor"), false);
  assertStrictEquals(Object.hasOwn(result.raw.Actions as JsonObject, "__proto__"), true, "raw keeps the key");

  const strings = `{"job_complete":true,"signature":"${signature}","timestamp":"${timestamp}","result":{"Actions":` +
    `{"__proto__":"Passed","constructor":"Approved","prototype":"Returned"}}}`;
  const kept = (await parseJobStatusResponse(signer, strings)).result;
  assert(typeof kept === "object");
  assertEquals(Object.keys(kept.actions).sort(), ["__proto__", "constructor", "prototype"]);
  for (const value of Object.values(kept.actions)) assertStrictEquals(typeof value, "string");
  assertStrictEquals(Object.getPrototypeOf(kept.actions), Object.prototype, "the prototype is never replaced");
});

test("parseJobStatusResponse() verifies a Unix-millisecond string timestamp, as in the Java SDK's fixture", async () => {
  const body = {
    job_complete: false,
    job_success: false,
    code: "2314",
    result: "No zip file received",
    ...(await signer.sign("1678216434434")),
  };
  const status = await parseJobStatusResponse(signer, JSON.stringify(body));
  assertStrictEquals(status.timestamp, "1678216434434");
  assertEquals([status.jobComplete, status.code, status.result], [false, "2314", "No zip file received"]);
});

test("parseJobStatusResponse() with request refuses the request's own timestamp and signature echoed back", async () => {
  const signed = await signer.sign("2024-01-01T00:00:00.000Z");
  const request = { userId: "user-1", jobId: "job-1", signed };
  const madeUp = JSON.stringify({
    job_complete: true,
    job_success: true,
    code: "2302",
    result: { ResultCode: "1012", PartnerParams: { user_id: "user-1", job_id: "job-1" } },
    ...signed,
  });
  const error = await assertRejectsWithCode(
    () => parseJobStatusResponse(signer, madeUp, { request }),
    "signature_mismatch",
    /carries the request's own timestamp and signature/,
  );
  assertStrictEquals(error.body, undefined, "the body holds the request's reusable pair, so it is not kept");
  assert(!error.message.includes(signed.signature), "the request's signature is not repeated");
  // Without the request to compare with, the pair verifies like any other.
  assertStrictEquals((await parseJobStatusResponse(signer, madeUp)).jobComplete, true);
  // The server's own pair is accepted.
  const genuine = { ...JSON.parse(madeUp), ...(await signer.sign("2024-01-01T00:00:00.250Z")) };
  assertStrictEquals((await parseJobStatusResponse(signer, genuine, { request })).jobComplete, true);
});

test("parseJobStatusResponse() with request refuses a result for another user or job, naming the field only", async () => {
  const signed = await signer.sign("2024-01-01T00:00:00.000Z");
  const request = { userId: "user-1", jobId: "job-1", signed };
  const answer = async (params: JsonValue, complete = true) =>
    await signedBody({ job_complete: complete, result: { ResultCode: "1012", PartnerParams: params } });
  const cases: Array<[JsonValue, RegExp]> = [
    [{ user_id: "user-2", job_id: "job-1" }, /its result's PartnerParams\.user_id is not the query's/],
    [{ user_id: "user-1", job_id: "job-9" }, /its result's PartnerParams\.job_id is not the query's/],
    [{ user_id: "user-2", job_id: "job-9" }, /PartnerParams\.user_id and PartnerParams\.job_id are not the query's/],
  ];
  for (const [params, message] of cases) {
    for (const complete of [true, false]) {
      const error = await assertRejectsWithCode(
        async () => parseJobStatusResponse(signer, await answer(params, complete), { request }),
        "answer_mismatch",
        message,
      );
      assert(!/user-2|job-9|user-1|job-1/.test(error.message), "no id appears in the message");
      assertStrictEquals(error.body, undefined);
    }
  }
  // Ids that agree, numbers given for strings, or no ids at all are the query's answer.
  const numeric = { userId: 42, jobId: "7", signed };
  const agreeing: Array<[JsonValue, typeof request | typeof numeric]> = [
    [{ user_id: "user-1", job_id: "job-1", job_type: 5 }, request],
    [{ user_id: "42", job_id: 7 }, numeric],
    [{ job_type: 5 }, request],
    [{ user_id: null, job_id: ["x"] }, request],
  ];
  for (const [params, query] of agreeing) {
    assertStrictEquals(
      (await parseJobStatusResponse(signer, await answer(params), { request: query })).jobComplete,
      true,
    );
  }
});

test("parseJobStatusResponse() refuses a Response that fetch reached by following a redirect", async () => {
  const response = Response.json(await signedBody({ job_complete: true }));
  Object.defineProperty(response, "redirected", { value: true });
  Object.defineProperty(response, "url", { value: "https://elsewhere.example/v1/job_status" });
  const error = await assertRejectsWithCode(
    () => parseJobStatusResponse(signer, response),
    "http",
    /came through a redirect that fetch followed \(to "https:\/\/elsewhere\.example\/v1\/job_status"\)/,
  );
  assertStrictEquals(error.status, undefined, "no status, so polling never re-sends the request");
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
    const error = await assertRejectsWithCode(
      () => parseJobStatusResponse(signer, new Response(text, { status })),
      "http",
      new RegExp(`^Smile ID answered HTTP ${status}`),
    );
    assertStrictEquals(error.status, status);
    assertStrictEquals(error.smileCode, smileCode);
    assertStrictEquals(error.serverMessage, serverMessage);
    assertStrictEquals(error.body, text === "" ? undefined : text);
    if (smileCode) assertMatch(error.message, new RegExp(`with error ${smileCode}: `));
  }
});

test("parseJobStatusResponse() reads Retry-After in seconds and as an HTTP date", async () => {
  const seconds = new Response("busy", { status: 503, headers: { "retry-after": "7" } });
  const busy = await assertRejects(() => parseJobStatusResponse(signer, seconds), SmileIdError);
  assertStrictEquals(busy.retryAfterMs, 7000);
  const date = new Date(Date.now() + 60_000).toUTCString();
  const dated = new Response("busy", { status: 429, headers: { "retry-after": date } });
  const limited = await assertRejects(() => parseJobStatusResponse(signer, dated), SmileIdError);
  assertExists(limited.retryAfterMs);
  assertGreater(limited.retryAfterMs, 50_000);
  assertLessOrEqual(limited.retryAfterMs, 60_000);
});

test("parseJobStatusResponse() never follows a redirect", async () => {
  const redirect = new Response(null, { status: 307, headers: { location: "https://elsewhere.example/steal" } });
  await assertRejectsWithCode(
    () => parseJobStatusResponse(signer, redirect),
    "http",
    /redirect \(HTTP 307 to "https:\/\/elsewhere.example\/steal"\), which is not followed/,
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
    await assertRejectsWithCode(
      () => parseJobStatusResponse(signer, new Response(body)),
      "unexpected_response",
      message,
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
  await assertRejectsWithCode(
    () => parseJobStatusResponse(signer, new Response(stream), { maxBodyBytes: 4096 }),
    "payload_too_large",
    /larger than the limit of 4096 bytes/,
  );
  assert(pulled < 10, `pulled ${pulled} chunks`);
  const declared = new Response("x".repeat(10), { headers: { "content-length": "99999999" } });
  await assertRejectsWithCode(
    () => parseJobStatusResponse(signer, declared, { maxBodyBytes: 100 }),
    "payload_too_large",
  );
});

test("parseJobStatusResponse() refuses input that is not a body", async () => {
  // deno-lint-ignore no-explicit-any
  await assertRejectsWithCode(() => parseJobStatusResponse(signer, 42 as any), "invalid_argument");
  // deno-lint-ignore no-explicit-any
  await assertRejectsWithCode(() => parseJobStatusResponse(signer, [1] as any), "invalid_argument");
});
