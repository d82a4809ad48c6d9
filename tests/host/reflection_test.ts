// What a party that copies signed pairs can and cannot do, run the way it would run it: a keyless
// proxy on 127.0.0.1 (a wrong `server`, a TLS-intercepting proxy) sees every request the client
// sends, can forward it to Smile ID (here the fake, in process), and answers whatever it likes.
// Smile ID's signature covers only the timestamp and the partner id, so every pair it saw passes
// the signature check of an answer or a callback. SECURITY.md states both halves; this file
// holds each sentence to account. node:http servers, so it runs in Deno, Node and Bun.

import { test } from "node:test";
import { assert, assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import {
  createCallbackHandler,
  createClient,
  createSigner,
  type JsonObject,
  type SmileIdError,
  verifyCallback,
} from "../../mod.ts";
import { createFakeSmileId, createTestClock } from "../../src/testing/mod.ts";
import { assertRejectsWithCode, madeUpApproval } from "../_helpers.ts";
import { startFetchServer, type TestServer } from "./_fault_server.ts";

const partnerId = "085";
const apiKey = "reflection-test-key-91c4";
const query = { userId: "user-1", jobId: "job-1" };
/** The job as Smile ID has it: rejected. */
const rejected = { ResultCode: "1022", ResultText: "No Match", Actions: { Verify_ID_Number: "Not Verified" } };

/**
 * A proxy on 127.0.0.1 that holds no key. `answer` gets each request's body (index 0 first) and
 * the pairs of every request seen so far, and returns a made-up answer, or `undefined` to forward
 * the request to Smile ID (the fake) and pass its genuine answer back.
 */
async function keylessProxy(
  smile: (request: Request) => Promise<Response>,
  answer: (sent: JsonObject, seen: JsonObject[]) => Promise<JsonObject | undefined> | JsonObject | undefined,
): Promise<TestServer & { seen: JsonObject[] }> {
  const seen: JsonObject[] = [];
  const server = await startFetchServer(async (request) => {
    const sent = await request.clone().json() as JsonObject;
    seen.push(sent);
    const made = await answer(sent, seen);
    if (made !== undefined) return Response.json(made);
    return await smile(
      new Request(request.url.replace(/^http:\/\/[^/]+/, "https://testapi.smileidentity.com"), request),
    );
  });
  return Object.assign(server, { seen });
}

test("getJobStatus() refuses the cross-reflection through a keyless proxy: request 1's pair on request 1, then on request 2", async () => {
  const fake = createFakeSmileId({ partnerId, apiKey });
  fake.addJob({ ...query, result: rejected, jobSuccess: false });
  // Request 1 answered with its own pair; every later request with request 1's pair.
  const proxy = await keylessProxy(fake.fetch, (sent, seen) => madeUpApproval(sent, seen[0]!));
  try {
    const client = createClient({ partnerId, apiKey, server: proxy.base });
    await assertRejectsWithCode(
      () => client.getJobStatus(query),
      "signature_mismatch",
      /carries the request's own timestamp and signature/,
    );
    const second = await assertRejectsWithCode(
      () => client.getJobStatus(query),
      "signature_mismatch",
      /or another request's of this client/,
    );
    assertStrictEquals(proxy.seen.length, 2, "one request per call: no echo retry to feed the proxy");
    assert(proxy.seen[1]!.timestamp !== proxy.seen[0]!.timestamp);
    assertStrictEquals(second.body, undefined, "the reusable pair is not kept");
    // Polling stops at the first such answer too.
    await assertRejectsWithCode(() => client.waitForJobStatus(query, { timeoutMs: 5000 }), "signature_mismatch");
    assertStrictEquals(proxy.seen.length, 3);
  } finally {
    await proxy.close();
  }
});

test("createCallbackHandler() never acts on an answer a keyless proxy reflects, with the default confirm", async () => {
  const fake = createFakeSmileId({ partnerId, apiKey });
  fake.addJob({ ...query, result: rejected, jobSuccess: false });
  const proxy = await keylessProxy(fake.fetch, (sent, seen) => madeUpApproval(sent, seen[0]!));
  try {
    const client = createClient({ partnerId, apiKey, server: proxy.base });
    const acted: unknown[] = [];
    const rejections: SmileIdError[] = [];
    const handler = createCallbackHandler({
      client,
      onCallback: ({ status }) => void acted.push(status.result),
      onRejected: (error) => void rejections.push(error),
    });
    const genuine = await fake.buildCallback(query.jobId); // Smile ID's own callback: rejected
    for (const _ of [1, 2]) {
      const response = await handler(
        new Request("http://127.0.0.1/cb", { method: "POST", body: JSON.stringify(genuine) }),
      );
      assertEquals([response.status, await response.json()], [503, { ok: false, code: "confirm_failed" }]);
    }
    assertEquals(acted, [], "onCallback never saw the invented approval");
    assertEquals(rejections.map((e) => (e.cause as SmileIdError).code), ["signature_mismatch", "signature_mismatch"]);
    assertStrictEquals(proxy.seen.length, 2);
  } finally {
    await proxy.close();
  }
});

test("verifyCallback() refuses a callback under the pair of a request this client sent, in every way it is called", async () => {
  const fake = createFakeSmileId({ partnerId, apiKey });
  fake.addJob({ ...query, result: rejected, jobSuccess: false });
  const proxy = await keylessProxy(fake.fetch, () => undefined); // forwards: genuine answers
  try {
    const client = createClient({ partnerId, apiKey, server: proxy.base });
    assertStrictEquals((await client.getJobStatus(query)).jobComplete, true);
    // The proxy posts a callback of its own, under the request's pair, to the partner's endpoint.
    const forged = {
      ...madeUpApproval(proxy.seen[0]!, proxy.seen[0]!).result as JsonObject,
      ...pairOf(proxy.seen[0]!),
    };
    const message = /carries the pair of a request this client sent, which anyone who saw the request can copy/;
    await assertRejectsWithCode(() => client.verifyCallback(forged), "signature_mismatch", message);
    await assertRejectsWithCode(() => verifyCallback(client.signer, forged), "signature_mismatch", message);
    const otherSigner = createSigner({ partnerId, apiKey }); // the same key, another object
    await assertRejectsWithCode(
      () => verifyCallback(otherSigner, forged, { reader: client, replayGuard: false }),
      "signature_mismatch",
      message,
    );
    const unconfirmed = createCallbackHandler({ client, confirm: false, onCallback: () => {} });
    const response = await unconfirmed(
      new Request("http://127.0.0.1/cb", { method: "POST", body: JSON.stringify(forged) }),
    );
    assertStrictEquals(response.status, 401);
    // A genuine callback still passes.
    const genuine = await client.verifyCallback(await fake.buildCallback(query.jobId), { replayGuard: false });
    assertStrictEquals(genuine.payload.jobId, query.jobId);
  } finally {
    await proxy.close();
  }
});

function pairOf(json: JsonObject): { timestamp: string; signature: string } {
  return { timestamp: json.timestamp as string, signature: json.signature as string };
}

test("what a copier can still do: another client's request pair, or a genuine answer's pair younger than the window, authenticates a made-up answer", async () => {
  const clock = createTestClock(Date.now());
  const fake = createFakeSmileId({ partnerId, apiKey, clock });
  fake.addJob({ ...query, result: rejected, jobSuccess: false });
  // Another instance of the same partner: its requests pass through the same proxy.
  let other: { timestamp: string; signature: string } | undefined;
  let genuine: { timestamp: string; signature: string } | undefined;
  const proxy = await keylessProxy(fake.fetch, async (sent, seen) => {
    if (seen.length === 1) {
      other = pairOf(sent); // the other instance's request: forwarded, its pair kept
      return undefined;
    }
    if (other !== undefined && seen.length === 2) return madeUpApproval(sent, other);
    if (genuine === undefined) {
      const answer = await (await fake.fetch(
        new Request("https://testapi.smileidentity.com/v1/job_status", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(sent),
        }),
      )).json();
      genuine = pairOf(answer); // a genuine answer, read on the wire
    }
    return madeUpApproval(sent, genuine);
  });
  try {
    const instanceB = createClient({ partnerId, apiKey, server: proxy.base, clock });
    const instanceA = createClient({ partnerId, apiKey, server: proxy.base, clock });
    await instanceB.getJobStatus(query);
    clock.advance(1_000); // on one frozen clock, two clients would sign the very same pair
    // Instance A does not know instance B's pairs: the set is per client, per process.
    const fromB = await instanceA.getJobStatus(query);
    assertMatch(JSON.stringify(fromB.result), /1012/, "the made-up approval passed");
    // A genuine answer's pair, replayed within answerSkewSeconds, passes too: TLS protects the answer.
    const replayed = await instanceA.getJobStatus(query);
    assertStrictEquals(replayed.timestamp, genuine!.timestamp);
    assertMatch(JSON.stringify(replayed.result), /1012/);
    // Older than the window (300 s before the request): refused.
    clock.advance(299_000);
    assertMatch(JSON.stringify((await instanceA.getJobStatus(query)).result), /1012/);
    clock.advance(2_000);
    await assertRejectsWithCode(
      () => instanceA.getJobStatus(query),
      "signature_mismatch",
      /signed more than answerSkewSeconds \(300\) before the request/,
    );
  } finally {
    await proxy.close();
  }
});
