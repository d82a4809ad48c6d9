import { test } from "node:test";
import {
  assert,
  assertEquals,
  assertExists,
  assertGreater,
  assertLessOrEqual,
  assertMatch,
  assertNotStrictEquals,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import { createClient, createSigner, type JsonObject, SmileIdError } from "../mod.ts";
import { createFakeSmileId, type FakeSmileIdOptions } from "../src/testing/mod.ts";
import { assertRejectsWithCode, assertThrowsWithCode } from "./_helpers.ts";
import docsExample from "./testdata/job-status-docs-example.json" with { type: "json" };

const partnerId = "085";
const apiKey = "fake-test-key";
const signer = createSigner({ partnerId, apiKey });
const ENDPOINT = "http://127.0.0.1:8787/v1/job_status";
const query = { userId: "user-1", jobId: "job-1" };

function setup(options: Partial<FakeSmileIdOptions> = {}) {
  const fake = createFakeSmileId({ partnerId, apiKey, ...options });
  const client = createClient({ partnerId, apiKey, server: "http://127.0.0.1:8787/v1", fetch: fake.fetch });
  return { fake, client };
}

async function requestBody(overrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return { user_id: "user-1", job_id: "job-1", partner_id: partnerId, ...(await signer.sign()), ...overrides };
}

function post(body: unknown, init: RequestInit = {}): Request {
  return new Request(ENDPOINT, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

async function errorOf(response: Response): Promise<{ status: number; body: JsonObject }> {
  return { status: response.status, body: await response.json() };
}

test("createFakeSmileId() answers the documented example with the job's own ids", async () => {
  const { fake, client } = setup();
  fake.addJob(query);
  const status = await client.getJobStatus(query);
  assertStrictEquals(status.jobComplete, true);
  assertStrictEquals(status.jobSuccess, true);
  assertStrictEquals(status.code, "2302");
  assertStrictEquals(status.history, undefined, "history only when asked for");
  assertStrictEquals(status.imageLinks, undefined, "image links only when asked for");
  const result = status.result;
  assert(typeof result === "object");
  const expected = structuredClone(docsExample.result) as JsonObject;
  expected.PartnerParams = { ...docsExample.result.PartnerParams, user_id: "user-1", job_id: "job-1" };
  assertEquals(result.raw, expected);
  assertStrictEquals(result.resultCode, "0810");
  assertStrictEquals(result.partnerParams?.userId, "user-1");
  assertStrictEquals(result.partnerParams?.jobId, "job-1");
});

test("createFakeSmileId() honours history and image_links", async () => {
  const { fake, client } = setup();
  fake.addJob(query);
  fake.addJob({
    userId: "user-2",
    jobId: "job-2",
    history: [{ ResultCode: "0814", ResultText: "Provisional Enroll - Under Review" }],
    imageLinks: { selfie_image: "https://example.invalid/selfie.jpg", liveness_images: ["a", "b"] },
  });
  const status = await client.getJobStatus({ ...query, includeHistory: true, includeImageLinks: true });
  assertStrictEquals(status.history?.length, 1);
  assertStrictEquals(status.history?.[0]?.resultText, " Enroll User", "the documented history entry, as printed");
  assertStrictEquals(status.history?.[0]?.partnerParams?.jobId, "job-1");
  assertMatch(String(status.imageLinks?.selfie_image), /^https:\/\/fake-smile-id\.invalid\/images\/job-1\//);

  const other = await client.getJobStatus({ userId: "user-2", jobId: "job-2", includeHistory: true });
  assertEquals(other.history?.map((entry) => entry.resultCode), ["0814"]);
  assertStrictEquals(other.imageLinks, undefined);
  const links = await client.getJobStatus({ userId: "user-2", jobId: "job-2", includeImageLinks: true });
  assertEquals(links.imageLinks, {
    selfie_image: "https://example.invalid/selfie.jpg",
    liveness_images: ["a", "b"],
  });
});

test("createFakeSmileId() answers job_complete false until completesAfterMs has passed on its clock", async () => {
  let clock = Date.parse("2024-05-01T10:00:00.000Z");
  const { fake, client } = setup({ now: () => clock });
  fake.addJob({ ...query, completesAfterMs: 3000 });
  const before = await client.getJobStatus({ ...query, includeHistory: true, includeImageLinks: true });
  assertStrictEquals(before.jobComplete, false);
  assertStrictEquals(before.jobSuccess, false);
  assertStrictEquals(before.result, undefined);
  assertEquals(before.history, []);
  assertEquals(before.imageLinks, {});
  clock += 2999;
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, false);
  clock += 1;
  const after = await client.getJobStatus(query);
  assertStrictEquals(after.jobComplete, true);
  assertStrictEquals(after.jobSuccess, true);
  assertStrictEquals(typeof after.result, "object");
});

test("completeJob() completes a job at once", async () => {
  const { fake, client } = setup();
  fake.addJob({ ...query, completesAfterMs: Infinity });
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, false);
  fake.completeJob("job-1");
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, true);
  assertThrowsWithCode(() => fake.completeJob("nope"), "invalid_argument");
});

test("createFakeSmileId() signs each answer with a fresh timestamp from its clock", async () => {
  let clock = Date.parse("2024-05-01T10:00:00.000Z");
  const { fake } = setup({ now: () => clock });
  fake.addJob(query);
  const first = await (await fake.fetch(post(await requestBody()))).json();
  assertStrictEquals(first.timestamp, "2024-05-01T10:00:00.000Z");
  assertStrictEquals(await signer.verify(first.timestamp, first.signature), true);
  clock += 1500;
  const second = await (await fake.fetch(post(await requestBody()))).json();
  assertStrictEquals(second.timestamp, "2024-05-01T10:00:01.500Z");
  assertNotStrictEquals(second.signature, first.signature);
  assertStrictEquals(await signer.verify(second.timestamp, second.signature), true);
});

test("createFakeSmileId() keeps a custom result, string results and job_success false", async () => {
  const { fake, client } = setup();
  fake.addJob({
    ...query,
    jobSuccess: false,
    result: { ResultCode: "1022", ResultText: "No Match", Actions: { Verify_ID_Number: "Not Verified" } },
  });
  fake.addJob({ userId: "user-2", jobId: "job-2", result: "No zip uploaded" });
  const status = await client.getJobStatus({ ...query, includeHistory: true });
  assertStrictEquals(status.jobSuccess, false);
  assert(typeof status.result === "object");
  assertStrictEquals(status.result.resultCode, "1022");
  assertEquals(status.result.partnerParams?.raw, { user_id: "user-1", job_id: "job-1" }, "ids added when absent");
  assertEquals(status.history?.map((entry) => entry.resultCode), ["1022"], "history defaults to [result]");
  assertStrictEquals((await client.getJobStatus({ userId: "user-2", jobId: "job-2" })).result, "No zip uploaded");
});

test("createFakeSmileId() accepts numeric ids and the old string flags, like the SDKs send them", async () => {
  const { fake } = setup();
  fake.addJob({ userId: "42", jobId: "7" });
  const response = await fake.fetch(post(await requestBody({ user_id: 42, job_id: 7, history: "true" })));
  assertStrictEquals(response.status, 200);
  const body = await response.json();
  assertStrictEquals(body.job_complete, true);
  assertStrictEquals(body.history.length, 1);
});

test("createFakeSmileId() answers 404 for other paths and 405 for other methods", async () => {
  const { fake } = setup();
  const notFound = await fake.fetch(new Request("http://127.0.0.1/v1/upload", { method: "POST" }));
  assertStrictEquals(notFound.status, 404);
  assertMatch(String((await notFound.json()).error), /Not found/);
  const get = await fake.fetch(new Request(ENDPOINT));
  assertStrictEquals(get.status, 405);
  assertStrictEquals(get.headers.get("allow"), "POST");
  await get.body?.cancel();
  const put = await fake.fetch(post(await requestBody(), { method: "PUT" }));
  assertStrictEquals(put.status, 405);
  await put.body?.cancel();
});

test("createFakeSmileId() serves /v1/job_status under any origin and a configurable base path", async () => {
  const { fake } = setup();
  fake.addJob(query);
  const sandbox = await fake.fetch(
    new Request("https://testapi.smileidentity.com/v1/job_status", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(await requestBody()),
    }),
  );
  assertStrictEquals(sandbox.status, 200);
  await sandbox.body?.cancel();

  const custom = createFakeSmileId({ partnerId, apiKey, basePath: "/smile/v1/" });
  custom.addJob(query);
  const client = createClient({ partnerId, apiKey, server: "http://localhost:9/smile/v1", fetch: custom.fetch });
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, true);
  const old = await custom.fetch(post(await requestBody()));
  assertStrictEquals(old.status, 404);
  await old.body?.cancel();
});

test("createFakeSmileId() refuses a body that is not JSON or not sent as JSON", async () => {
  const { fake } = setup();
  fake.addJob(query);
  const plain = await fake.fetch(post(await requestBody(), { headers: { "content-type": "text/plain" } }));
  assertEquals((await errorOf(plain)).status, 415);
  const notJson = await errorOf(await fake.fetch(post("{user_id:")));
  assertEquals(notJson, { status: 400, body: { code: "2203", error: "Invalid JSON" } });
  const array = await errorOf(await fake.fetch(post([await requestBody()])));
  assertStrictEquals(array.status, 400);
  assertStrictEquals(array.body.code, "2203");
  const big = await fake.fetch(post({ ...(await requestBody()), padding: "x".repeat(1024 * 1024) }));
  assertStrictEquals(big.status, 413);
  await big.body?.cancel();
});

test("createFakeSmileId() answers 2213 for each missing or empty required field", async () => {
  const { fake } = setup();
  fake.addJob(query);
  for (const field of ["user_id", "job_id", "partner_id", "timestamp", "signature"]) {
    const body = await requestBody();
    delete body[field];
    const answer = await errorOf(await fake.fetch(post(body)));
    assertStrictEquals(answer.status, 400, field);
    assertStrictEquals(answer.body.code, "2213", field);
    assertMatch(String(answer.body.error), new RegExp(field), field);
    const empty = await errorOf(await fake.fetch(post(await requestBody({ [field]: "" }))));
    assertStrictEquals(empty.body.code, "2213", `empty ${field}`);
  }
});

test("createFakeSmileId() answers 2204 for fields of the wrong type", async () => {
  const { fake } = setup();
  fake.addJob(query);
  for (const wrong of [{ user_id: { id: 1 } }, { signature: 44 }, { history: "yes" }, { image_links: 1 }]) {
    const answer = await errorOf(await fake.fetch(post(await requestBody(wrong))));
    assertStrictEquals(answer.status, 400, JSON.stringify(wrong));
    assertStrictEquals(answer.body.code, "2204", JSON.stringify(wrong));
  }
});

test("createFakeSmileId() answers 401 with code 2205 for a bad signature or another partner", async () => {
  const { fake } = setup();
  fake.addJob(query);
  const expected = { status: 401, body: { code: "2205", error: "You are not authorized to do that" } };
  const otherKey = await createSigner({ partnerId, apiKey: "someone-else" }).sign();
  assertEquals(await errorOf(await fake.fetch(post(await requestBody({ ...otherKey })))), expected);
  const signed = await signer.sign("2024-01-01T00:00:00.000Z");
  const moved = { signature: signed.signature, timestamp: "2024-01-01T00:00:00.001Z" };
  assertEquals(await errorOf(await fake.fetch(post(await requestBody(moved)))), expected, "timestamp not signed");
  const as85 = await createSigner({ partnerId: "85", apiKey }).sign();
  assertEquals(
    await errorOf(await fake.fetch(post(await requestBody({ ...as85, partner_id: "85" })))),
    expected,
    "085 and 85 are different partners",
  );
  assertEquals(
    await errorOf(await fake.fetch(post(await requestBody({ signature: "not base64" })))),
    expected,
  );
  const client = createClient({
    partnerId,
    apiKey: "wrong-key",
    server: "http://127.0.0.1:8787/v1",
    fetch: fake.fetch,
  });
  const error = await assertRejectsWithCode(() => client.getJobStatus(query), "http");
  assertStrictEquals(error.status, 401);
  assertStrictEquals(error.smileCode, "2205");
});

test("createFakeSmileId() answers 404 with code 2210 for an unknown job", async () => {
  const { fake, client } = setup();
  fake.addJob(query);
  const missingJob = await assertRejectsWithCode(
    () => client.getJobStatus({ userId: "user-1", jobId: "job-404" }),
    "http",
  );
  assertStrictEquals(missingJob.status, 404);
  assertStrictEquals(missingJob.smileCode, "2210");
  const message = "a job belongs to its user";
  const otherUser = await assertRejectsWithCode(
    () => client.getJobStatus({ userId: "someone-else", jobId: "job-1" }),
    "http",
    undefined,
    message,
  );
  assertStrictEquals(otherUser.smileCode, "2210", message);
});

test("createFakeSmileId() creates unknown jobs on first query when autoCreateJobs is set", async () => {
  let clock = 1_700_000_000_000;
  const { client } = setup({ now: () => clock, autoCreateJobs: { completesAfterMs: 1000 } });
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, false);
  clock += 1000;
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, true);
  await assertRejectsWithCode(() => client.getJobStatus({ userId: "other", jobId: "job-1" }), "http");
});

test("fake.fetch works unbound and with a URL and init like the global fetch", async () => {
  const { fake } = setup();
  fake.addJob(query);
  const unbound = fake.fetch;
  const response = await unbound(ENDPOINT, {
    method: "POST",
    headers: { "content-type": "application/json; charset=utf-8" },
    body: JSON.stringify(await requestBody()),
  });
  assertStrictEquals(response.status, 200);
  assertStrictEquals((await response.json()).job_complete, true);
});

test("injectFault() answers a status for the next N calls, with Retry-After, then serves normally", async () => {
  const { fake, client } = setup();
  fake.addJob(query);
  fake.injectFault({ status: 503, times: 2, retryAfter: 3 });
  for (let i = 0; i < 2; i++) {
    const error = await assertRejectsWithCode(() => client.getJobStatus(query), "http");
    assertStrictEquals(error.status, 503);
    assertStrictEquals(error.retryAfterMs, 3000);
  }
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, true);

  const date = new Date(Date.now() + 60_000).toUTCString();
  fake.injectFault({ status: 429, retryAfter: date, errorBody: { code: "2201", error: "Slow down" } });
  const error = await assertRejectsWithCode(() => client.getJobStatus(query), "http");
  assertStrictEquals(error.status, 429);
  assertStrictEquals(error.smileCode, "2201");
  assertExists(error.retryAfterMs);
  assertGreater(error.retryAfterMs, 50_000);
  assertLessOrEqual(error.retryAfterMs, 60_000);
});

test("injectFault() corrupts answers: malformed, truncated, empty and badly signed", async () => {
  const { fake, client } = setup();
  fake.addJob(query);
  fake.injectFault({ body: "malformed" });
  fake.injectFault({ body: "truncated" });
  fake.injectFault({ body: "empty" });
  fake.injectFault({ badSignature: true });
  const malformed = await assertRejectsWithCode(() => client.getJobStatus(query), "unexpected_response");
  assertMatch(malformed.body ?? "", /doctype/);
  const truncated = await assertRejectsWithCode(() => client.getJobStatus(query), "unexpected_response");
  assertMatch(truncated.body ?? "", /^\{"job_complete"/);
  await assertRejectsWithCode(() => client.getJobStatus(query), "unexpected_response");
  await assertRejectsWithCode(() => client.getJobStatus(query), "signature_mismatch");
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, true, "faults are used up in order");
});

test("injectFault() simulates network errors and latency, and clearFaults() drops pending faults", async () => {
  const { fake, client } = setup();
  fake.addJob(query);
  fake.injectFault({ networkError: true });
  await assertRejectsWithCode(() => client.getJobStatus(query), "transport");

  fake.injectFault({ latencyMs: 60 });
  const started = Date.now();
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, true);
  assert(Date.now() - started >= 55, `latency applied (${Date.now() - started} ms)`);

  fake.injectFault({ latencyMs: 5000 });
  await assertRejectsWithCode(() => client.getJobStatus(query, { timeoutMs: 30 }), "timeout");
  fake.injectFault({ latencyMs: 5000 });
  const controller = new AbortController();
  const pending = client.getJobStatus(query, { signal: controller.signal });
  controller.abort();
  await assertRejectsWithCode(() => pending, "aborted");

  fake.injectFault({ status: 500, times: Infinity });
  fake.clearFaults();
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, true);
  assertThrowsWithCode(() => fake.injectFault({ times: 0, status: 500 }), "invalid_argument");
  assertThrowsWithCode(() => fake.injectFault({ status: 99 }), "invalid_argument");
});

test("fake.requests logs every request, and onRequest sees each as it is answered", async () => {
  let clock = 1_000;
  const seen: number[] = [];
  const { fake, client } = setup({ now: () => clock, onRequest: (record) => seen.push(record.status) });
  fake.addJob({ ...query, completesAfterMs: 10 });
  await client.getJobStatus(query);
  clock = 2_000;
  await client.getJobStatus(query);
  fake.injectFault({ status: 502 });
  await assertRejects(() => client.getJobStatus(query));
  await fake.fetch(new Request(ENDPOINT)).then((r) => r.body?.cancel());
  assertStrictEquals(fake.requests.length, 4);
  assertEquals(seen, [200, 200, 502, 405]);
  assertEquals(fake.requests[0], {
    at: 1_000,
    method: "POST",
    path: "/v1/job_status",
    status: 200,
    userId: "user-1",
    jobId: "job-1",
    smileCode: undefined,
    jobComplete: false,
    faulted: false,
  });
  assertStrictEquals(fake.requests[1]?.jobComplete, true);
  assertStrictEquals(fake.requests[2]?.faulted, true);
  fake.clearRequests();
  assertStrictEquals(fake.requests.length, 0);
  await assertRejects(() => client.getJobStatus({ userId: "u", jobId: "missing" }));
  assertStrictEquals(fake.requests[0]?.smileCode, "2210");
  assertStrictEquals(fake.requests[0]?.jobId, "missing");
});

test("addJob() validates its input and refuses a job id twice", () => {
  const { fake } = setup();
  fake.addJob(query);
  assertThrowsWithCode(() => fake.addJob(query), "invalid_argument", /already exists/);
  assertThrowsWithCode(() => fake.addJob({ userId: "", jobId: "x" }), "invalid_argument");
  assertThrowsWithCode(() => fake.addJob({ userId: "u", jobId: "y", completesAfterMs: -1 }), "invalid_argument");
  assertThrowsWithCode(
    () => fake.addJob({ userId: "u", jobId: "z", result: 42 as unknown as string }),
    "invalid_argument",
  );
  assertThrowsWithCode(() => createFakeSmileId({ partnerId: 85 as unknown as string, apiKey }), "invalid_argument");
  assertThrowsWithCode(() => createFakeSmileId({ partnerId, apiKey: "" }), "invalid_argument");
});

test("sendCallback() posts the signed result to a handler the way Smile ID does", async () => {
  let clock = Date.parse("2024-05-01T10:00:00.000Z");
  const { fake } = setup({ now: () => clock });
  fake.addJob(query);
  let received: { method: string; type: string | null; body: JsonObject } | undefined;
  const response = await fake.sendCallback("job-1", async (request) => {
    received = { method: request.method, type: request.headers.get("content-type"), body: await request.json() };
    return new Response("ok");
  });
  assertStrictEquals(await response.text(), "ok");
  assert(received);
  assertStrictEquals(received.method, "POST");
  assertStrictEquals(received.type, "application/json");
  const { signature, timestamp, ...result } = received.body;
  assertStrictEquals(timestamp, "2024-05-01T10:00:00.000Z");
  assertStrictEquals(await signer.verify(timestamp, signature), true);
  assertStrictEquals(result.ResultCode, "0810");
  assertEquals((result.PartnerParams as JsonObject).job_id, "job-1");
  assertStrictEquals("job_complete" in result, false, "a bare result, not a job-status answer");
  clock += 1;
  const again = await fake.buildCallback("job-1");
  assertStrictEquals(again.timestamp, "2024-05-01T10:00:00.001Z");
});

test("buildCallback() forges, back-dates and re-envelopes callbacks for handler tests", async () => {
  const { fake } = setup();
  fake.addJob(query);
  fake.addJob({ userId: "user-2", jobId: "job-2", result: "No zip uploaded" });
  const forged = await fake.buildCallback("job-1", { badSignature: true });
  assertStrictEquals(await signer.verify(forged.timestamp, forged.signature), false);
  const literal = await fake.buildCallback("job-1", { signature: "AAAA" });
  assertStrictEquals(literal.signature, "AAAA");
  const stale = await fake.buildCallback("job-1", { timestamp: "2020-01-01T00:00:00.000Z" });
  assertStrictEquals(stale.timestamp, "2020-01-01T00:00:00.000Z");
  assertStrictEquals(await signer.verify(stale.timestamp, stale.signature), true);
  const tampered = await fake.buildCallback("job-1", { overrides: { ResultCode: "1012" } });
  assertStrictEquals(tampered.ResultCode, "1012");
  assertStrictEquals(
    await signer.verify(tampered.timestamp, tampered.signature),
    true,
    "the signature does not cover the body",
  );
  const enveloped = await fake.buildCallback("job-2", { envelope: "job_status" });
  assertStrictEquals(enveloped.job_complete, true);
  assertStrictEquals(enveloped.result, "No zip uploaded");
  await assertRejectsWithCode(() => fake.buildCallback("job-2"), "invalid_argument", /envelope/);
  await assertRejectsWithCode(() => fake.buildCallback("nope"), "invalid_argument");
});

test("sendCallback() posts to a URL through the given fetch without following redirects", async () => {
  const { fake } = setup();
  fake.addJob(query);
  let seen: Request | undefined;
  const response = await fake.sendCallback("job-1", "https://partner.example/smile/callback", {
    fetch: (request) => {
      seen = request;
      return Promise.resolve(new Response(null, { status: 204 }));
    },
  });
  assertStrictEquals(response.status, 204);
  assertStrictEquals(seen?.url, "https://partner.example/smile/callback");
  assertStrictEquals(seen?.redirect, "manual");
  const body = await seen?.json();
  assertStrictEquals(await signer.verify(body.timestamp, body.signature), true);
});

test("sendCallback() and verifyCallback() agree: genuine accepted and confirmed, forgeries rejected", async () => {
  let clock = Date.now() - 60_000;
  const { fake, client } = setup({ now: () => (clock += 1000) }); // each callback gets its own timestamp
  fake.addJob(query);
  const outcomes: string[] = [];
  const handler = async (request: Request) => {
    try {
      const verified = await client.verifyCallback(request, { confirm: true, replayGuard: false });
      outcomes.push(`ok ${verified.payload.jobId} ${verified.mismatches?.map((m) => m.path).join(",") || "-"}`);
      return new Response(null, { status: 204 });
    } catch (error) {
      outcomes.push(error instanceof SmileIdError ? error.code : String(error));
      return new Response(null, { status: 400 });
    }
  };
  const genuine = await fake.buildCallback("job-1");
  assertStrictEquals((await fake.sendCallback("job-1", handler)).status, 204);
  await handler(new Request("http://localhost/cb", { method: "POST", body: JSON.stringify(genuine) }));
  await handler(new Request("http://localhost/cb", { method: "POST", body: JSON.stringify(genuine) }));
  await fake.sendCallback("job-1", handler, { badSignature: true });
  await fake.sendCallback("job-1", handler, { timestamp: new Date(Date.now() - 3_600_000).toISOString() });
  await fake.sendCallback("job-1", handler, { envelope: "job_status" });
  await fake.sendCallback("job-1", handler, { overrides: { ResultCode: "1012" } });
  assertEquals(outcomes, [
    "ok job-1 -",
    "ok job-1 -",
    "ok job-1 -",
    "signature_mismatch",
    "ok job-1 -",
    "ok job-1 -",
    "ok job-1 ResultCode",
  ]);
});

test("createFakeSmileId() accepts a request without Content-Type or with an empty one, as the PHP SDK sends", async () => {
  const { fake } = setup();
  fake.addJob(query);
  const bytes = new TextEncoder().encode(JSON.stringify(await requestBody()));
  // A Uint8Array body gets no Content-Type, unlike a string body (text/plain).
  const bare = new Request(ENDPOINT, { method: "POST", body: bytes });
  assertStrictEquals(bare.headers.get("content-type"), null);
  const empty = new Request(ENDPOINT, { method: "POST", headers: { "content-type": "" }, body: bytes });
  for (const request of [bare, empty]) {
    const response = await fake.fetch(request);
    assertStrictEquals(response.status, 200);
    const body = await response.json();
    assertStrictEquals(body.job_complete, true);
    assertStrictEquals(await signer.verify(body.timestamp, body.signature), true);
  }
  // What it still refuses, on purpose: a declared Content-Type that is not JSON.
  for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
    const refused = await errorOf(await fake.fetch(post(await requestBody(), { headers: { "content-type": type } })));
    assertEquals([refused.status, refused.body.code], [415, "2203"], type);
  }
});

test("addJob({ missingZip: true }) answers Smile ID's 2314 with job_complete false and a string result", async () => {
  let clock = Date.parse("2024-05-01T10:00:00.000Z");
  const { fake, client } = setup({ now: () => clock });
  fake.addJob({ ...query, missingZip: true });
  for (let i = 0; i < 2; i++) {
    const status = await client.getJobStatus(query);
    assertEquals(
      [status.jobComplete, status.jobSuccess, status.code, status.result],
      [false, false, "2314", "No zip file received"],
    );
    clock += 3_600_000; // never completes by itself
  }
  fake.completeJob("job-1");
  const done = await client.getJobStatus(query);
  assertEquals([done.jobComplete, done.code], [true, "2302"]);
  fake.addJob({ userId: "user-2", jobId: "job-2", missingZip: true, completesAfterMs: 1000 });
  assertStrictEquals((await client.getJobStatus({ userId: "user-2", jobId: "job-2" })).code, "2314");
  clock += 1000;
  assertStrictEquals((await client.getJobStatus({ userId: "user-2", jobId: "job-2" })).jobComplete, true);
  // deno-lint-ignore no-explicit-any
  assertThrowsWithCode(() => fake.addJob({ userId: "u", jobId: "j", missingZip: "yes" as any }), "invalid_argument");
});

test("addJob({ appearsAfterMs }) answers like an unknown job (404, 2210) until the job appears", async () => {
  let clock = Date.parse("2024-05-01T10:00:00.000Z");
  const { fake, client } = setup({ now: () => clock });
  fake.addJob({ ...query, appearsAfterMs: 2000 });
  const error = await assertRejectsWithCode(() => client.getJobStatus(query), "http");
  assertEquals([error.status, error.smileCode], [404, "2210"]);
  clock += 2000;
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, true);
  fake.addJob({ userId: "user-2", jobId: "job-2", appearsAfterMs: 60_000 });
  fake.completeJob("job-2");
  assertStrictEquals((await client.getJobStatus({ userId: "user-2", jobId: "job-2" })).jobComplete, true);
  assertThrowsWithCode(() => fake.addJob({ userId: "u", jobId: "j", appearsAfterMs: -1 }), "invalid_argument");
});

test("createFakeSmileId() never answers with the request's own timestamp", async () => {
  const at = Date.parse("2024-05-01T10:00:00.000Z");
  const { fake } = setup({ now: () => at });
  fake.addJob(query);
  const sent = await signer.sign(new Date(at));
  const answer = await (await fake.fetch(post(await requestBody({ ...sent })))).json();
  assertStrictEquals(answer.timestamp, "2024-05-01T10:00:00.001Z");
  assertStrictEquals(await signer.verify(answer.timestamp, answer.signature), true);
});
