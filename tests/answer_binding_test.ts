// An answer bound to its request, in time and by pair: answerSkewSeconds, the client's own request
// pairs, and the form requests are signed in. Portable: runs in every runtime of the suite
// (tests/host/reflection_test.ts runs the same rules through a real socket).

import { test } from "node:test";
import { assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import { createClient, createSigner, type FetchLike, parseJobStatusResponse } from "../mod.ts";
import { createTestClock } from "../src/testing/mod.ts";
import { assertRejectsWithCode, assertThrowsWithCode } from "./_helpers.ts";

const partnerId = "085";
const apiKey = "answer-binding-key-0d9e";
const smile = createSigner({ partnerId, apiKey });
const ids = { userId: "user-1", jobId: "job-1" };
const REQUESTED = "2024-05-01T12:00:00.000+00:00";

async function answerAt(timestamp: string) {
  return { job_complete: true, job_success: true, code: "2302", result: "ok", ...(await smile.sign(timestamp)) };
}

test("parseJobStatusResponse() refuses an answer signed more than answerSkewSeconds before its request", async () => {
  const request = { ...ids, signed: await smile.sign(REQUESTED) };
  const ok = await parseJobStatusResponse(smile, await answerAt("2024-05-01T11:55:00.000Z"), { request });
  assertStrictEquals(ok.timestamp, "2024-05-01T11:55:00.000Z", "exactly 300 s earlier passes");
  const old = await answerAt("2024-05-01T11:54:59.999Z");
  const error = await assertRejectsWithCode(
    () => parseJobStatusResponse(smile, old, { request }),
    "signature_mismatch",
    /signed more than answerSkewSeconds \(300\) before the request/,
  );
  assertStrictEquals(error.body, undefined);
  // A larger window, or none.
  await parseJobStatusResponse(smile, old, { request, answerSkewSeconds: 301 });
  await parseJobStatusResponse(smile, await answerAt("2001-01-01T00:00:00.000Z"), {
    request,
    answerSkewSeconds: false,
  });
  // Any readable form Smile ID's SDKs sign with: Unix milliseconds, an offset, Ruby's Time#to_s.
  for (
    const timestamp of [
      String(Date.parse("2024-05-01T12:00:01Z")),
      "2024-05-01T14:00:00+02:00",
      "2024-05-01 12:00:00 +0000",
    ]
  ) {
    assertStrictEquals(
      (await parseJobStatusResponse(smile, await answerAt(timestamp), { request })).timestamp,
      timestamp,
    );
  }
  // An unreadable timestamp cannot be shown to be recent: refused, unless the check is off.
  const unreadable = await answerAt("yesterday");
  await assertRejectsWithCode(
    () => parseJobStatusResponse(smile, unreadable, { request }),
    "signature_mismatch",
    /unreadable time/,
  );
  await parseJobStatusResponse(smile, unreadable, { request, answerSkewSeconds: false });
  // Without a request, or with a request time that is not readable, there is nothing to compare.
  await parseJobStatusResponse(smile, old);
  await parseJobStatusResponse(smile, old, { request: { ...ids, signed: await smile.sign("when I asked") } });
});

test("createClient() and parseJobStatusResponse() refuse a bad answerSkewSeconds at once", async () => {
  for (const value of [-1, Number.NaN, Infinity, "300", true, null]) {
    assertThrowsWithCode(
      () => createClient({ partnerId, apiKey, answerSkewSeconds: value as never }),
      "invalid_argument",
      /^Option answerSkewSeconds must be a non-negative number of seconds or false, got /,
    );
    await assertRejectsWithCode(
      () => parseJobStatusResponse(smile, "{}", { answerSkewSeconds: value as never }),
      "invalid_argument",
    );
  }
});

test("createClient() applies answerSkewSeconds and signs requests as 2024-01-01T00:00:00.000+00:00", async () => {
  const clock = createTestClock("2024-05-01T12:00:00.000Z");
  const sent: string[] = [];
  let answerTime = "2024-05-01T11:58:00.000Z";
  const fetch: FetchLike = async (request) => {
    sent.push((await request.json()).timestamp);
    return Response.json(await answerAt(answerTime));
  };
  const client = createClient({ partnerId, apiKey, fetch, clock, answerSkewSeconds: 60 });
  await assertRejectsWithCode(() => client.getJobStatus(ids), "signature_mismatch", /answerSkewSeconds \(60\)/);
  answerTime = "2024-05-01T11:59:30.000Z";
  assertStrictEquals((await client.getJobStatus(ids)).timestamp, answerTime);
  assertEquals(sent, [REQUESTED, REQUESTED]);
  assertMatch(sent[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
  assertStrictEquals(Date.parse(sent[0]!), clock.now(), "the same instant as toISOString()");
});

test("parseJobStatusResponse() with a client's signer refuses that client's request pairs, with or without request", async () => {
  const clock = createTestClock("2024-05-01T12:00:00.000Z");
  const requests: Record<string, unknown>[] = [];
  const fetch: FetchLike = async (request) => {
    requests.push(await request.json());
    return Response.json(await answerAt(new Date(clock.now()).toISOString()));
  };
  const client = createClient({ partnerId, apiKey, fetch, clock });
  await client.getJobStatus(ids);
  const pair = { timestamp: requests[0]!.timestamp as string, signature: requests[0]!.signature as string };
  const madeUp = { job_complete: true, result: "ok", ...pair };
  await assertRejectsWithCode(
    () => parseJobStatusResponse(client.signer, madeUp),
    "signature_mismatch",
    /another request's of this client/,
  );
  // Another signer of the same key knows nothing of the client's requests: the pair verifies.
  assertStrictEquals((await parseJobStatusResponse(smile, madeUp)).result, "ok");
});

test("parseJobStatusResponse() never quotes or keeps a string body that is not JSON", async () => {
  const text = `${apiKey} is not JSON`;
  const error = await assertRejectsWithCode(
    () => parseJobStatusResponse(smile, text),
    "unexpected_response",
    new RegExp(`^The job status response is not JSON: expected a JSON object, got ${text.length} characters$`),
  );
  assertStrictEquals(error.body, undefined);
  // Read from a Response (what Smile ID sent), it is quoted and kept, for diagnosis.
  const fromWire = await assertRejectsWithCode(
    () => parseJobStatusResponse(smile, new Response("<html>")),
    "unexpected_response",
    /got "<html>"/,
  );
  assertStrictEquals(fromWire.body, "<html>");
});
