import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient, createSigner, type JsonObject, SmileIdError } from "../mod.ts";
import { createFakeSmileId, type FakeSmileIdOptions } from "../src/testing/mod.ts";
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

function isCode(code: string, check?: (error: SmileIdError) => boolean) {
  return (error: unknown) => error instanceof SmileIdError && error.code === code && (check?.(error) ?? true);
}

test("createFakeSmileId() answers the documented example with the job's own ids", async () => {
  const { fake, client } = setup();
  fake.addJob(query);
  const status = await client.getJobStatus(query);
  assert.equal(status.jobComplete, true);
  assert.equal(status.jobSuccess, true);
  assert.equal(status.code, "2302");
  assert.equal(status.history, undefined, "history only when asked for");
  assert.equal(status.imageLinks, undefined, "image links only when asked for");
  const result = status.result;
  assert.ok(typeof result === "object");
  const expected = structuredClone(docsExample.result) as JsonObject;
  expected.PartnerParams = { ...docsExample.result.PartnerParams, user_id: "user-1", job_id: "job-1" };
  assert.deepEqual(result.raw, expected);
  assert.equal(result.resultCode, "0810");
  assert.equal(result.partnerParams?.userId, "user-1");
  assert.equal(result.partnerParams?.jobId, "job-1");
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
  assert.equal(status.history?.length, 1);
  assert.equal(status.history?.[0]?.resultText, " Enroll User", "the documented history entry, as printed");
  assert.equal(status.history?.[0]?.partnerParams?.jobId, "job-1");
  assert.match(String(status.imageLinks?.selfie_image), /^https:\/\/fake-smile-id\.invalid\/images\/job-1\//);

  const other = await client.getJobStatus({ userId: "user-2", jobId: "job-2", includeHistory: true });
  assert.deepEqual(other.history?.map((entry) => entry.resultCode), ["0814"]);
  assert.equal(other.imageLinks, undefined);
  const links = await client.getJobStatus({ userId: "user-2", jobId: "job-2", includeImageLinks: true });
  assert.deepEqual(links.imageLinks, {
    selfie_image: "https://example.invalid/selfie.jpg",
    liveness_images: ["a", "b"],
  });
});

test("createFakeSmileId() answers job_complete false until completesAfterMs has passed on its clock", async () => {
  let clock = Date.parse("2024-05-01T10:00:00.000Z");
  const { fake, client } = setup({ now: () => clock });
  fake.addJob({ ...query, completesAfterMs: 3000 });
  const before = await client.getJobStatus({ ...query, includeHistory: true, includeImageLinks: true });
  assert.equal(before.jobComplete, false);
  assert.equal(before.jobSuccess, false);
  assert.equal(before.result, undefined);
  assert.deepEqual(before.history, []);
  assert.deepEqual(before.imageLinks, {});
  clock += 2999;
  assert.equal((await client.getJobStatus(query)).jobComplete, false);
  clock += 1;
  const after = await client.getJobStatus(query);
  assert.equal(after.jobComplete, true);
  assert.equal(after.jobSuccess, true);
  assert.equal(typeof after.result, "object");
});

test("completeJob() completes a job at once", async () => {
  const { fake, client } = setup();
  fake.addJob({ ...query, completesAfterMs: Infinity });
  assert.equal((await client.getJobStatus(query)).jobComplete, false);
  fake.completeJob("job-1");
  assert.equal((await client.getJobStatus(query)).jobComplete, true);
  assert.throws(() => fake.completeJob("nope"), isCode("invalid_argument"));
});

test("createFakeSmileId() signs each answer with a fresh timestamp from its clock", async () => {
  let clock = Date.parse("2024-05-01T10:00:00.000Z");
  const { fake } = setup({ now: () => clock });
  fake.addJob(query);
  const first = await (await fake.fetch(post(await requestBody()))).json();
  assert.equal(first.timestamp, "2024-05-01T10:00:00.000Z");
  assert.equal(await signer.verify(first.timestamp, first.signature), true);
  clock += 1500;
  const second = await (await fake.fetch(post(await requestBody()))).json();
  assert.equal(second.timestamp, "2024-05-01T10:00:01.500Z");
  assert.notEqual(second.signature, first.signature);
  assert.equal(await signer.verify(second.timestamp, second.signature), true);
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
  assert.equal(status.jobSuccess, false);
  assert.ok(typeof status.result === "object");
  assert.equal(status.result.resultCode, "1022");
  assert.deepEqual(status.result.partnerParams?.raw, { user_id: "user-1", job_id: "job-1" }, "ids added when absent");
  assert.deepEqual(status.history?.map((entry) => entry.resultCode), ["1022"], "history defaults to [result]");
  assert.equal((await client.getJobStatus({ userId: "user-2", jobId: "job-2" })).result, "No zip uploaded");
});

test("createFakeSmileId() accepts numeric ids and the old string flags, like the SDKs send them", async () => {
  const { fake } = setup();
  fake.addJob({ userId: "42", jobId: "7" });
  const response = await fake.fetch(post(await requestBody({ user_id: 42, job_id: 7, history: "true" })));
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.job_complete, true);
  assert.equal(body.history.length, 1);
});

test("createFakeSmileId() answers 404 for other paths and 405 for other methods", async () => {
  const { fake } = setup();
  const notFound = await fake.fetch(new Request("http://127.0.0.1/v1/upload", { method: "POST" }));
  assert.equal(notFound.status, 404);
  assert.match(String((await notFound.json()).error), /Not found/);
  const get = await fake.fetch(new Request(ENDPOINT));
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  await get.body?.cancel();
  const put = await fake.fetch(post(await requestBody(), { method: "PUT" }));
  assert.equal(put.status, 405);
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
  assert.equal(sandbox.status, 200);
  await sandbox.body?.cancel();

  const custom = createFakeSmileId({ partnerId, apiKey, basePath: "/smile/v1/" });
  custom.addJob(query);
  const client = createClient({ partnerId, apiKey, server: "http://localhost:9/smile/v1", fetch: custom.fetch });
  assert.equal((await client.getJobStatus(query)).jobComplete, true);
  const old = await custom.fetch(post(await requestBody()));
  assert.equal(old.status, 404);
  await old.body?.cancel();
});

test("createFakeSmileId() refuses a body that is not JSON or not sent as JSON", async () => {
  const { fake } = setup();
  fake.addJob(query);
  const plain = await fake.fetch(post(await requestBody(), { headers: { "content-type": "text/plain" } }));
  assert.deepEqual((await errorOf(plain)).status, 415);
  const notJson = await errorOf(await fake.fetch(post("{user_id:")));
  assert.deepEqual(notJson, { status: 400, body: { code: "2203", error: "Invalid JSON" } });
  const array = await errorOf(await fake.fetch(post([await requestBody()])));
  assert.equal(array.status, 400);
  assert.equal(array.body.code, "2203");
  const big = await fake.fetch(post({ ...(await requestBody()), padding: "x".repeat(1024 * 1024) }));
  assert.equal(big.status, 413);
  await big.body?.cancel();
});

test("createFakeSmileId() answers 2213 for each missing or empty required field", async () => {
  const { fake } = setup();
  fake.addJob(query);
  for (const field of ["user_id", "job_id", "partner_id", "timestamp", "signature"]) {
    const body = await requestBody();
    delete body[field];
    const answer = await errorOf(await fake.fetch(post(body)));
    assert.equal(answer.status, 400, field);
    assert.equal(answer.body.code, "2213", field);
    assert.match(String(answer.body.error), new RegExp(field), field);
    const empty = await errorOf(await fake.fetch(post(await requestBody({ [field]: "" }))));
    assert.equal(empty.body.code, "2213", `empty ${field}`);
  }
});

test("createFakeSmileId() answers 2204 for fields of the wrong type", async () => {
  const { fake } = setup();
  fake.addJob(query);
  for (const wrong of [{ user_id: { id: 1 } }, { signature: 44 }, { history: "yes" }, { image_links: 1 }]) {
    const answer = await errorOf(await fake.fetch(post(await requestBody(wrong))));
    assert.equal(answer.status, 400, JSON.stringify(wrong));
    assert.equal(answer.body.code, "2204", JSON.stringify(wrong));
  }
});

test("createFakeSmileId() answers 401 with code 2205 for a bad signature or another partner", async () => {
  const { fake } = setup();
  fake.addJob(query);
  const expected = { status: 401, body: { code: "2205", error: "You are not authorized to do that" } };
  const otherKey = await createSigner({ partnerId, apiKey: "someone-else" }).sign();
  assert.deepEqual(await errorOf(await fake.fetch(post(await requestBody({ ...otherKey })))), expected);
  const signed = await signer.sign("2024-01-01T00:00:00.000Z");
  const moved = { signature: signed.signature, timestamp: "2024-01-01T00:00:00.001Z" };
  assert.deepEqual(await errorOf(await fake.fetch(post(await requestBody(moved)))), expected, "timestamp not signed");
  const as85 = await createSigner({ partnerId: "85", apiKey }).sign();
  assert.deepEqual(
    await errorOf(await fake.fetch(post(await requestBody({ ...as85, partner_id: "85" })))),
    expected,
    "085 and 85 are different partners",
  );
  assert.deepEqual(
    await errorOf(await fake.fetch(post(await requestBody({ signature: "not base64" })))),
    expected,
  );
  const client = createClient({
    partnerId,
    apiKey: "wrong-key",
    server: "http://127.0.0.1:8787/v1",
    fetch: fake.fetch,
  });
  await assert.rejects(
    client.getJobStatus(query),
    isCode("http", (error) => error.status === 401 && error.smileCode === "2205"),
  );
});

test("createFakeSmileId() answers 404 with code 2210 for an unknown job", async () => {
  const { fake, client } = setup();
  fake.addJob(query);
  await assert.rejects(
    client.getJobStatus({ userId: "user-1", jobId: "job-404" }),
    isCode("http", (error) => error.status === 404 && error.smileCode === "2210"),
  );
  await assert.rejects(
    client.getJobStatus({ userId: "someone-else", jobId: "job-1" }),
    isCode("http", (error) => error.smileCode === "2210"),
    "a job belongs to its user",
  );
});

test("createFakeSmileId() creates unknown jobs on first query when autoCreateJobs is set", async () => {
  let clock = 1_700_000_000_000;
  const { client } = setup({ now: () => clock, autoCreateJobs: { completesAfterMs: 1000 } });
  assert.equal((await client.getJobStatus(query)).jobComplete, false);
  clock += 1000;
  assert.equal((await client.getJobStatus(query)).jobComplete, true);
  await assert.rejects(client.getJobStatus({ userId: "other", jobId: "job-1" }), isCode("http"));
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
  assert.equal(response.status, 200);
  assert.equal((await response.json()).job_complete, true);
});

test("injectFault() answers a status for the next N calls, with Retry-After, then serves normally", async () => {
  const { fake, client } = setup();
  fake.addJob(query);
  fake.injectFault({ status: 503, times: 2, retryAfter: 3 });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(
      client.getJobStatus(query),
      isCode("http", (error) => error.status === 503 && error.retryAfterMs === 3000),
    );
  }
  assert.equal((await client.getJobStatus(query)).jobComplete, true);

  const date = new Date(Date.now() + 60_000).toUTCString();
  fake.injectFault({ status: 429, retryAfter: date, errorBody: { code: "2201", error: "Slow down" } });
  await assert.rejects(
    client.getJobStatus(query),
    isCode("http", (error) =>
      error.status === 429 && error.smileCode === "2201" && error.retryAfterMs !== undefined &&
      error.retryAfterMs > 50_000 && error.retryAfterMs <= 60_000),
  );
});

test("injectFault() corrupts answers: malformed, truncated, empty and badly signed", async () => {
  const { fake, client } = setup();
  fake.addJob(query);
  fake.injectFault({ body: "malformed" });
  fake.injectFault({ body: "truncated" });
  fake.injectFault({ body: "empty" });
  fake.injectFault({ badSignature: true });
  await assert.rejects(client.getJobStatus(query), isCode("unexpected_response", (e) => /doctype/.test(e.body ?? "")));
  await assert.rejects(
    client.getJobStatus(query),
    isCode("unexpected_response", (e) => /^\{"job_complete"/.test(e.body ?? "")),
  );
  await assert.rejects(client.getJobStatus(query), isCode("unexpected_response"));
  await assert.rejects(client.getJobStatus(query), isCode("signature_mismatch"));
  assert.equal((await client.getJobStatus(query)).jobComplete, true, "faults are used up in order");
});

test("injectFault() simulates network errors and latency, and clearFaults() drops pending faults", async () => {
  const { fake, client } = setup();
  fake.addJob(query);
  fake.injectFault({ networkError: true });
  await assert.rejects(client.getJobStatus(query), isCode("transport"));

  fake.injectFault({ latencyMs: 60 });
  const started = Date.now();
  assert.equal((await client.getJobStatus(query)).jobComplete, true);
  assert.ok(Date.now() - started >= 55, `latency applied (${Date.now() - started} ms)`);

  fake.injectFault({ latencyMs: 5000 });
  await assert.rejects(client.getJobStatus(query, { timeoutMs: 30 }), isCode("timeout"));
  fake.injectFault({ latencyMs: 5000 });
  const controller = new AbortController();
  const pending = client.getJobStatus(query, { signal: controller.signal });
  controller.abort();
  await assert.rejects(pending, isCode("aborted"));

  fake.injectFault({ status: 500, times: Infinity });
  fake.clearFaults();
  assert.equal((await client.getJobStatus(query)).jobComplete, true);
  assert.throws(() => fake.injectFault({ times: 0, status: 500 }), isCode("invalid_argument"));
  assert.throws(() => fake.injectFault({ status: 99 }), isCode("invalid_argument"));
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
  await assert.rejects(client.getJobStatus(query));
  await fake.fetch(new Request(ENDPOINT)).then((r) => r.body?.cancel());
  assert.equal(fake.requests.length, 4);
  assert.deepEqual(seen, [200, 200, 502, 405]);
  assert.deepEqual(fake.requests[0], {
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
  assert.equal(fake.requests[1]?.jobComplete, true);
  assert.equal(fake.requests[2]?.faulted, true);
  fake.clearRequests();
  assert.equal(fake.requests.length, 0);
  await assert.rejects(client.getJobStatus({ userId: "u", jobId: "missing" }));
  assert.equal(fake.requests[0]?.smileCode, "2210");
  assert.equal(fake.requests[0]?.jobId, "missing");
});

test("addJob() validates its input and refuses a job id twice", () => {
  const { fake } = setup();
  fake.addJob(query);
  assert.throws(() => fake.addJob(query), isCode("invalid_argument", (e) => /already exists/.test(e.message)));
  assert.throws(() => fake.addJob({ userId: "", jobId: "x" }), isCode("invalid_argument"));
  assert.throws(() => fake.addJob({ userId: "u", jobId: "y", completesAfterMs: -1 }), isCode("invalid_argument"));
  assert.throws(
    () => fake.addJob({ userId: "u", jobId: "z", result: 42 as unknown as string }),
    isCode("invalid_argument"),
  );
  assert.throws(() => createFakeSmileId({ partnerId: 85 as unknown as string, apiKey }), isCode("invalid_argument"));
  assert.throws(() => createFakeSmileId({ partnerId, apiKey: "" }), isCode("invalid_argument"));
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
  assert.equal(await response.text(), "ok");
  assert.ok(received);
  assert.equal(received.method, "POST");
  assert.equal(received.type, "application/json");
  const { signature, timestamp, ...result } = received.body;
  assert.equal(timestamp, "2024-05-01T10:00:00.000Z");
  assert.equal(await signer.verify(timestamp, signature), true);
  assert.equal(result.ResultCode, "0810");
  assert.deepEqual((result.PartnerParams as JsonObject).job_id, "job-1");
  assert.equal("job_complete" in result, false, "a bare result, not a job-status answer");
  clock += 1;
  const again = await fake.buildCallback("job-1");
  assert.equal(again.timestamp, "2024-05-01T10:00:00.001Z");
});

test("buildCallback() forges, back-dates and re-envelopes callbacks for handler tests", async () => {
  const { fake } = setup();
  fake.addJob(query);
  fake.addJob({ userId: "user-2", jobId: "job-2", result: "No zip uploaded" });
  const forged = await fake.buildCallback("job-1", { badSignature: true });
  assert.equal(await signer.verify(forged.timestamp, forged.signature), false);
  const literal = await fake.buildCallback("job-1", { signature: "AAAA" });
  assert.equal(literal.signature, "AAAA");
  const stale = await fake.buildCallback("job-1", { timestamp: "2020-01-01T00:00:00.000Z" });
  assert.equal(stale.timestamp, "2020-01-01T00:00:00.000Z");
  assert.equal(await signer.verify(stale.timestamp, stale.signature), true);
  const tampered = await fake.buildCallback("job-1", { overrides: { ResultCode: "1012" } });
  assert.equal(tampered.ResultCode, "1012");
  assert.equal(
    await signer.verify(tampered.timestamp, tampered.signature),
    true,
    "the signature does not cover the body",
  );
  const enveloped = await fake.buildCallback("job-2", { envelope: "job_status" });
  assert.equal(enveloped.job_complete, true);
  assert.equal(enveloped.result, "No zip uploaded");
  await assert.rejects(fake.buildCallback("job-2"), isCode("invalid_argument", (e) => /envelope/.test(e.message)));
  await assert.rejects(fake.buildCallback("nope"), isCode("invalid_argument"));
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
  assert.equal(response.status, 204);
  assert.equal(seen?.url, "https://partner.example/smile/callback");
  assert.equal(seen?.redirect, "manual");
  const body = await seen?.json();
  assert.equal(await signer.verify(body.timestamp, body.signature), true);
});

test("sendCallback() and verifyCallback() agree: genuine accepted and confirmed, forgeries rejected", async () => {
  let clock = Date.now() - 60_000;
  const { fake, client } = setup({ now: () => (clock += 1000) }); // each callback gets its own timestamp
  fake.addJob(query);
  const outcomes: string[] = [];
  const handler = async (request: Request) => {
    try {
      const verified = await client.verifyCallback(request, { confirm: true });
      outcomes.push(`ok ${verified.payload.jobId} ${verified.mismatches?.join(",") || "-"}`);
      return new Response(null, { status: 204 });
    } catch (error) {
      outcomes.push(error instanceof SmileIdError ? error.code : String(error));
      return new Response(null, { status: 400 });
    }
  };
  const genuine = await fake.buildCallback("job-1");
  assert.equal((await fake.sendCallback("job-1", handler)).status, 204);
  await handler(new Request("http://localhost/cb", { method: "POST", body: JSON.stringify(genuine) }));
  await handler(new Request("http://localhost/cb", { method: "POST", body: JSON.stringify(genuine) }));
  await fake.sendCallback("job-1", handler, { badSignature: true });
  await fake.sendCallback("job-1", handler, { timestamp: new Date(Date.now() - 3_600_000).toISOString() });
  await fake.sendCallback("job-1", handler, { envelope: "job_status" });
  await fake.sendCallback("job-1", handler, { overrides: { ResultCode: "1012" } });
  assert.deepEqual(outcomes, [
    "ok job-1 -",
    "ok job-1 -",
    "replayed",
    "signature_mismatch",
    "stale_timestamp",
    "ok job-1 -",
    "ok job-1 ResultCode",
  ]);
});
