import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient, createSigner, type FetchLike, getJobStatus, SmileIdError } from "../mod.ts";

const partnerId = "085";
const apiKey = "client-test-secret-key-0123456789";
const serverSigner = createSigner({ partnerId, apiKey });

/** A stand-in for Smile ID that records requests and answers signed job statuses. */
function fakeFetch(result: unknown = { ResultCode: "1012", PartnerParams: { user_id: "u", job_id: "j" } }) {
  const bodies: Array<Record<string, unknown>> = [];
  const thisValues: unknown[] = [];
  const fetch: FetchLike = async function (this: unknown, request) {
    thisValues.push(this);
    bodies.push(await request.json());
    return Response.json({
      job_complete: true,
      job_success: true,
      code: "2302",
      result,
      ...(await serverSigner.sign()),
    });
  };
  return { fetch, bodies, thisValues };
}

function isCode(code: string, message?: RegExp) {
  return (error: unknown) =>
    error instanceof SmileIdError && error.code === code && (message === undefined || message.test(error.message));
}

test("createClient().getJobStatus() sends a signed query and returns the verified status", async () => {
  const fake = fakeFetch();
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch });
  const status = await client.getJobStatus({ userId: "u", jobId: "j", includeHistory: true });
  assert.equal(status.jobComplete, true);
  assert.equal(typeof status.result === "object" && status.result.resultCode, "1012");
  const [body] = fake.bodies;
  assert.ok(body);
  assert.equal(body.partner_id, partnerId);
  assert.equal(body.user_id, "u");
  assert.equal(body.job_id, "j");
  assert.equal(body.history, true);
  assert.equal(body.image_links, false);
  assert.equal(await serverSigner.verify(body.timestamp, body.signature), true);
});

test("createClient().getJobStatus() calls the injected fetch as a free function", async () => {
  const fake = fakeFetch();
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch });
  await client.getJobStatus({ userId: "u", jobId: "j" });
  assert.deepEqual(fake.thisValues, [undefined]);
});

test("createClient().getJobStatus() signs every call afresh", async () => {
  const fake = fakeFetch();
  let clock = Date.parse("2024-01-01T00:00:00.000Z");
  const realNow = Date.now;
  Date.now = () => (clock += 1000);
  try {
    const client = createClient({ partnerId, apiKey, fetch: fake.fetch });
    await client.getJobStatus({ userId: "u", jobId: "j" });
    await client.getJobStatus({ userId: "u", jobId: "j" });
  } finally {
    Date.now = realNow;
  }
  const [first, second] = fake.bodies;
  assert.ok(first && second);
  assert.notEqual(first.timestamp, second.timestamp);
  assert.notEqual(first.signature, second.signature);
});

test("createClient().getJobStatus() maps a rejecting fetch to code transport", async () => {
  const cause = new TypeError("connection refused");
  const client = createClient({ partnerId, apiKey, fetch: () => Promise.reject(cause) });
  await assert.rejects(client.getJobStatus({ userId: "u", jobId: "j" }), (error: unknown) => {
    assert.ok(error instanceof SmileIdError);
    assert.equal(error.code, "transport");
    assert.equal(error.cause, cause);
    assert.match(
      error.message,
      /POST https:\/\/testapi\.smileidentity\.com\/v1\/job_status failed before an answer arrived: connection refused/,
    );
    return true;
  });
});

test("createClient().getJobStatus() times out a fetch that never answers", async () => {
  let aborted = false;
  const hanging: FetchLike = (_request, init) =>
    new Promise((_, reject) => {
      init?.signal?.addEventListener("abort", () => {
        aborted = true;
        reject(init.signal?.reason);
      });
    });
  const client = createClient({ partnerId, apiKey, fetch: hanging, timeoutMs: 50 });
  const started = Date.now();
  await assert.rejects(client.getJobStatus({ userId: "u", jobId: "j" }), isCode("timeout", /timed out after 50 ms/));
  assert.ok(Date.now() - started < 2000);
  assert.equal(aborted, true, "the fetch's signal is aborted");
});

test("createClient().getJobStatus() times out even when fetch ignores its signal", async () => {
  let settle: (() => void) | undefined;
  const deaf: FetchLike = () => new Promise((resolve) => (settle = () => resolve(new Response("{}"))));
  const client = createClient({ partnerId, apiKey, fetch: deaf });
  await assert.rejects(client.getJobStatus({ userId: "u", jobId: "j" }, { timeoutMs: 30 }), isCode("timeout"));
  settle?.();
});

test("createClient().getJobStatus() times out a body that stalls", async () => {
  const stalling: FetchLike = () =>
    Promise.resolve(
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"job_complete":'));
          },
        }),
      ),
    );
  const client = createClient({ partnerId, apiKey, fetch: stalling, timeoutMs: 50 });
  await assert.rejects(client.getJobStatus({ userId: "u", jobId: "j" }), isCode("timeout"));
});

test("createClient().getJobStatus() rejects with code aborted when the caller aborts", async () => {
  const controller = new AbortController();
  const hanging: FetchLike = (_request, init) =>
    new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
  const client = createClient({ partnerId, apiKey, fetch: hanging });
  const pending = client.getJobStatus({ userId: "u", jobId: "j" }, { signal: controller.signal });
  controller.abort(new Error("user left"));
  await assert.rejects(pending, (error: unknown) => {
    return error instanceof SmileIdError && error.code === "aborted" && (error.cause as Error).message === "user left";
  });
  const fake = fakeFetch();
  const again = createClient({ partnerId, apiKey, fetch: fake.fetch });
  await assert.rejects(
    again.getJobStatus({ userId: "u", jobId: "j" }, { signal: controller.signal }),
    isCode("aborted"),
  );
  assert.equal(fake.bodies.length, 0, "nothing is sent once aborted");
});

test("createClient().getJobStatus() rejects answers signed with another key", async () => {
  const forger = createSigner({ partnerId, apiKey: "not-the-key" });
  const forged: FetchLike = async () => Response.json({ job_complete: true, ...(await forger.sign()) });
  const client = createClient({ partnerId, apiKey, fetch: forged });
  await assert.rejects(client.getJobStatus({ userId: "u", jobId: "j" }), isCode("signature_mismatch"));
});

test("createClient().getJobStatus() surfaces Smile ID's error body", async () => {
  const unauthorized: FetchLike = () =>
    Promise.resolve(Response.json({ code: "2205", error: "You are not authorized to do that" }, { status: 401 }));
  const client = createClient({ partnerId, apiKey, fetch: unauthorized });
  await assert.rejects(client.getJobStatus({ userId: "u", jobId: "j" }), (error: unknown) => {
    return error instanceof SmileIdError && error.code === "http" && error.status === 401 && error.smileCode === "2205";
  });
});

test("createClient().getJobStatus() refuses bad queries before sending", async () => {
  const fake = fakeFetch();
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch });
  // deno-lint-ignore no-explicit-any
  await assert.rejects(client.getJobStatus(undefined as any), isCode("invalid_argument", /query must be an object/));
  await assert.rejects(client.getJobStatus({ userId: "", jobId: "j" }), isCode("invalid_argument", /User id/));
  await assert.rejects(
    client.getJobStatus({ userId: "u", jobId: "j" }, { timeoutMs: -1 }),
    isCode("invalid_argument", /timeoutMs must be a positive number, got -1/),
  );
  assert.equal(fake.bodies.length, 0);
});

test("createClient() refuses bad configuration at once", () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ partnerId: 85, apiKey }, /leading zeros/],
    [{ partnerId, apiKey: "" }, /API key must be a non-empty string/],
    [{ partnerId, apiKey, server: "http://example.com" }, /not loopback/],
    [{ partnerId, apiKey, fetch: "fetch" }, /Option fetch must be a function, got "fetch"/],
    [{ partnerId, apiKey, timeoutMs: 0 }, /Option timeoutMs must be a positive number, got 0/],
    [{ partnerId, apiKey, maxResponseBytes: Number.NaN }, /Option maxResponseBytes must be a positive number/],
  ];
  for (const [config, message] of cases) {
    // deno-lint-ignore no-explicit-any
    assert.throws(() => createClient(config as any), isCode("invalid_argument", message), JSON.stringify(config));
  }
  // deno-lint-ignore no-explicit-any
  assert.throws(() => createClient(null as any), isCode("invalid_argument"));
});

test("createClient() holds no copy of the API key text", () => {
  const client = createClient({ partnerId, apiKey, fetch: fakeFetch().fetch });
  assert.doesNotMatch(JSON.stringify(client), new RegExp(apiKey));
  assert.equal("apiKey" in client, false);
  for (const value of Object.values(client)) assert.notEqual(value, apiKey);
  assert.equal(client.partnerId, partnerId);
  assert.equal(client.server, "https://testapi.smileidentity.com/v1");
});

test("getJobStatus() works as a plain function and rejects bad configuration", async () => {
  const fake = fakeFetch("Done");
  const status = await getJobStatus({ partnerId, apiKey, fetch: fake.fetch }, { userId: "u", jobId: "j" });
  assert.equal(status.result, "Done");
  await assert.rejects(
    getJobStatus({ partnerId: "", apiKey, fetch: fake.fetch }, { userId: "u", jobId: "j" }),
    isCode("invalid_argument"),
  );
});
