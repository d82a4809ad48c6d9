import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createClient,
  createMemoryReplayGuard,
  createSigner,
  type FetchLike,
  type JsonObject,
  type ReplayGuard,
  SmileIdError,
  verifyCallback,
} from "../mod.ts";

const partnerId = "085";
const apiKey = "callback-test-secret-key-0123456789";
const signer = createSigner({ partnerId, apiKey });
const T0 = "2024-05-01T12:00:00.000Z";
const at = (iso: string) => () => Date.parse(iso);

const result: JsonObject = {
  ResultCode: "1022",
  ResultText: "No Match",
  ResultType: "ID Verification",
  SmileJobID: "0000001897",
  PartnerParams: { user_id: "user-1", job_id: "job-1", job_type: 5, crm_ref: "A-17" },
  Actions: { Verify_ID_Number: "Not Verified", Return_Personal_Info: "Not Returned", Brand_New_Check: "Mystery" },
  ConfidenceValue: "0",
  IsFinalResult: "true",
  IsMachineResult: "true",
  Source: "WebAPI",
  FullName: "Ada Lovelace",
};

const recent = Date.now() - 60_000;
let distinct = 0;

/**
 * A callback as Smile ID would post it: the result plus a signature and timestamp (default: a
 * recent one, distinct for every call, so that tests do not trip the replay guard by chance).
 */
async function signedBody(body: JsonObject = result, timestamp?: string): Promise<JsonObject> {
  return { ...body, ...(await signer.sign(timestamp ?? new Date(recent + ++distinct))) };
}

function post(body: BodyInit, headers: Record<string, string> = { "content-type": "application/json" }): Request {
  return new Request("https://partner.example/smile-callback", { method: "POST", body, headers });
}

function isCode(code: string, check: (error: SmileIdError) => boolean = () => true) {
  return (error: unknown) => error instanceof SmileIdError && error.code === code && check(error);
}

/** Fresh options for one test: its own replay guard and a fixed clock. */
function options(extra: Record<string, unknown> = {}) {
  return { signer, now: at(T0), replayGuard: createMemoryReplayGuard(), ...extra };
}

test("verifyCallback() accepts a signed bare result from a Request and types it, nothing lost", async () => {
  const body = await signedBody(result, T0);
  const verified = await verifyCallback(post(JSON.stringify(body)), options());
  assert.equal(verified.signature, "valid");
  assert.equal(verified.fresh, true);
  assert.equal(verified.replayChecked, true);
  assert.equal(verified.confirmed, false);
  assert.equal(verified.status, undefined);
  const { payload } = verified;
  assert.equal(payload.envelope, "result");
  assert.equal(payload.userId, "user-1");
  assert.equal(payload.jobId, "job-1");
  assert.equal(payload.timestamp, T0);
  assert.equal(payload.signature, body.signature);
  assert.equal(payload.jobStatus, undefined);
  assert.deepEqual(payload.raw, body);
  assert.ok(typeof payload.result === "object");
  assert.equal(payload.result.resultCode, "1022");
  assert.equal(payload.result.isFinalResult, true);
  assert.equal(payload.result.confidenceValue, 0);
  assert.equal(payload.result.actions.Brand_New_Check, "Mystery");
  assert.equal(payload.result.partnerParams?.raw.crm_ref, "A-17");
  assert.equal(payload.result.raw.FullName, "Ada Lovelace");
});

test("verifyCallback() accepts a job-status-shaped body", async () => {
  const body = await signedBody({ job_complete: true, job_success: false, code: "2302", result }, T0);
  const verified = await verifyCallback(JSON.stringify(body), options());
  assert.equal(verified.payload.envelope, "job_status");
  assert.equal(verified.payload.jobStatus?.jobComplete, true);
  assert.equal(verified.payload.jobStatus?.code, "2302");
  assert.ok(typeof verified.payload.result === "object");
  assert.equal(verified.payload.result.resultText, "No Match");
  assert.equal(verified.payload.jobId, "job-1");
  assert.deepEqual(verified.payload.raw, body);
});

test("verifyCallback() accepts a string, a Uint8Array and a parsed object", async () => {
  for (
    const make of [
      (b: JsonObject) => JSON.stringify(b),
      (b: JsonObject) => new TextEncoder().encode(JSON.stringify(b)),
      (b: JsonObject) => b,
    ]
  ) {
    const body = await signedBody(result, T0);
    const verified = await verifyCallback(make(body), options());
    assert.equal(verified.payload.userId, "user-1");
    assert.deepEqual(verified.payload.raw, body);
  }
});

test("verifyCallback() rejects a tampered signature or another partner's key with signature_mismatch", async () => {
  const body = await signedBody(result, T0);
  const sig = body.signature as string;
  const flipped = (sig[0] === "A" ? "B" : "A") + sig.slice(1);
  await assert.rejects(verifyCallback({ ...body, signature: flipped }, options()), isCode("signature_mismatch"));
  await assert.rejects(
    verifyCallback({ ...body, timestamp: "2024-05-01T12:00:00.001Z" }, options()),
    isCode("signature_mismatch"),
  );
  const other = createSigner({ partnerId, apiKey: "not-the-partner-key" });
  await assert.rejects(
    verifyCallback({ ...result, ...(await other.sign(T0)) }, options()),
    isCode("signature_mismatch"),
  );
  const otherPartner = createSigner({ partnerId: "85", apiKey });
  await assert.rejects(
    verifyCallback({ ...result, ...(await otherPartner.sign(T0)) }, options()),
    isCode("signature_mismatch"),
  );
});

test("verifyCallback() rejects a body without signature or timestamp with missing_signature", async () => {
  const body = await signedBody(result, T0);
  const { signature: _s, ...noSignature } = body;
  const { timestamp: _t, ...noTimestamp } = body;
  for (const bad of [result, noSignature, noTimestamp, { ...body, signature: "" }, { ...body, timestamp: 17 }]) {
    await assert.rejects(verifyCallback(bad, options()), isCode("missing_signature"));
  }
});

test("verifyCallback() rejects stale and future timestamps, both ways around the tolerance", async () => {
  const body = await signedBody(result, T0);
  await assert.rejects(
    verifyCallback(body, options({ now: at("2024-05-01T12:05:00.001Z") })),
    isCode("stale_timestamp"),
  );
  await assert.rejects(
    verifyCallback(body, options({ now: at("2024-05-01T11:54:59.999Z") })),
    isCode("future_timestamp"),
  );
  assert.equal((await verifyCallback(body, options({ now: at("2024-05-01T12:05:00.000Z") }))).fresh, true);
  assert.equal((await verifyCallback(body, options({ now: at("2024-05-01T11:55:00.000Z") }))).fresh, true);
  await assert.rejects(
    verifyCallback(body, options({ now: at("2024-05-01T12:00:31.000Z"), toleranceSeconds: 30 })),
    isCode("stale_timestamp"),
  );
});

test("verifyCallback() with toleranceSeconds false skips freshness and says so", async () => {
  const body = await signedBody(result, T0);
  const verified = await verifyCallback(
    body,
    options({ now: at("2030-01-01T00:00:00.000Z"), toleranceSeconds: false }),
  );
  assert.equal(verified.fresh, false);
});

test("verifyCallback() rejects a validly signed but unreadable timestamp with invalid_timestamp", async () => {
  for (const timestamp of ["yesterday at noon", "2024-05-01T12:00:00"]) {
    const body = await signedBody(result, timestamp);
    await assert.rejects(verifyCallback(body, options()), isCode("invalid_timestamp"), timestamp);
  }
});

test("verifyCallback() reads the timestamp shapes the official SDKs send", async () => {
  for (
    const timestamp of [
      "2024-05-01T12:00:00+00:00",
      "2024-05-01T12:00:00.123456+0000",
      "2024-05-01 14:00:00 +0200",
      "1714564800000",
    ]
  ) {
    const body = await signedBody(result, timestamp);
    assert.equal((await verifyCallback(body, options())).fresh, true, timestamp);
  }
});

test("verifyCallback() rejects a replayed signature and timestamp pair, even with another body", async () => {
  const guard = createMemoryReplayGuard();
  const body = await signedBody(result, T0);
  await verifyCallback(body, options({ replayGuard: guard }));
  await assert.rejects(verifyCallback(body, options({ replayGuard: guard })), isCode("replayed"));
  const forged = { ...body, ResultCode: "1012", ResultText: "ID Number Validated" };
  await assert.rejects(verifyCallback(forged, options({ replayGuard: guard })), isCode("replayed"));
});

test("verifyCallback() lets only one of two concurrent deliveries of a pair through", async () => {
  const guard = createMemoryReplayGuard();
  const body = await signedBody(result, T0);
  const outcomes = await Promise.allSettled([
    verifyCallback(JSON.stringify(body), options({ replayGuard: guard })),
    verifyCallback(JSON.stringify(body), options({ replayGuard: guard })),
  ]);
  assert.deepEqual(outcomes.map((o) => o.status).sort(), ["fulfilled", "rejected"]);
  const rejected = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
  assert.ok(isCode("replayed")(rejected.reason));
});

test("verifyCallback() remembers a pair only after it passed every check", async () => {
  const guard = createMemoryReplayGuard();
  const body = await signedBody(result, T0);
  await assert.rejects(
    verifyCallback(body, options({ replayGuard: guard, now: at("2024-06-01T00:00:00Z") })),
    isCode("stale_timestamp"),
  );
  await assert.rejects(
    verifyCallback({ ...body, Actions: { Liveness_Check: 1 } }, options({ replayGuard: guard })),
    isCode("schema"),
  );
  assert.equal((await verifyCallback(body, options({ replayGuard: guard }))).replayChecked, true);
});

test("verifyCallback() uses a custom replay guard with a TTL that covers the tolerance window", async () => {
  const calls: string[] = [];
  const keys = new Set<string>();
  const guard: ReplayGuard = {
    seen: (key) => {
      calls.push(`seen`);
      return Promise.resolve(keys.has(key));
    },
    remember: (key, ttl) => {
      calls.push(`remember ${ttl}`);
      keys.add(key);
      return Promise.resolve();
    },
  };
  const body = await signedBody(result, T0);
  await verifyCallback(body, options({ replayGuard: guard, now: at("2024-05-01T12:01:00.000Z") }));
  assert.deepEqual(calls, ["seen", "remember 240"]);
  await assert.rejects(verifyCallback(body, options({ replayGuard: guard })), isCode("replayed"));
});

test("verifyCallback() with replayGuard false does not check replays and says so", async () => {
  const body = await signedBody(result, T0);
  const first = await verifyCallback(body, options({ replayGuard: false }));
  const second = await verifyCallback(body, options({ replayGuard: false }));
  assert.equal(first.replayChecked, false);
  assert.equal(second.replayChecked, false);
});

test("verifyCallback() guards replays by default, shared across calls", async () => {
  const body = await signedBody(result);
  await verifyCallback(body, { signer });
  await assert.rejects(verifyCallback(body, { signer }), isCode("replayed"));
});

test("createMemoryReplayGuard() forgets keys after their TTL and keeps at most maxEntries", async () => {
  let now = 0;
  const guard = createMemoryReplayGuard({ maxEntries: 2, now: () => now });
  await guard.remember("a", 10);
  assert.equal(await guard.seen("a"), true);
  now = 10_000;
  assert.equal(await guard.seen("a"), false);
  await guard.remember("b", 60);
  await guard.remember("c", 60);
  await guard.remember("d", 60);
  assert.equal(await guard.seen("b"), false, "the oldest entry made way");
  assert.equal(await guard.seen("c"), true);
  assert.equal(await guard.seen("d"), true);
  assert.throws(() => createMemoryReplayGuard({ maxEntries: 0 }), isCode("invalid_argument"));
});

test("createMemoryReplayGuard() drops expired entries before live ones when full", async () => {
  let now = 0;
  const guard = createMemoryReplayGuard({ maxEntries: 3, now: () => now });
  await guard.remember("short", 1);
  await guard.remember("long-1", 600);
  await guard.remember("long-2", 600);
  now = 5_000; // "short" has expired, the others have not
  await guard.remember("new", 600);
  assert.equal(await guard.seen("long-1"), true, "a live entry is kept while an expired one can go");
  assert.equal(await guard.seen("long-2"), true);
  assert.equal(await guard.seen("new"), true);
  await guard.remember("newer", 600);
  assert.equal(await guard.seen("long-1"), false, "then the oldest live entry makes way");
  assert.equal(await guard.seen("newer"), true);
  await guard.remember("newer", 600);
  assert.equal(await guard.seen("long-2"), true, "remembering a key again does not evict another");
});

/** An in-process Smile ID whose job status is `truth`. */
function smileWithStatus(truth: JsonObject) {
  const queries: Array<Record<string, unknown>> = [];
  const fetch: FetchLike = async (request) => {
    queries.push(await request.json());
    return Response.json({
      job_complete: true,
      job_success: false,
      code: "2302",
      result: truth,
      ...(await signer.sign()),
    });
  };
  return { fetch, queries };
}

test("verifyCallback() with confirm catches a forged body sent with a captured fresh signature", async () => {
  const { fetch, queries } = smileWithStatus(result);
  const client = createClient({ partnerId, apiKey, fetch });
  const genuine = await signedBody(result);
  const forged = {
    ...genuine,
    ResultCode: "1012",
    ResultText: "ID Number Validated",
    Actions: { ...(result.Actions as JsonObject), Verify_ID_Number: "Verified" },
  };
  const verified = await client.verifyCallback(forged, { confirm: true });
  assert.equal(verified.signature, "valid");
  assert.equal(verified.confirmed, true);
  assert.deepEqual(verified.mismatches, ["ResultCode", "ResultText", "Actions.Verify_ID_Number"]);
  assert.ok(typeof verified.status?.result === "object");
  assert.equal(verified.status.result.resultCode, "1022");
  assert.equal(queries[0]?.user_id, "user-1");
  assert.equal(queries[0]?.job_id, "job-1");
});

test("verifyCallback() with confirm reports no mismatch for a genuine body, in both envelopes", async () => {
  const { fetch } = smileWithStatus(result);
  const client = createClient({ partnerId, apiKey, fetch });
  const bare = await client.verifyCallback(await signedBody(result), { confirm: true });
  assert.deepEqual(bare.mismatches, []);
  const wrapped = await client.verifyCallback(
    await signedBody({ job_complete: true, job_success: false, code: "2302", result }),
    { confirm: true },
  );
  assert.deepEqual(wrapped.mismatches, []);
  const wrong = await client.verifyCallback(
    await signedBody({ job_complete: true, job_success: true, code: "2302", result }),
    { confirm: true },
  );
  assert.deepEqual(wrong.mismatches, ["job_success"]);
});

test("verifyCallback() refuses confirm without a reader, and a body without ids to confirm", async () => {
  const body = await signedBody(result, T0);
  await assert.rejects(verifyCallback(body, options({ confirm: true })), isCode("invalid_argument"));
  const { fetch, queries } = smileWithStatus(result);
  const client = createClient({ partnerId, apiKey, fetch });
  await assert.rejects(
    client.verifyCallback(await signedBody({ ResultCode: "1012" }), { confirm: true }),
    isCode("schema", (e) => /user_id/.test(e.message)),
  );
  assert.equal(queries.length, 0);
});

test("verifyCallback() does not use up the pair when confirm fails, so a redelivery succeeds", async () => {
  let up = false;
  const { fetch: working } = smileWithStatus(result);
  const client = createClient({
    partnerId,
    apiKey,
    fetch: (request, init) => up ? working(request, init) : Promise.reject(new TypeError("network down")),
  });
  const body = await signedBody(result);
  await assert.rejects(client.verifyCallback(body, { confirm: true }), isCode("transport"));
  up = true;
  const verified = await client.verifyCallback(body, { confirm: true });
  assert.equal(verified.confirmed, true);
  await assert.rejects(client.verifyCallback(body, { confirm: true }), isCode("replayed"));
});

test("client.verifyCallback() keeps one replay guard per client", async () => {
  const body = await signedBody(result);
  const a = createClient({ partnerId, apiKey });
  const b = createClient({ partnerId, apiKey });
  assert.equal((await a.verifyCallback(body)).replayChecked, true);
  await assert.rejects(a.verifyCallback(body), isCode("replayed"));
  assert.equal((await b.verifyCallback(body)).replayChecked, true);
});

test("verifyCallback() refuses a large streamed Request body without reading it whole", async () => {
  let pulled = 0;
  let cancelled = false;
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel() {
      cancelled = true;
    },
  });
  const request = new Request("https://partner.example/smile-callback", {
    method: "POST",
    body: stream,
    duplex: "half",
  } as RequestInit);
  await assert.rejects(
    verifyCallback(request, options({ maxBodyBytes: 256 * 1024 })),
    isCode("payload_too_large"),
  );
  assert.ok(pulled <= 1024 * 1024, `read ${pulled} bytes`);
  assert.equal(cancelled, true);
});

test("verifyCallback() refuses oversized strings and byte arrays", async () => {
  const big = JSON.stringify({ ...(await signedBody(result, T0)), padding: "x".repeat(3000) });
  await assert.rejects(verifyCallback(big, options({ maxBodyBytes: 2048 })), isCode("payload_too_large"));
  await assert.rejects(
    verifyCallback(new TextEncoder().encode(big), options({ maxBodyBytes: 2048 })),
    isCode("payload_too_large"),
  );
  // 1000 three-byte characters: 1000 UTF-16 units but 3000 bytes.
  const wide = JSON.stringify({ ...(await signedBody(result, T0)), padding: "€".repeat(1000) });
  await assert.rejects(verifyCallback(wide, options({ maxBodyBytes: 2500 })), isCode("payload_too_large"));
  assert.equal((await verifyCallback(big, options({ maxBodyBytes: 8192 }))).signature, "valid");
});

test("verifyCallback() rejects a body that is not JSON, or a JSON array, with unexpected_response", async () => {
  await assert.rejects(verifyCallback(post("ResultCode=1012&signature=x"), options()), isCode("unexpected_response"));
  await assert.rejects(verifyCallback("", options()), isCode("unexpected_response"));
  await assert.rejects(verifyCallback(post("[1,2]"), options()), isCode("unexpected_response"));
  await assert.rejects(verifyCallback([] as unknown as JsonObject, options()), isCode("unexpected_response"));
  await assert.rejects(verifyCallback(42 as unknown as string, options()), isCode("invalid_argument"));
});

test("verifyCallback() rejects a signed body of the wrong shape with schema, without echoing it", async () => {
  const body = await signedBody({ ...result, IsFinalResult: ["yes"], FullName: "Ada Lovelace" }, T0);
  await assert.rejects(
    verifyCallback(body, options()),
    isCode("schema", (e) => /IsFinalResult/.test(e.message) && e.body === undefined && !/Lovelace/.test(e.message)),
  );
  await assert.rejects(
    verifyCallback(await signedBody({ job_complete: "yes", result }, T0), options()),
    isCode("schema", (e) => /job_complete/.test(e.message)),
  );
});

test("verifyCallback() refuses bad options", async () => {
  const body = await signedBody(result, T0);
  await assert.rejects(verifyCallback(body, {} as never), isCode("invalid_argument"));
  await assert.rejects(verifyCallback(body, options({ toleranceSeconds: -1 })), isCode("invalid_argument"));
  await assert.rejects(verifyCallback(body, options({ toleranceSeconds: "300" })), isCode("invalid_argument"));
  await assert.rejects(verifyCallback(body, options({ maxBodyBytes: 0 })), isCode("invalid_argument"));
  await assert.rejects(verifyCallback(body, options({ replayGuard: {} })), isCode("invalid_argument"));
  await assert.rejects(verifyCallback(body, options({ replayGuard: null })), isCode("invalid_argument"));
  await assert.rejects(verifyCallback(body, options({ now: 5 })), isCode("invalid_argument"));
  await assert.rejects(verifyCallback(body, options({ signal: "stop" })), isCode("invalid_argument"));
  // A clock that returns no number must not make every timestamp look fresh.
  await assert.rejects(verifyCallback(body, options({ now: () => Number.NaN })), isCode("invalid_argument"));
  await assert.rejects(verifyCallback(body, options({ now: () => "soon" })), isCode("invalid_argument"));
});
