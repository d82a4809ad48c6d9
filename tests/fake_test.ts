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
import {
  createCallbackHandler,
  createClient,
  createMemoryReplayGuard,
  createSigner,
  describeResult,
  type JobResult,
  type JsonObject,
  SmileIdError,
  verifyCallback,
  waitForJobStatus,
} from "../mod.ts";
import { answerJobStatus, answerTimestamp, type JobView } from "../src/testing/_protocol.ts";
import { createFakeSmileId, type CreateFakeSmileIdOptions, createTestClock } from "../src/testing/mod.ts";
import { assertRejectsWithCode, assertThrowsWithCode } from "./_helpers.ts";

const partnerId = "085";
const apiKey = "fake-test-key";
const signer = createSigner({ partnerId, apiKey });
const ENDPOINT = "http://127.0.0.1:8787/v1/job_status";
const query = { userId: "user-1", jobId: "job-1" };

function setup(options: Partial<CreateFakeSmileIdOptions> = {}) {
  const fake = createFakeSmileId({ partnerId, apiKey, ...options });
  // On the fake's clock: an answer signed long before its request is refused.
  const client = createClient({
    partnerId,
    apiKey,
    server: "http://127.0.0.1:8787/v1",
    fetch: fake.fetch,
    clock: fake.clock,
  });
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

test("createFakeSmileId()'s default job is approved: ResultCode 1012, with the job's own ids", async () => {
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
  assertEquals([result.resultCode, result.resultText, result.isFinalResult], ["1012", "ID Number Validated", true]);
  assertStrictEquals(result.partnerParams?.userId, "user-1");
  assertStrictEquals(result.partnerParams?.jobId, "job-1");
  const summary = describeResult(status);
  assertEquals([summary.decision, summary.final], ["approved", true]);
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
  assertEquals(status.history?.[0]?.raw, (status.result as JobResult).raw, "the default history is [result]");
  assertStrictEquals(status.history?.[0]?.partnerParams?.jobId, "job-1");
  assertMatch(String(status.imageLinks?.selfieImage), /^https:\/\/fake-smile-id\.invalid\/images\/job-1\//);

  const other = await client.getJobStatus({ userId: "user-2", jobId: "job-2", includeHistory: true });
  assertEquals(other.history?.map((entry) => entry.resultCode), ["0814"]);
  assertStrictEquals(other.imageLinks, undefined);
  const links = await client.getJobStatus({ userId: "user-2", jobId: "job-2", includeImageLinks: true });
  assertEquals(links.imageLinks?.raw, {
    selfie_image: "https://example.invalid/selfie.jpg",
    liveness_images: ["a", "b"],
  });
});

test("createFakeSmileId() answers job_complete false until completesAfterMs has passed on its clock", async () => {
  const clock = createTestClock(Date.parse("2024-05-01T10:00:00.000Z"));
  const { fake, client } = setup({ clock });
  fake.addJob({ ...query, completesAfterMs: 3000 });
  const before = await client.getJobStatus({ ...query, includeHistory: true, includeImageLinks: true });
  assertStrictEquals(before.jobComplete, false);
  assertStrictEquals(before.jobSuccess, false);
  assertStrictEquals(before.result, undefined);
  assertEquals(before.history, []);
  assertEquals(before.imageLinks?.raw, {});
  clock.advance(2999);
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, false);
  clock.advance(1);
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
  const clock = createTestClock(Date.parse("2024-05-01T10:00:00.000Z"));
  const { fake } = setup({ clock });
  fake.addJob(query);
  const first = await (await fake.fetch(post(await requestBody()))).json();
  assertStrictEquals(first.timestamp, "2024-05-01T10:00:00.000Z");
  assertStrictEquals(await signer.verify(first.timestamp, first.signature), true);
  clock.advance(1500);
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
  const clock = createTestClock(1_700_000_000_000);
  const { client } = setup({ clock, autoCreateJobs: { completesAfterMs: 1000 } });
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, false);
  clock.advance(1000);
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
  const clock = createTestClock(1_000);
  const seen: number[] = [];
  const { fake, client } = setup({ clock, onRequest: (record) => seen.push(record.status) });
  fake.addJob({ ...query, completesAfterMs: 10 });
  await client.getJobStatus(query);
  clock.set(2_000);
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
    partnerId,
    timestamp: String(fake.requests[0]?.body?.timestamp),
    history: false,
    imageLinks: false,
    body: fake.requests[0]?.body,
    signatureValid: true,
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

test("fake.requests keeps the last maxRequests records (1,000 by default); onRequest sees them all", async () => {
  const seen: string[] = [];
  const { fake, client } = setup({ maxRequests: 3, onRequest: (record) => seen.push(record.jobId ?? "") });
  for (let i = 0; i < 5; i++) fake.addJob({ userId: "user-1", jobId: `job-${i}` });
  for (let i = 0; i < 5; i++) await client.getJobStatus({ userId: "user-1", jobId: `job-${i}` });
  assertEquals(fake.requests.map((record) => record.jobId), ["job-2", "job-3", "job-4"]);
  assertEquals(seen, ["job-0", "job-1", "job-2", "job-3", "job-4"]);

  const byDefault = setup();
  byDefault.fake.addJob(query);
  const bodies = await Promise.all(Array.from({ length: 1001 }, () => requestBody()));
  for (const body of bodies) await byDefault.fake.fetch(post(body));
  assertStrictEquals(byDefault.fake.requests.length, 1000);
  assertStrictEquals(byDefault.fake.requests[0]?.timestamp, bodies[1]?.timestamp, "the oldest record was dropped");

  const all = setup({ maxRequests: Infinity });
  all.fake.addJob(query);
  for (const body of bodies) await all.fake.fetch(post(body));
  assertStrictEquals(all.fake.requests.length, 1001);
  for (const bad of [0, 1.5, -1, Number.NaN, "10"]) {
    assertThrowsWithCode(
      () => setup({ maxRequests: bad as number }),
      "invalid_argument",
      /^Option maxRequests must be a whole number, 1 or more, got /,
    );
  }
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
  const clock = createTestClock(Date.parse("2024-05-01T10:00:00.000Z"));
  const { fake } = setup({ clock });
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
  assertStrictEquals(result.ResultCode, "1012");
  assertEquals((result.PartnerParams as JsonObject).job_id, "job-1");
  assertStrictEquals("job_complete" in result, false, "a bare result, not a job-status answer");
  clock.advance(1);
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
  let time = Date.now() - 60_000;
  // Each reading moves time on, so each callback gets its own timestamp.
  const { fake, client } = setup({ clock: { now: () => (time += 1000), sleep: () => Promise.resolve() } });
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
  await fake.sendCallback("job-1", handler, { overrides: { ResultCode: "1022" } });
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
  const clock = createTestClock(Date.parse("2024-05-01T10:00:00.000Z"));
  const { fake, client } = setup({ clock });
  fake.addJob({ ...query, missingZip: true });
  for (let i = 0; i < 2; i++) {
    const status = await client.getJobStatus(query);
    assertEquals(
      [status.jobComplete, status.jobSuccess, status.code, status.result],
      [false, false, "2314", "No zip file received"],
    );
    clock.advance(3_600_000); // never completes by itself
  }
  fake.completeJob("job-1");
  const done = await client.getJobStatus(query);
  assertEquals([done.jobComplete, done.code], [true, "2302"]);
  fake.addJob({ userId: "user-2", jobId: "job-2", missingZip: true, completesAfterMs: 1000 });
  assertStrictEquals((await client.getJobStatus({ userId: "user-2", jobId: "job-2" })).code, "2314");
  clock.advance(1000);
  assertStrictEquals((await client.getJobStatus({ userId: "user-2", jobId: "job-2" })).jobComplete, true);
  // deno-lint-ignore no-explicit-any
  assertThrowsWithCode(() => fake.addJob({ userId: "u", jobId: "j", missingZip: "yes" as any }), "invalid_argument");
});

test("addJob({ appearsAfterMs }) answers like an unknown job (404, 2210) until the job appears", async () => {
  const clock = createTestClock(Date.parse("2024-05-01T10:00:00.000Z"));
  const { fake, client } = setup({ clock });
  fake.addJob({ ...query, appearsAfterMs: 2000 });
  const error = await assertRejectsWithCode(() => client.getJobStatus(query), "http");
  assertEquals([error.status, error.smileCode], [404, "2210"]);
  clock.advance(2000);
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, true);
  fake.addJob({ userId: "user-2", jobId: "job-2", appearsAfterMs: 60_000 });
  fake.completeJob("job-2");
  assertStrictEquals((await client.getJobStatus({ userId: "user-2", jobId: "job-2" })).jobComplete, true);
  assertThrowsWithCode(() => fake.addJob({ userId: "u", jobId: "j", appearsAfterMs: -1 }), "invalid_argument");
});

test("createFakeSmileId() never answers with the request's own timestamp", async () => {
  const at = Date.parse("2024-05-01T10:00:00.000Z");
  const { fake } = setup({ clock: createTestClock(at) });
  fake.addJob(query);
  const sent = await signer.sign(new Date(at));
  const answer = await (await fake.fetch(post(await requestBody({ ...sent })))).json();
  assertStrictEquals(answer.timestamp, "2024-05-01T10:00:00.001Z");
  assertStrictEquals(await signer.verify(answer.timestamp, answer.signature), true);
});

// --- jobs that change, requests as sent, one clock, the protocol alone -------------------------

test("updateJob() turns a provisional result final: the next answer and later callbacks carry it", async () => {
  const clock = createTestClock("2024-05-01T10:00:00.000Z");
  const { fake, client } = setup({ clock });
  fake.addJob({ ...query, result: { ResultCode: "0814", ResultText: "Provisional Enroll - Under Review" } });
  const before = await client.getJobStatus({ ...query, includeHistory: true });
  assertStrictEquals(describeResult(before).decision, "provisional");
  const early = await fake.buildCallback("job-1");
  assertStrictEquals(early.ResultCode, "0814");

  clock.advance(3_600_000); // human review took an hour
  fake.updateJob("user-1", "job-1", { result: { ResultCode: "1012", ResultText: "ID Number Validated" } });
  const after = await client.getJobStatus({ ...query, includeHistory: true });
  assertStrictEquals(describeResult(after).decision, "approved");
  assertStrictEquals((after.result as JobResult).partnerParams?.jobId, "job-1", "ids added to the new result");
  assertEquals(after.history?.map((entry) => entry.resultCode), ["0814", "1012"], "each result the job had");
  const late = await fake.buildCallback("job-1");
  assertEquals([late.ResultCode, late.timestamp], ["1012", "2024-05-01T11:00:00.000Z"]);
  const verified = await client.verifyCallback(late, { confirm: true, replayGuard: false });
  assertStrictEquals(describeResult(verified.status).decision, "approved");
  assertEquals(verified.mismatches, []);
});

test("updateJob() changes completion, success, code, history and image links, and checks its input", async () => {
  const { fake, client } = setup();
  fake.addJob(query);
  fake.updateJob("user-1", "job-1", { jobComplete: false });
  const pending = await client.getJobStatus(query);
  assertEquals([pending.jobComplete, pending.result], [false, undefined]);
  fake.updateJob("user-1", "job-1", {
    jobComplete: true,
    jobSuccess: false,
    code: "2303",
    history: [{ ResultCode: "1022" }],
    imageLinks: { selfie_image: "https://example.invalid/new.jpg" },
  });
  const done = await client.getJobStatus({ ...query, includeHistory: true, includeImageLinks: true });
  assertEquals([done.jobComplete, done.jobSuccess, done.code], [true, false, "2303"]);
  assertEquals(done.history?.map((entry) => entry.resultCode), ["1022"]);
  assertEquals(done.imageLinks?.raw, { selfie_image: "https://example.invalid/new.jpg" });

  assertThrowsWithCode(
    () => fake.updateJob("user-1", "no-such-job", { jobComplete: true }),
    "invalid_argument",
    /^The fake has no job with user id "user-1" and job id "no-such-job"; add it with addJob first$/,
  );
  assertThrowsWithCode(
    () => fake.updateJob("another-user", "job-1", { jobComplete: true }),
    "invalid_argument",
    /no job with user id "another-user" and job id "job-1"/,
  );
  assertThrowsWithCode(
    () => fake.updateJob("user-1", "job-1", { jobSuccess: "yes" as unknown as boolean, code: "9999" }),
    "invalid_argument",
    /^Option jobSuccess must be a boolean, got a string of 3 characters$/,
  );
  assertStrictEquals((await client.getJobStatus(query)).code, "2303", "a refused update changes nothing");
});

test("fake.requests records the flags, ids, timestamp, body and signature check of what was sent", async () => {
  const clock = createTestClock("2024-05-01T10:00:00.000Z");
  const { fake, client } = setup({ clock });
  fake.addJob(query);
  await client.getJobStatus({ ...query, includeHistory: true });
  clock.advance(1000);
  await client.getJobStatus({ ...query, includeImageLinks: true });
  const [first, second] = fake.requests;
  assertEquals([first?.history, first?.imageLinks, second?.history, second?.imageLinks], [true, false, false, true]);
  assertEquals([first?.at, second?.at], [
    Date.parse("2024-05-01T10:00:00.000Z"),
    Date.parse("2024-05-01T10:00:01.000Z"),
  ]);
  assertEquals([first?.userId, first?.jobId, first?.partnerId, first?.signatureValid], [
    "user-1",
    "job-1",
    "085",
    true,
  ]);
  assertExists(first?.body);
  assertEquals(first.body.history, true);
  assertStrictEquals(first.timestamp, first.body.timestamp);
  assertStrictEquals(await signer.verify(first.timestamp!, first.body.signature), true);

  fake.clearRequests();
  await fake.fetch(post(await requestBody({ signature: "forged", image_links: "true" })));
  await fake.fetch(post(await requestBody({ partner_id: "999" })));
  await fake.fetch(post({ user_id: "u" }));
  await fake.fetch(post("not json"));
  const [forged, otherPartner, missing, garbage] = fake.requests;
  assertEquals([forged?.status, forged?.signatureValid, forged?.imageLinks], [401, false, true]);
  assertEquals([otherPartner?.partnerId, otherPartner?.signatureValid], ["999", false]);
  assertEquals([missing?.status, missing?.userId, missing?.signatureValid, missing?.body], [400, "u", undefined, {
    user_id: "u",
  }]);
  assertEquals([garbage?.status, garbage?.body, garbage?.history], [400, undefined, undefined]);

  fake.injectFault({ status: 503 });
  await assertRejects(() => client.getJobStatus(query));
  assertEquals([fake.requests[4]?.faulted, fake.requests[4]?.body], [true, undefined], "a fault answers unread");
});

test("createTestClock() sleeps on virtual time: a day takes no real time, abort rejects, bad input is refused", async () => {
  const clock = createTestClock("2024-05-01T12:00:00Z");
  assertStrictEquals(clock.now(), Date.parse("2024-05-01T12:00:00Z"));
  const started = Date.now();
  await clock.sleep(86_400_000);
  // Generous: a sleep on a real timer would take the whole day.
  assertLessOrEqual(Date.now() - started, 60_000, "a day's sleep takes no real time");
  assertStrictEquals(new Date(clock.now()).toISOString(), "2024-05-02T12:00:00.000Z");
  assertStrictEquals(clock.advance(500), Date.parse("2024-05-02T12:00:00.500Z"));
  assertStrictEquals(clock.set(new Date(0)), 0);
  assertStrictEquals(clock.set(1000), 1000);

  const controller = new AbortController();
  controller.abort(new Error("stop"));
  await assertRejects(() => clock.sleep(10, controller.signal), Error, "stop");
  assertStrictEquals(clock.now(), 1000, "an already aborted sleep does not move time");
  const late = new AbortController();
  const sleeping = clock.sleep(10, late.signal);
  late.abort(new Error("left"));
  await assertRejects(() => sleeping, Error, "left");
  await clock.sleep(0);
  assertStrictEquals(clock.now(), 1000, "an aborted sleep leaves the queue: the time did not jump to it");

  assertGreater(createTestClock().now(), started - 1, "without start: the real time of the call");
  assertThrowsWithCode(
    () => createTestClock("soon"),
    "invalid_argument",
    /^The start time must be .*, got a string of 4 characters$/,
  );
  assertThrowsWithCode(() => clock.advance(-1), "invalid_argument", /^The time to advance must be/);
  assertThrowsWithCode(() => clock.set(Number.NaN), "invalid_argument", /^The time must be/);
  await assertRejectsWithCode(() => clock.sleep(Number.NaN), "invalid_argument", /^The sleep time must be/);
});

test("createTestClock() wakes concurrent sleeps in order of their wake-up, each at its own time", async () => {
  const clock = createTestClock(0);
  const woke: [number, number][] = [];
  const sleep = (ms: number) => clock.sleep(ms).then(() => void woke.push([ms, clock.now()]));
  await Promise.all([sleep(300), sleep(100), sleep(200), sleep(100)]);
  assertEquals(woke, [[100, 100], [100, 100], [200, 200], [300, 300]]);
  assertStrictEquals(clock.now(), 300, "sleeps started together end after the longest, not after their sum");

  // A sleep begun by a sleeper that woke counts from that wake-up.
  const chain = async () => {
    await clock.sleep(50);
    await clock.sleep(50);
    return clock.now();
  };
  assertEquals(await Promise.all([chain(), clock.sleep(120).then(() => clock.now())]), [400, 420]);

  // advance() and set() wake exactly the sleeps they reach.
  const pending = [clock.sleep(1000).then(() => "a"), clock.sleep(5000).then(() => "b")];
  clock.advance(1000);
  assertEquals(await pending[0], "a");
  clock.set(clock.now() + 4000);
  assertEquals(await pending[1], "b");
  assertStrictEquals(clock.now(), 5420);
});

test("createTestClock() drives 1,000 concurrent waitForJobStatus on one time line", async () => {
  const start = Date.parse("2024-05-01T10:00:00.000Z");
  const clock = createTestClock(start);
  const fake = createFakeSmileId({ partnerId, apiKey, clock });
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch, clock });
  const jobs = Array.from({ length: 1000 }, (_, i) => ({ userId: `user-${i}`, jobId: `job-${i}` }));
  for (const job of jobs) fake.addJob({ ...job, completesAfterMs: 30_000 });
  // Without jitter every poller waits 2, 3, 4.5, 6.75 and then 8 s: all poll at the same
  // moments, the seventh time at 32.25 s, the first poll after the jobs completed. (A clock that
  // added up the sleeps would pass the 120 s deadline in the first round.)
  const statuses = await Promise.all(jobs.map((job) => client.waitForJobStatus(job, { random: () => 0 })));
  assertEquals(statuses.filter((status) => status.jobComplete).length, 1000);
  assertGreater(clock.now() - start, 30_000);
  assertLessOrEqual(clock.now() - start, 60_000);
  assertStrictEquals(fake.requests.length, 1000, "the fake keeps its last 1,000 of the 7,000 requests");
});

test("createTestClock() lets 25 jittered pollers finish soon after their jobs, none timing out", async () => {
  const start = Date.parse("2024-05-01T10:00:00.000Z");
  const clock = createTestClock(start);
  const fake = createFakeSmileId({ partnerId, apiKey, clock, maxRequests: 10_000 });
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch, clock });
  // Jitter gives every poller wake-ups of its own: the clock visits each in turn.
  const jobs = Array.from({ length: 25 }, (_, i) => ({ userId: `user-${i}`, jobId: `job-${i}` }));
  for (const job of jobs) fake.addJob({ ...job, completesAfterMs: 30_000 });
  const statuses = await Promise.all(jobs.map((job) => client.waitForJobStatus(job)));
  assertEquals(statuses.filter((status) => status.jobComplete).length, 25);
  // Each poller waits at most 8 s between polls, so the last sees its job by about 38 s.
  assertLessOrEqual(clock.now() - start, 60_000);
  const byJob = new Map<string, typeof fake.requests[number][]>();
  for (const request of fake.requests) byJob.set(request.jobId!, [...byJob.get(request.jobId!) ?? [], request]);
  assertStrictEquals(byJob.size, 25);
  for (const [jobId, requests] of byJob) {
    const [last, before] = [requests.at(-1)!, requests.at(-2)!];
    assertStrictEquals(last.jobComplete, true, jobId);
    // Polling stopped at the first complete answer: the one before came in before completion.
    assert(before.jobComplete === false && before.at < start + 30_000, `${jobId} polled once after completion`);
  }
});

test("one TestClock drives the fake, waitForJobStatus, verifyCallback and the handler together", async () => {
  const clock = createTestClock("2024-05-01T10:00:00.000Z");
  const fake = createFakeSmileId({ partnerId, apiKey, clock });
  assertStrictEquals(fake.clock, clock);
  fake.addJob({ ...query, completesAfterMs: 10 * 60_000 }); // ten minutes of virtual processing
  const client = createClient({ partnerId, apiKey, server: "http://127.0.0.1:8787/v1", fetch: fake.fetch, clock });
  assertStrictEquals(client.clock, clock);

  const started = Date.now();
  const status = await client.waitForJobStatus(query, { timeoutMs: 20 * 60_000, random: () => 0 });
  assertStrictEquals(status.jobComplete, true);
  assertLessOrEqual(Date.now() - started, 60_000, "ten virtual minutes took no real wait (a generous bound)");
  assertGreater(clock.now(), Date.parse("2024-05-01T10:10:00.000Z") - 1);
  assertStrictEquals(fake.requests.at(-1)?.at, clock.now(), "the fake saw the same time");
  const sent = fake.requests.at(-1)?.timestamp;
  assertStrictEquals(
    sent,
    new Date(clock.now()).toISOString().replace("Z", "+00:00"),
    "the client signed on the clock too",
  );

  // The free functions take the same object.
  const polled = await waitForJobStatus(client, query, { clock });
  assertStrictEquals(polled.jobComplete, true);
  const body = await fake.buildCallback("job-1");
  const verified = await verifyCallback(client.signer, body, { clock, replayGuard: false });
  assertStrictEquals(verified.fresh, true);
  clock.advance(301_000); // past the 300 s window, on every part at once
  await assertRejectsWithCode(
    () => verifyCallback(client.signer, body, { clock, replayGuard: false }),
    "stale_timestamp",
  );

  // A handler on the client runs on the client's clock by default, its memory guard included.
  const outcomes: string[] = [];
  const handler = createCallbackHandler({
    client,
    onCallback: (callback) => void outcomes.push(callback.source === "callback" ? callback.payload.jobId ?? "" : ""),
  });
  assertStrictEquals((await fake.sendCallback("job-1", handler)).status, 200);
  assertStrictEquals((await fake.sendCallback("job-1", handler)).status, 200, "a redelivery is answered, not run");
  assertEquals(outcomes, ["job-1"]);
});

test("a fake without a clock runs on the system clock, so served to a real client it works as before", async () => {
  const { fake, client } = setup();
  assertLessOrEqual(Math.abs(fake.clock.now() - Date.now()), 1000);
  // A minute is a margin no loaded machine eats: the first answer is not complete yet.
  fake.addJob({ ...query, completesAfterMs: 60_000 });
  assertStrictEquals((await client.getJobStatus(query)).jobComplete, false);
  // A job that completes 30 ms after it was added, polled on real timers, completes on the
  // first answer the fake gave at least 30 ms later by the system clock.
  const added = Date.now();
  fake.addJob({ userId: "user-2", jobId: "job-2", completesAfterMs: 30 });
  const status = await client.waitForJobStatus({ userId: "user-2", jobId: "job-2" }, { intervalMs: 10 });
  assertStrictEquals(status.jobComplete, true);
  // The fake looked the job up as complete at least 30 ms after it was added, and before this line.
  assertGreater(Date.now() - added, 29);
  const answers = fake.requests.filter((request) => request.jobId === "job-2");
  for (const answer of answers.slice(0, -1)) assertStrictEquals(answer.jobComplete, false);
  const verified = await client.verifyCallback(await fake.buildCallback("job-1"), { replayGuard: false });
  assertStrictEquals(verified.fresh, true);
});

test("every clock option refuses the old now function with one message", async () => {
  const old = () => 0;
  const message = /^Option clock must be an object with a now method/;
  assertThrowsWithCode(
    () => createFakeSmileId({ partnerId, apiKey, clock: old as never }),
    "invalid_argument",
    message,
  );
  assertThrowsWithCode(() => createClient({ partnerId, apiKey, clock: old as never }), "invalid_argument", message);
  assertThrowsWithCode(() => createMemoryReplayGuard({ clock: old as never }), "invalid_argument", message);
  const { client } = setup();
  assertThrowsWithCode(
    () => createCallbackHandler({ client, onCallback: () => {}, clock: old as never }),
    "invalid_argument",
    /^Option clock must be an object with a now method, got a function$/,
  );
  await assertRejectsWithCode(
    () => verifyCallback(signer, "{}", { clock: { later: 1 } as never }),
    "invalid_argument",
    /^Option clock must be an object with a now method, got an object with keys later$/,
  );
  await assertRejectsWithCode(
    () => waitForJobStatus(client, query, { clock: { now: () => 0 } as never }),
    "invalid_argument",
    /^Option clock must be an object with a now method and a sleep method/,
  );
});

test("answerJobStatus() is the protocol alone: a request and a job lookup in, the unsigned answer out", async () => {
  const seen: string[] = [];
  const context = {
    endpoint: "/v1/job_status",
    signer,
    lookup: (userId: string, jobId: string): JobView | undefined => {
      seen.push(`${userId}/${jobId}`);
      return jobId !== "job-1" ? undefined : {
        userId,
        result: { ResultCode: "1012" },
        jobSuccess: true,
        code: "2302",
        history: [],
        imageLinks: {},
        missingZip: false,
        visible: true,
        complete: true,
      };
    },
  };
  const ok = await answerJobStatus(post(await requestBody({ history: "true" })), context);
  assertEquals([ok.status, ok.jobComplete, ok.body], [200, true, {
    job_complete: true,
    job_success: true,
    code: "2302",
    result: { ResultCode: "1012" },
    history: [],
  }]);
  assertEquals([ok.facts.history, ok.facts.signatureValid], [true, true]);
  const unknown = await answerJobStatus(post(await requestBody({ job_id: "job-2" })), context);
  assertEquals([unknown.status, unknown.body.code], [404, "2210"]);
  const forged = await answerJobStatus(post(await requestBody({ signature: "x" })), context);
  assertEquals([forged.status, forged.body.code, forged.facts.signatureValid], [401, "2205", false]);
  assertEquals(seen, ["user-1/job-1", "user-1/job-2"], "jobs are looked up only for signed requests");
  assertStrictEquals(answerTimestamp(0, "1970-01-01T00:00:00.000Z"), "1970-01-01T00:00:00.001Z");
});
