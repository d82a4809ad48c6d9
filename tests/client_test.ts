import { test } from "node:test";
import {
  assert,
  assertEquals,
  assertNotMatch,
  assertNotStrictEquals,
  assertStrictEquals,
  assertStringIncludes,
} from "@std/assert";
import * as mod from "../mod.ts";
import { createClient, createSigner, type FetchLike } from "../mod.ts";
import { assertRejectsWithCode, assertThrowsWithCode } from "./_helpers.ts";
import { createTestClock } from "../src/testing/mod.ts";

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

test("createClient().getJobStatus() sends a signed query and returns the verified status", async () => {
  const fake = fakeFetch();
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch });
  const status = await client.getJobStatus({ userId: "u", jobId: "j", includeHistory: true });
  assertStrictEquals(status.jobComplete, true);
  assertStrictEquals(typeof status.result === "object" && status.result.resultCode, "1012");
  const [body] = fake.bodies;
  assert(body);
  assertStrictEquals(body.partner_id, partnerId);
  assertStrictEquals(body.user_id, "u");
  assertStrictEquals(body.job_id, "j");
  assertStrictEquals(body.history, true);
  assertStrictEquals(body.image_links, false);
  assertStrictEquals(await serverSigner.verify(body.timestamp, body.signature), true);
});

test("createClient().getJobStatus() calls the injected fetch as a free function", async () => {
  const fake = fakeFetch();
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch });
  await client.getJobStatus({ userId: "u", jobId: "j" });
  assertEquals(fake.thisValues, [undefined]);
});

test("createClient().getJobStatus() signs every call afresh, at its clock's time, with a +00:00 offset", async () => {
  const fake = fakeFetch();
  const clock = createTestClock("2024-01-01T00:00:00.000Z");
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch, clock });
  assertStrictEquals(client.clock, clock);
  await client.getJobStatus({ userId: "u", jobId: "j" });
  clock.advance(1000);
  await client.getJobStatus({ userId: "u", jobId: "j" });
  const [first, second] = fake.bodies;
  assert(first && second);
  assertEquals([first.timestamp, second.timestamp], ["2024-01-01T00:00:00.000+00:00", "2024-01-01T00:00:01.000+00:00"]);
  assertNotStrictEquals(first.signature, second.signature);
  assertThrowsWithCode(
    () => createClient({ partnerId, apiKey, clock: { now: () => 0 } as never }),
    "invalid_argument",
    /^Option clock must be an object with a now method and a sleep method, got an object with keys now$/,
  );
});

test("createClient().getJobStatus() maps a rejecting fetch to code transport", async () => {
  const cause = new TypeError("connection refused");
  const client = createClient({ partnerId, apiKey, fetch: () => Promise.reject(cause) });
  const error = await assertRejectsWithCode(
    () => client.getJobStatus({ userId: "u", jobId: "j" }),
    "transport",
    /POST https:\/\/testapi\.smileidentity\.com\/v1\/job_status failed before an answer arrived: connection refused/,
  );
  assertStrictEquals(error.cause, cause);
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
  // The fetch never answers: only the 50 ms deadline can end the call.
  const client = createClient({ partnerId, apiKey, fetch: hanging, timeoutMs: 50 });
  await assertRejectsWithCode(
    () => client.getJobStatus({ userId: "u", jobId: "j" }),
    "timeout",
    /timed out after 50 ms/,
  );
  assertStrictEquals(aborted, true, "the fetch's signal is aborted");
});

test("createClient().getJobStatus() times out even when fetch ignores its signal", async () => {
  let settle: (() => void) | undefined;
  const deaf: FetchLike = () => new Promise((resolve) => (settle = () => resolve(new Response("{}"))));
  const client = createClient({ partnerId, apiKey, fetch: deaf });
  await assertRejectsWithCode(() => client.getJobStatus({ userId: "u", jobId: "j" }, { timeoutMs: 30 }), "timeout");
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
  await assertRejectsWithCode(() => client.getJobStatus({ userId: "u", jobId: "j" }), "timeout");
});

test("createClient().getJobStatus() rejects with code aborted when the caller aborts", async () => {
  const controller = new AbortController();
  const hanging: FetchLike = (_request, init) =>
    new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
  const client = createClient({ partnerId, apiKey, fetch: hanging });
  const pending = client.getJobStatus({ userId: "u", jobId: "j" }, { signal: controller.signal });
  controller.abort(new Error("user left"));
  const error = await assertRejectsWithCode(() => pending, "aborted");
  assertStrictEquals((error.cause as Error).message, "user left");
  const fake = fakeFetch();
  const again = createClient({ partnerId, apiKey, fetch: fake.fetch });
  await assertRejectsWithCode(
    () => again.getJobStatus({ userId: "u", jobId: "j" }, { signal: controller.signal }),
    "aborted",
  );
  assertStrictEquals(fake.bodies.length, 0, "nothing is sent once aborted");
});

test("createClient().getJobStatus() rejects answers signed with another key", async () => {
  const forger = createSigner({ partnerId, apiKey: "not-the-key" });
  const forged: FetchLike = async () => Response.json({ job_complete: true, ...(await forger.sign()) });
  const client = createClient({ partnerId, apiKey, fetch: forged });
  await assertRejectsWithCode(() => client.getJobStatus({ userId: "u", jobId: "j" }), "signature_mismatch");
});

test("createClient().getJobStatus() surfaces Smile ID's error body", async () => {
  const unauthorized: FetchLike = () =>
    Promise.resolve(Response.json({ code: "2205", error: "You are not authorized to do that" }, { status: 401 }));
  const client = createClient({ partnerId, apiKey, fetch: unauthorized });
  const error = await assertRejectsWithCode(() => client.getJobStatus({ userId: "u", jobId: "j" }), "http");
  assertStrictEquals(error.status, 401);
  assertStrictEquals(error.smileCode, "2205");
});

test("createClient().getJobStatus() refuses bad queries before sending", async () => {
  const fake = fakeFetch();
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch });
  await assertRejectsWithCode(
    // deno-lint-ignore no-explicit-any
    () => client.getJobStatus(undefined as any),
    "invalid_argument",
    /query must be an object/,
  );
  await assertRejectsWithCode(() => client.getJobStatus({ userId: "", jobId: "j" }), "invalid_argument", /User id/);
  await assertRejectsWithCode(
    () => client.getJobStatus({ userId: "u", jobId: "j" }, { timeoutMs: -1 }),
    "invalid_argument",
    /timeoutMs must be a positive number, got -1/,
  );
  assertStrictEquals(fake.bodies.length, 0);
});

test("createClient() refuses bad configuration at once", () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ partnerId: 85, apiKey }, /leading zeros/],
    [{ partnerId, apiKey: "" }, /API key must be a non-empty string/],
    [{ partnerId, apiKey, server: "http://example.com" }, /not loopback/],
    [{ partnerId, apiKey, fetch: "fetch" }, /Option fetch must be a function, got a string of 5 characters/],
    [{ partnerId, apiKey, timeoutMs: 0 }, /Option timeoutMs must be a positive number, got 0/],
    [{ partnerId, apiKey, maxResponseBytes: Number.NaN }, /Option maxResponseBytes must be a positive number/],
  ];
  for (const [config, message] of cases) {
    // deno-lint-ignore no-explicit-any
    assertThrowsWithCode(() => createClient(config as any), "invalid_argument", message, JSON.stringify(config));
  }
  // deno-lint-ignore no-explicit-any
  assertThrowsWithCode(() => createClient(null as any), "invalid_argument");
});

test("createClient() holds no copy of the API key text", () => {
  const client = createClient({ partnerId, apiKey, fetch: fakeFetch().fetch });
  assertNotMatch(JSON.stringify(client), new RegExp(apiKey));
  assertStrictEquals("apiKey" in client, false);
  for (const value of Object.values(client)) assertNotStrictEquals(value, apiKey);
  assertStrictEquals(client.partnerId, partnerId);
  assertStrictEquals(client.server, "https://testapi.smileidentity.com/v1");
});

test("mod.ts exports no plumbing and no free getJobStatus: a query goes through a client", () => {
  // A free getJobStatus(config, query) imported the key per call and invited waitForJobStatus(config, query).
  for (const name of ["getJobStatus", "send"]) assertStrictEquals(name in mod, false, name);
  assertStrictEquals(typeof mod.createClient, "function");
});

test("createClient().getJobStatus() names our field for the official SDKs' input names, before sending", async () => {
  const fake = fakeFetch();
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch });
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ user_id: "u", job_id: "j" }, "must use userId and jobId, not the official SDKs' user_id and job_id"],
    [
      { userId: "u", jobId: "j", return_history: true },
      "must use includeHistory, not the official SDKs' return_history",
    ],
    [
      { userId: "u", jobId: "j", return_image_links: true },
      "must use includeImageLinks, not the official SDKs' return_image_links",
    ],
    [
      { userId: "u", jobId: "j", return_images: true },
      "must use includeImageLinks, not the official SDKs' return_images",
    ],
  ];
  for (const [query, message] of cases) {
    const error = await assertRejectsWithCode(
      // deno-lint-ignore no-explicit-any
      () => client.getJobStatus(query as any),
      "invalid_argument",
      undefined,
      JSON.stringify(query),
    );
    assertStringIncludes(error.message, message);
  }
  assertStrictEquals(fake.bodies.length, 0);
});

test("createClient().getJobStatus() accepts numeric ids and binds the answer to them as strings", async () => {
  const fake = fakeFetch({ ResultCode: "1012", PartnerParams: { user_id: 42, job_id: "7" } });
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch });
  const status = await client.getJobStatus({ userId: 42, jobId: 7 });
  assertStrictEquals(status.jobComplete, true);
  assertEquals([fake.bodies[0]?.user_id, fake.bodies[0]?.job_id], ["42", "7"]);
});

test("createClient().getJobStatus() refuses an answer whose result is another job's", async () => {
  const fake = fakeFetch({ ResultCode: "1012", PartnerParams: { user_id: "someone-else", job_id: "j" } });
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch });
  const error = await assertRejectsWithCode(
    () => client.getJobStatus({ userId: "u", jobId: "j" }),
    "answer_mismatch",
    /its result's PartnerParams\.user_id is not the query's; expected the queried user and job$/,
  );
  assertNotMatch(error.message, /someone-else/);
});

test("createClient().getJobStatus() refuses an answer a wrapping fetch got by following a redirect", async () => {
  const fake = fakeFetch();
  // A wrapper that follows redirects itself, as a user's fetch might: its answer says so.
  const following: FetchLike = async (request) => {
    const response = await fake.fetch(request);
    Object.defineProperty(response, "redirected", { value: true });
    return response;
  };
  const client = createClient({ partnerId, apiKey, fetch: following });
  const error = await assertRejectsWithCode(
    () => client.getJobStatus({ userId: "u", jobId: "j" }),
    "http",
    /came through a redirect that fetch followed: the signed request was re-sent to another address/,
  );
  assertStrictEquals(error.status, undefined);
});

test("createClient().getJobStatus() reports an unsigned 2xx error body with Smile ID's code", async () => {
  const unsigned: FetchLike = () =>
    Promise.resolve(Response.json({ code: "2205", error: "You are not authorized to do that" }));
  const client = createClient({ partnerId, apiKey, fetch: unsigned });
  const error = await assertRejectsWithCode(
    () => client.getJobStatus({ userId: "u", jobId: "j" }),
    "missing_signature",
    /Smile ID answered HTTP 200 with error 2205 \("You are not authorized to do that"\) and no signature/,
  );
  assertEquals([error.smileCode, error.serverMessage], ["2205", "You are not authorized to do that"]);
});

test("createClient() adds a hint to HTTP 404 when its base URL does not end in /v1", async () => {
  const notFound: FetchLike = () => Promise.resolve(new Response("Not Found", { status: 404 }));
  const bare = createClient({ partnerId, apiKey, fetch: notFound, server: "https://proxy.example.com/smile" });
  const error = await assertRejectsWithCode(
    () => bare.getJobStatus({ userId: "u", jobId: "j" }),
    "http",
    /^Smile ID answered HTTP 404; expected .*; hint: the server URL "https:\/\/proxy\.example\.com\/smile" does not end in \/v1/,
  );
  assertStrictEquals(error.status, 404);
  assertStrictEquals(error.body, "Not Found");
  const proper = createClient({ partnerId, apiKey, fetch: notFound, server: "https://proxy.example.com/smile/v1" });
  const plain = await assertRejectsWithCode(() => proper.getJobStatus({ userId: "u", jobId: "j" }), "http");
  assertNotMatch(plain.message, /hint/);
  assertThrowsWithCode(
    () => createClient({ partnerId, apiKey, server: "https://testapi.smileidentity.com" }),
    "invalid_argument",
    /without the v1 API's path: use "https:\/\/testapi\.smileidentity\.com\/v1"/,
  );
});

test("createClient().getJobStatus() verifies an answer signed with a Unix-millisecond timestamp", async () => {
  const unixMs: FetchLike = async () =>
    Response.json({
      job_complete: false,
      job_success: false,
      code: "2314",
      result: "No zip file received",
      ...(await serverSigner.sign("1678216434434")),
    });
  // At the fixture's time: an answer signed long before its request is refused.
  const clock = createTestClock(1678216434434);
  const status = await createClient({ partnerId, apiKey, fetch: unixMs, clock }).getJobStatus({
    userId: "u",
    jobId: "j",
  });
  assertEquals([status.timestamp, status.code, status.result], ["1678216434434", "2314", "No zip file received"]);
});

test("createClient().getJobStatus() refuses a fixed answer carrying an earlier request's pair, with no retry", async () => {
  // A fixed answer whose pair is the first request's (what a party that saw that request can
  // make up): refused for the first request and for every later one.
  const requests: Array<Record<string, unknown>> = [];
  let answer: Record<string, unknown> | undefined;
  const fixture: FetchLike = async (request) => {
    const sent = await request.json();
    requests.push(sent);
    answer ??= { job_complete: true, result: "ok", ...(await serverSigner.sign(sent.timestamp)) };
    return Response.json(answer);
  };
  const client = createClient({ partnerId, apiKey, fetch: fixture });
  for (const _ of [1, 2]) {
    await assertRejectsWithCode(() => client.getJobStatus({ userId: "u", jobId: "j" }), "signature_mismatch");
  }
  assertStrictEquals(requests.length, 2, "one request per call");
});

test("getJobStatus() rejects with code aborted when the caller aborts while fetch is being called", async () => {
  const controller = new AbortController();
  let calls = 0;
  // Aborts synchronously from inside fetch, then never answers: only the abort can end the call.
  const fetch: FetchLike = () => {
    calls++;
    controller.abort(new Error("the caller gave up"));
    return new Promise<Response>(() => {});
  };
  const client = createClient({ partnerId, apiKey, fetch, timeoutMs: 24 * 3_600_000 });
  const error = await assertRejectsWithCode(
    () => client.getJobStatus({ userId: "user-1", jobId: "job-1" }, { signal: controller.signal }),
    "aborted",
  );
  assertStrictEquals((error.cause as Error).message, "the caller gave up");
  assertStrictEquals(calls, 1);
});
