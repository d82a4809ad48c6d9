import { test } from "node:test";
import { assert, assertEquals, assertMatch, assertNotEquals, assertStrictEquals, assertThrows } from "@std/assert";
import {
  type ConfirmedCallback,
  createClient,
  createMemoryReplayGuard,
  createSigner,
  type FetchLike,
  type JobStatus,
  type JsonObject,
  type ReplayGuard,
  SmileIdError,
  type UnconfirmedCallback,
  verifyCallback,
  type VerifyCallbackOptions,
} from "../mod.ts";
import { createFakeSmileId, createTestClock, type TestClock } from "../src/testing/mod.ts";
import { assertRejectsWithCode } from "./_helpers.ts";

const partnerId = "085";
const apiKey = "callback-test-secret-key-0123456789";
const signer = createSigner({ partnerId, apiKey });
const T0 = "2024-05-01T12:00:00.000Z";
const at = (iso: string) => ({ now: () => Date.parse(iso) });

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

/** The unconfirmed replay key, computed independently: `pair:` and the SHA-256 of `[timestamp, signature]` as JSON. */
async function pairKeyOf(timestamp: string, signature: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(JSON.stringify([timestamp, signature])),
  );
  return `pair:${Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function post(body: BodyInit, headers: Record<string, string> = { "content-type": "application/json" }): Request {
  return new Request("https://partner.example/smile-callback", { method: "POST", body, headers });
}

/** Fresh options for one test: its own replay guard and a fixed clock. */
function options(extra: Record<string, unknown> = {}): VerifyCallbackOptions {
  return { clock: at(T0), replayGuard: createMemoryReplayGuard(), ...extra } as VerifyCallbackOptions;
}

/** The fake Smile ID with the test's key and a virtual clock, and a client that asks it. */
function fakeSmile(clock: TestClock = createTestClock(T0)) {
  const fake = createFakeSmileId({ partnerId, apiKey, clock });
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch, clock });
  const confirmOptions = (extra: Record<string, unknown> = {}): VerifyCallbackOptions & { readonly confirm: true } =>
    ({
      reader: client,
      confirm: true,
      clock,
      replayGuard: createMemoryReplayGuard({ clock }),
      ...extra,
    }) as VerifyCallbackOptions & { readonly confirm: true };
  return { fake, client, clock, confirmOptions };
}

const rejectedJob = {
  userId: "user-1",
  jobId: "job-1",
  jobSuccess: false,
  result: {
    ResultCode: "1022",
    ResultText: "No Match",
    Actions: { Verify_ID_Number: "Not Verified" },
    PartnerParams: { user_id: "user-1", job_id: "job-1", job_type: 5 },
  },
};

// ---- what is accepted, and how it is typed ---------------------------------------------------

test("verifyCallback() accepts a signed bare result from a Request and types it, nothing lost", async () => {
  const body = await signedBody(result, T0);
  const verified = await verifyCallback(signer, post(JSON.stringify(body)), options());
  // No `signature: "valid"` beside payload.signature: one datum, one name.
  assertStrictEquals(Object.hasOwn(verified, "signature"), false);
  assertStrictEquals(verified.fresh, true);
  assertStrictEquals(verified.replayChecked, true);
  assertStrictEquals(verified.confirmed, false);
  // Unconfirmed: no status, mismatches or uncompared at all (the union's other half).
  assertEquals(["status", "mismatches", "uncompared"].filter((key) => key in verified), []);
  assertStrictEquals(verified.replayKey, await pairKeyOf(T0, body.signature as string));
  assertStrictEquals(verified.replayTtlSeconds, 300);
  const { payload } = verified;
  assertStrictEquals(payload.envelope, "result");
  assertStrictEquals(payload.userId, "user-1");
  assertStrictEquals(payload.jobId, "job-1");
  assertStrictEquals(payload.timestamp, T0);
  assertStrictEquals(payload.signature, body.signature);
  assertStrictEquals(payload.jobStatus, undefined);
  assertEquals(payload.raw, body);
  assert(typeof payload.result === "object");
  assertStrictEquals(payload.result.resultCode, "1022");
  assertStrictEquals(payload.result.isFinalResult, true);
  assertStrictEquals(payload.result.confidence, 0);
  assertStrictEquals(payload.result.actions.Brand_New_Check, "Mystery");
  assertStrictEquals(payload.result.partnerParams?.raw.crm_ref, "A-17");
  assertStrictEquals(payload.result.raw.FullName, "Ada Lovelace");
});

test("verifyCallback() accepts a job-status-shaped body", async () => {
  const body = await signedBody({ job_complete: true, job_success: false, code: "2302", result }, T0);
  const verified = await verifyCallback(signer, JSON.stringify(body), options());
  assertStrictEquals(verified.payload.envelope, "job_status");
  assertStrictEquals(verified.payload.jobStatus?.jobComplete, true);
  assertStrictEquals(verified.payload.jobStatus?.code, "2302");
  assert(typeof verified.payload.result === "object");
  assertStrictEquals(verified.payload.result.resultText, "No Match");
  assertStrictEquals(verified.payload.jobId, "job-1");
  assertEquals(verified.payload.raw, body);
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
    const verified = await verifyCallback(signer, make(body), options());
    assertStrictEquals(verified.payload.userId, "user-1");
    assertEquals(verified.payload.raw, body);
  }
});

// ---- signature and freshness -----------------------------------------------------------------

test("verifyCallback() rejects a tampered signature or another partner's key with signature_mismatch", async () => {
  const body = await signedBody(result, T0);
  const sig = body.signature as string;
  const flipped = (sig[0] === "A" ? "B" : "A") + sig.slice(1);
  await assertRejectsWithCode(
    () => verifyCallback(signer, { ...body, signature: flipped }, options()),
    "signature_mismatch",
  );
  await assertRejectsWithCode(
    () => verifyCallback(signer, { ...body, timestamp: "2024-05-01T12:00:00.001Z" }, options()),
    "signature_mismatch",
  );
  const other = createSigner({ partnerId, apiKey: "not-the-partner-key" });
  await assertRejectsWithCode(
    async () => verifyCallback(signer, { ...result, ...(await other.sign(T0)) }, options()),
    "signature_mismatch",
  );
  const otherPartner = createSigner({ partnerId: "85", apiKey });
  await assertRejectsWithCode(
    async () => verifyCallback(signer, { ...result, ...(await otherPartner.sign(T0)) }, options()),
    "signature_mismatch",
  );
});

test("verifyCallback() rejects a body without signature or timestamp with missing_signature", async () => {
  const body = await signedBody(result, T0);
  const { signature: _s, ...noSignature } = body;
  const { timestamp: _t, ...noTimestamp } = body;
  for (const bad of [result, noSignature, noTimestamp, { ...body, signature: "" }, { ...body, timestamp: 17 }]) {
    await assertRejectsWithCode(() => verifyCallback(signer, bad, options()), "missing_signature");
  }
});

test("verifyCallback() rejects stale and future timestamps, both ways around the tolerance", async () => {
  const body = await signedBody(result, T0);
  await assertRejectsWithCode(
    () => verifyCallback(signer, body, options({ clock: at("2024-05-01T12:05:00.001Z") })),
    "stale_timestamp",
  );
  await assertRejectsWithCode(
    () => verifyCallback(signer, body, options({ clock: at("2024-05-01T11:54:59.999Z") })),
    "future_timestamp",
  );
  assertStrictEquals(
    (await verifyCallback(signer, body, options({ clock: at("2024-05-01T12:05:00.000Z") }))).fresh,
    true,
  );
  assertStrictEquals(
    (await verifyCallback(signer, body, options({ clock: at("2024-05-01T11:55:00.000Z") }))).fresh,
    true,
  );
  await assertRejectsWithCode(
    () => verifyCallback(signer, body, options({ clock: at("2024-05-01T12:00:31.000Z"), toleranceSeconds: 30 })),
    "stale_timestamp",
  );
});

test("verifyCallback() with toleranceSeconds false skips freshness, says so, and remembers the pair 24 h", async () => {
  const body = await signedBody(result, T0);
  const verified = await verifyCallback(
    signer,
    body,
    options({ clock: at("2030-01-01T00:00:00.000Z"), toleranceSeconds: false }),
  );
  assertStrictEquals(verified.fresh, false);
  assertStrictEquals(verified.replayTtlSeconds, 86_400);
});

test("verifyCallback() rejects a validly signed but unreadable timestamp with invalid_timestamp", async () => {
  for (const timestamp of ["yesterday at noon", "2024-05-01T12:00:00"]) {
    const body = await signedBody(result, timestamp);
    await assertRejectsWithCode(
      () => verifyCallback(signer, body, options()),
      "invalid_timestamp",
      undefined,
      timestamp,
    );
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
    assertStrictEquals((await verifyCallback(signer, body, options())).fresh, true, timestamp);
  }
});

test("verifyCallback() checks the shape before freshness", async () => {
  const body = await signedBody({ job_complete: "perhaps", result }, T0);
  await assertRejectsWithCode(
    () => verifyCallback(signer, body, options({ clock: at("2030-01-01T00:00:00Z") })),
    "schema",
  );
});

// ---- the replay guard without confirm: the signature and timestamp pair ---------------------

test("verifyCallback() rejects a replayed signature and timestamp pair, even with another body", async () => {
  const guard = createMemoryReplayGuard();
  const body = await signedBody(result, T0);
  await verifyCallback(signer, body, options({ replayGuard: guard }));
  await assertRejectsWithCode(() => verifyCallback(signer, body, options({ replayGuard: guard })), "replayed");
  const forged = { ...body, ResultCode: "1012", ResultText: "ID Number Validated" };
  await assertRejectsWithCode(() => verifyCallback(signer, forged, options({ replayGuard: guard })), "replayed");
});

test("verifyCallback() lets only one of two concurrent deliveries of a pair through", async () => {
  const guard = createMemoryReplayGuard();
  const body = await signedBody(result, T0);
  const outcomes = await Promise.allSettled([
    verifyCallback(signer, JSON.stringify(body), options({ replayGuard: guard })),
    verifyCallback(signer, JSON.stringify(body), options({ replayGuard: guard })),
  ]);
  assertEquals(outcomes.map((o) => o.status).sort(), ["fulfilled", "rejected"]);
  const rejected = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
  assert(rejected.reason instanceof SmileIdError && rejected.reason.code === "replayed");
});

test("verifyCallback() records a pair only after it passed every check", async () => {
  const guard = createMemoryReplayGuard();
  const body = await signedBody(result, T0);
  await assertRejectsWithCode(
    () => verifyCallback(signer, body, options({ replayGuard: guard, clock: at("2024-06-01T00:00:00Z") })),
    "stale_timestamp",
  );
  await assertRejectsWithCode(
    () => verifyCallback(signer, { ...body, job_complete: 1 }, options({ replayGuard: guard })),
    "schema",
  );
  assertStrictEquals((await verifyCallback(signer, body, options({ replayGuard: guard }))).replayChecked, true);
});

/** A memory guard that logs every call it gets. */
function loggingGuard(calls: string[], inner: ReplayGuard = createMemoryReplayGuard()): ReplayGuard {
  return {
    begin: async (key, seconds) => {
      const state = await inner.begin(key, seconds);
      calls.push(`begin ${key} ${seconds} → ${state.state}`);
      return state;
    },
    finish: (key, token, seconds) => (calls.push(`finish ${key} ${seconds}`), inner.finish(key, token, seconds)),
    abandon: (key, token) => (calls.push(`abandon ${key}`), inner.abandon(key, token)),
  };
}

test("verifyCallback() marks the pair done at once, for the rest of the tolerance window", async () => {
  const calls: string[] = [];
  const guard = loggingGuard(calls);
  const body = await signedBody(result, T0);
  const key = await pairKeyOf(T0, body.signature as string);
  await verifyCallback(signer, body, options({ replayGuard: guard, clock: at("2024-05-01T12:01:00.000Z") }));
  assertEquals(calls, [`begin ${key} 60 → claimed`, `finish ${key} 240`]);
  await assertRejectsWithCode(() => verifyCallback(signer, body, options({ replayGuard: guard })), "replayed");
  assertEquals(calls.at(-1), `begin ${key} 60 → done`);
  // A timestamp in the future is remembered until it has left the window too; at least 1 s.
  const ahead = await verifyCallback(signer, await signedBody(result, "2024-05-01T12:02:00.000Z"), options());
  assertStrictEquals(ahead.replayTtlSeconds, 420);
  const edge = await verifyCallback(signer, body, options({ clock: at("2024-05-01T12:05:00.000Z") }));
  assertStrictEquals(edge.replayTtlSeconds, 1);
});

test("verifyCallback() with replayGuard false records nothing and says so", async () => {
  const body = await signedBody(result, T0);
  const first = await verifyCallback(signer, body, options({ replayGuard: false }));
  const second = await verifyCallback(signer, body, options({ replayGuard: false }));
  assertStrictEquals(first.replayChecked, false);
  assertStrictEquals(second.replayChecked, false);
  assertStrictEquals(second.replayKey, first.replayKey);
});

test("verifyCallback() guards replays by default, shared across calls", async () => {
  const body = await signedBody(result);
  await verifyCallback(signer, body);
  await assertRejectsWithCode(() => verifyCallback(signer, body), "replayed");
});

test("client.verifyCallback() keeps one replay guard per client", async () => {
  const body = await signedBody(result);
  const a = createClient({ partnerId, apiKey });
  const b = createClient({ partnerId, apiKey });
  assertStrictEquals((await a.verifyCallback(body)).replayChecked, true);
  await assertRejectsWithCode(() => a.verifyCallback(body), "replayed");
  assertStrictEquals((await b.verifyCallback(body)).replayChecked, true);
});

test("verifyCallback() turns a failing guard store into replay_guard, with the cause", async () => {
  const down = new Error("connection refused");
  const memory = createMemoryReplayGuard();
  const guard: ReplayGuard = { ...memory, begin: () => Promise.reject(down) };
  const error = await assertRejectsWithCode(
    async () => verifyCallback(signer, await signedBody(result, T0), options({ replayGuard: guard })),
    "replay_guard",
    /could not begin.*connection refused/,
  );
  assertStrictEquals(error.cause, down);
  // A begin that answers something else than a ReplayKeyState is a failing guard too.
  const odd: ReplayGuard = { ...memory, begin: () => Promise.resolve(true as never) };
  await assertRejectsWithCode(
    async () => verifyCallback(signer, await signedBody(result, T0), options({ replayGuard: odd })),
    "replay_guard",
  );
});

test("verifyCallback(): a finish that fails gives the lease up, so that a redelivery is accepted", async () => {
  const calls: string[] = [];
  const memory = loggingGuard(calls);
  let fail = true;
  const guard: ReplayGuard = {
    ...memory,
    finish: (key, token, seconds) =>
      fail ? Promise.reject(new Error("store gone")) : memory.finish(key, token, seconds),
  };
  const body = await signedBody(result, T0);
  await assertRejectsWithCode(() => verifyCallback(signer, body, options({ replayGuard: guard })), "replay_guard");
  assertEquals(calls.map((c) => c.split(" ")[0]), ["begin", "abandon"]);
  fail = false;
  assertStrictEquals((await verifyCallback(signer, body, options({ replayGuard: guard }))).replayChecked, true);
});

// ---- atomic begin ------------------------------------------------------------------------------

/** Resolves once `count` callers wait on it (a gate that counts, never a timer), so that they all act at the same moment. */
function gate(count: number): () => Promise<void> {
  let waiting = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return async () => {
    if (++waiting >= count) open();
    await opened;
  };
}

/**
 * A store shared by every instance (think Redis), reached through a guard object built per
 * request; every `begin` first waits for a network hop that all 20 requests take together.
 */
function sharedStore(parallel: number) {
  const values = new Map<string, string>();
  const hop = gate(parallel);
  let tokens = 0;
  const rest = {
    finish: (key: string) => Promise.resolve(void values.set(key, "done")),
    abandon: (key: string, token: string) => Promise.resolve(void (values.get(key) === token && values.delete(key))),
  };
  const state = (held: string) => (held === "done" ? { state: "done" as const } : { state: "busy" as const });
  return {
    /** One store operation that checks and sets (SET NX GET). */
    atomicGuard: (): ReplayGuard => ({
      begin: async (key) => {
        await hop();
        const held = values.get(key);
        if (held !== undefined) return state(held);
        const token = String(++tokens);
        values.set(key, token);
        return { state: "claimed", token };
      },
      ...rest,
    }),
    /** A read, a hop, then a write: not atomic. */
    getThenSetGuard: (): ReplayGuard => ({
      begin: async (key) => {
        const held = values.get(key);
        await hop();
        if (held !== undefined) return state(held);
        const token = String(++tokens);
        values.set(key, token);
        return { state: "claimed", token };
      },
      ...rest,
    }),
  };
}

test("verifyCallback() accepts exactly 1 of 20 parallel deliveries through per-request guards on an atomic store", async () => {
  const body = JSON.stringify(await signedBody(result, T0));
  const store = sharedStore(20);
  const outcomes = await Promise.allSettled(
    Array.from({ length: 20 }, () => verifyCallback(signer, post(body), options({ replayGuard: store.atomicGuard() }))),
  );
  assertStrictEquals(outcomes.filter((o) => o.status === "fulfilled").length, 1);
  for (const o of outcomes) {
    if (o.status === "rejected") assertStrictEquals((o.reason as SmileIdError).code, "replayed");
  }
});

test("the same 20 deliveries through a get-then-set store are accepted more than once (why begin is atomic)", async () => {
  const body = JSON.stringify(await signedBody(result, T0));
  const store = sharedStore(20);
  const outcomes = await Promise.allSettled(
    Array.from(
      { length: 20 },
      () => verifyCallback(signer, post(body), options({ replayGuard: store.getThenSetGuard() })),
    ),
  );
  assert(outcomes.filter((o) => o.status === "fulfilled").length > 1);
});

test("createMemoryReplayGuard() lets exactly one of 200 parallel begins of a key take the lease", async () => {
  const guard = createMemoryReplayGuard();
  const states = await Promise.all(Array.from({ length: 200 }, () => guard.begin("k", 60)));
  assertStrictEquals(states.filter((s) => s.state === "claimed").length, 1);
  assertStrictEquals(states.filter((s) => s.state === "busy").length, 199);
  assertStrictEquals(states[0]!.state, "claimed");
});

test("createMemoryReplayGuard() keeps a lease for leaseSeconds and done for rememberSeconds; abandon needs the token", async () => {
  let now = 0;
  const guard = createMemoryReplayGuard({ maxEntries: 2, clock: { now: () => now } });
  const lease = await guard.begin("a", 10);
  assert(lease.state === "claimed");
  now = 9_999;
  assertEquals(await guard.begin("a", 10), { state: "busy" });
  await guard.abandon("a", "another token");
  assertEquals(await guard.begin("a", 10), { state: "busy" }, "abandon with another token leaves the lease");
  await guard.abandon("a", lease.token);
  const again = await guard.begin("a", 10);
  assert(again.state === "claimed" && again.token !== lease.token, "an abandoned lease can be taken again");
  now = 20_000;
  const lapsed = await guard.begin("a", 10);
  assert(lapsed.state === "claimed", "a lapsed lease can be taken again");
  await guard.abandon("a", again.token);
  assertEquals(await guard.begin("a", 10), { state: "busy" }, "the late abandon of a lapsed lease deletes nothing");
  await guard.finish("a", lapsed.token, 60);
  assertEquals(await guard.begin("a", 10), { state: "done" });
  await guard.abandon("a", lapsed.token);
  assertEquals(await guard.begin("a", 10), { state: "done" }, "abandon never deletes a done key");
  now = 80_000;
  assertStrictEquals((await guard.begin("a", 10)).state, "claimed", "done is forgotten after rememberSeconds");
  assertThrows(() => createMemoryReplayGuard({ maxEntries: 0 }), SmileIdError);
  await assertRejectsWithCode(() => guard.begin("", 60), "invalid_argument");
  await assertRejectsWithCode(() => guard.begin("x", 0), "invalid_argument");
  await assertRejectsWithCode(() => guard.begin("x", Number.NaN), "invalid_argument");
  await assertRejectsWithCode(() => guard.finish("x", "", 60), "invalid_argument");
  await assertRejectsWithCode(() => guard.finish("x", "1", -1), "invalid_argument");
  await assertRejectsWithCode(() => guard.abandon("x", undefined as never), "invalid_argument");
});

test("createMemoryReplayGuard() keeps at most maxEntries, dropping expired entries before live ones", async () => {
  let now = 0;
  const guard = createMemoryReplayGuard({ maxEntries: 3, clock: { now: () => now } });
  const done = async (key: string, seconds: number) => {
    const state = await guard.begin(key, 1);
    if (state.state === "claimed") await guard.finish(key, state.token, seconds);
  };
  await done("short", 1);
  await done("long-1", 600);
  await done("long-2", 600);
  now = 5_000; // "short" has expired, the others have not
  await done("new", 600);
  assertStrictEquals(
    (await guard.begin("long-1", 1)).state,
    "done",
    "a live entry is kept while an expired one can go",
  );
  assertStrictEquals((await guard.begin("long-2", 1)).state, "done");
  assertStrictEquals((await guard.begin("new", 1)).state, "done");
  await done("newer", 600);
  assertStrictEquals((await guard.begin("long-1", 1)).state, "claimed", "then the oldest live entry makes way");
});

// ---- confirm: the truth, the comparison and the key ------------------------------------------

/** An in-process Smile ID whose job status is `truth` (changeable), signed with the partner's key. */
function smileWithStatus(truth: { result: JsonObject | string; jobComplete?: boolean; jobSuccess?: boolean }) {
  const queries: Array<Record<string, unknown>> = [];
  const fetch: FetchLike = async (request) => {
    const query = await request.json();
    queries.push(query);
    return Response.json({
      job_complete: truth.jobComplete ?? true,
      job_success: truth.jobSuccess ?? false,
      code: "2302",
      result: truth.result,
      // Signed by the server, later than the request (an answer carrying the request's pair is refused).
      ...(await signer.sign(new Date(Date.parse(query.timestamp) + 1))),
    });
  };
  return { fetch, queries };
}

test("verifyCallback() with confirm reports a forged body's changes and returns Smile ID's status", async () => {
  const { fake, client, confirmOptions } = fakeSmile();
  fake.addJob(rejectedJob);
  const forged = await fake.buildCallback("job-1", {
    overrides: { ResultCode: "1012", ResultText: "ID Number Validated", Actions: { Verify_ID_Number: "Verified" } },
  });
  const verified = await verifyCallback(signer, forged, confirmOptions());
  assertStrictEquals(Object.hasOwn(verified, "signature"), false);
  assertStrictEquals(verified.confirmed, true);
  assertEquals(verified.mismatches, [
    { path: "ResultCode", kind: "changed" },
    { path: "ResultText", kind: "changed" },
    { path: "Actions.Verify_ID_Number", kind: "changed" },
  ]);
  assertEquals(verified.uncompared, ["signature", "timestamp", "kyc_receipt", "KYCReceipt"]);
  assert(typeof verified.status?.result === "object");
  assertStrictEquals(verified.status.result.resultCode, "1022");
  assertStrictEquals(fake.requests[0]?.jobId, "job-1");
  assertStrictEquals(fake.requests[0]?.userId, "user-1");
  assertMatch(verified.replayKey, /^result:[0-9a-f]{64}$/);
  assertStrictEquals(verified.replayTtlSeconds, 30 * 86_400);
  assertStrictEquals(
    (await client.verifyCallback(forged, { confirm: true, rememberSeconds: 60 })).replayTtlSeconds,
    60,
  );
});

test("verifyCallback() with confirm reports no mismatch for a genuine body, in both envelopes", async () => {
  const { fetch } = smileWithStatus({ result });
  const client = createClient({ partnerId, apiKey, fetch });
  const bare = await client.verifyCallback(await signedBody(result), { confirm: true, replayGuard: false });
  assertEquals(bare.mismatches, []);
  const wrapped = await client.verifyCallback(
    await signedBody({ job_complete: true, job_success: false, code: "2302", result }),
    { confirm: true, replayGuard: false },
  );
  assertEquals(wrapped.mismatches, []);
  const wrong = await client.verifyCallback(
    await signedBody({ job_complete: true, job_success: true, code: "2302", result }),
    { confirm: true, replayGuard: false },
  );
  assertEquals(wrong.mismatches, [{ path: "job_success", kind: "changed" }]);
});

test("verifyCallback() with confirm reports fields stripped from a rejected job's body as missing", async () => {
  const { fake, confirmOptions } = fakeSmile();
  fake.addJob(rejectedJob);
  const { ResultCode: _c, ResultText: _t, Actions: _a, ...stripped } = await fake.buildCallback("job-1");
  const verified = await verifyCallback(signer, stripped, confirmOptions());
  assertEquals(verified.mismatches, [
    { path: "ResultCode", kind: "missing" },
    { path: "ResultText", kind: "missing" },
    { path: "Actions", kind: "missing" },
  ]);
  const added = await verifyCallback(
    signer,
    await fake.buildCallback("job-1", { overrides: { Verdict: "Approved" } }),
    confirmOptions(),
  );
  assertEquals(added.mismatches, [{ path: "Verdict", kind: "added" }]);
});

test("verifyCallback() with confirm compares image_links without their per-request query strings", async () => {
  const { fake, confirmOptions } = fakeSmile();
  fake.addJob(rejectedJob);
  const genuineLink = "https://fake-smile-id.invalid/images/job-1/selfie.jpg";
  const resigned = await verifyCallback(
    signer,
    await fake.buildCallback("job-1", { overrides: { image_links: { selfie_image: `${genuineLink}?X-Amz-Sig=1` } } }),
    confirmOptions(),
  );
  assertEquals(resigned.mismatches, []);
  assertEquals(resigned.status?.imageLinks?.raw, { selfie_image: genuineLink }, "image links were asked for");
  const forged = await verifyCallback(
    signer,
    await fake.buildCallback("job-1", {
      overrides: { image_links: { selfie_image: "https://attacker.example/selfie.jpg", id_card_image: "x" } },
    }),
    confirmOptions(),
  );
  assertEquals(forged.mismatches, [
    { path: "image_links.selfie_image", kind: "changed" },
    { path: "image_links.id_card_image", kind: "added" },
  ]);
});

test("verifyCallback() with confirm walks history entries, both ways", async () => {
  const { fake, confirmOptions } = fakeSmile();
  fake.addJob(rejectedJob);
  const truth = (await fake.buildCallback("job-1", { envelope: "job_status" })).result as JsonObject;
  const { signature: _s, timestamp: _t, ...entry } = truth;
  const forged = await verifyCallback(
    signer,
    await fake.buildCallback("job-1", {
      overrides: { history: [{ ...entry, ResultCode: "1012" }, { ...entry, ResultCode: "1012" }] },
    }),
    confirmOptions(),
  );
  assertEquals(forged.mismatches, [
    { path: "history.0.ResultCode", kind: "changed" },
    { path: "history.1", kind: "added" },
  ]);
  const short = await verifyCallback(
    signer,
    await fake.buildCallback("job-1", { overrides: { history: [] } }),
    confirmOptions(),
  );
  assertEquals(short.mismatches, [{ path: "history.0", kind: "missing" }]);
  assertEquals(
    (await verifyCallback(
      signer,
      await fake.buildCallback("job-1", { overrides: { history: [entry] } }),
      confirmOptions(),
    ))
      .mismatches,
    [],
  );
});

test("verifyCallback() with confirm asks for history and image links only when the body has them", async () => {
  const { fetch, queries } = smileWithStatus({ result });
  const client = createClient({ partnerId, apiKey, fetch });
  await client.verifyCallback(await signedBody(result), { confirm: true, replayGuard: false });
  await client.verifyCallback(await signedBody({ ...result, history: [], image_links: {} }), {
    confirm: true,
    replayGuard: false,
  });
  assertEquals(queries.map((q) => [q.history, q.image_links]), [[false, false], [true, true]]);
});

test("verifyCallback() with confirm keys the claim on Smile ID's answer: a forged body first, then the genuine one", async () => {
  const { fake, confirmOptions } = fakeSmile();
  fake.addJob(rejectedJob);
  const guard = createMemoryReplayGuard();
  const genuine = await fake.buildCallback("job-1");
  const forged = { ...genuine, ResultCode: "1012", ResultText: "ID Number Validated" };
  const first = await verifyCallback(signer, forged, confirmOptions({ replayGuard: guard }));
  assertStrictEquals(first.replayChecked, true);
  assert(typeof first.status?.result === "object");
  assertStrictEquals(first.status.result.resultCode, "1022", "the forged delivery processed the truth");
  await assertRejectsWithCode(
    () => verifyCallback(signer, genuine, confirmOptions({ replayGuard: guard })),
    "replayed",
    /already accepted/,
  );
  const again = await verifyCallback(signer, genuine, confirmOptions({ replayGuard: false }));
  assertStrictEquals(again.replayKey, first.replayKey, "the same result has the same key whatever the body says");
  assertNotEquals(again.replayKey, await pairKeyOf(genuine.timestamp as string, genuine.signature as string));
});

test("verifyCallback() with confirm: another job's old body under a fresh pair claims that job's result", async () => {
  const { fake, confirmOptions } = fakeSmile();
  fake.addJob(rejectedJob);
  fake.addJob({ userId: "user-2", jobId: "job-2" });
  const guard = createMemoryReplayGuard();
  const oldJob2 = await fake.buildCallback("job-2");
  await verifyCallback(signer, oldJob2, confirmOptions({ replayGuard: guard })); // job 2 was processed long ago
  const genuine = await fake.buildCallback("job-1");
  const { signature: _s, timestamp: _t, ...oldBody } = oldJob2;
  const swapped: JsonObject = { ...oldBody, signature: genuine.signature!, timestamp: genuine.timestamp! };
  await assertRejectsWithCode(
    () => verifyCallback(signer, swapped, confirmOptions({ replayGuard: guard })),
    "replayed",
  );
  const processed = await verifyCallback(signer, genuine, confirmOptions({ replayGuard: guard }));
  assertStrictEquals(processed.payload.jobId, "job-1", "the genuine job 1 result is not used up");
});

test("verifyCallback() with confirm: a provisional and then a final result of one job are two results", async () => {
  const truth: { result: JsonObject } = { result: { ...result, ResultCode: "0814", IsFinalResult: "false" } };
  const { fetch } = smileWithStatus(truth);
  const client = createClient({ partnerId, apiKey, fetch });
  const guard = createMemoryReplayGuard();
  const provisional = await client.verifyCallback(await signedBody(truth.result), {
    confirm: true,
    replayGuard: guard,
  });
  truth.result = result;
  const final = await client.verifyCallback(await signedBody(result), { confirm: true, replayGuard: guard });
  assertNotEquals(final.replayKey, provisional.replayKey);
  await assertRejectsWithCode(
    async () => client.verifyCallback(await signedBody(result), { confirm: true, replayGuard: guard }),
    "replayed",
  );
});

test("verifyCallback() ignores per-request fields of the answer in the key (timestamp, signature, image links, history)", async () => {
  const { fake, confirmOptions, clock } = fakeSmile();
  fake.addJob(rejectedJob);
  const plain = await verifyCallback(signer, await fake.buildCallback("job-1"), confirmOptions());
  clock.advance(5000);
  const withExtras = await verifyCallback(
    signer,
    await fake.buildCallback("job-1", { overrides: { history: [], image_links: {} } }),
    confirmOptions(),
  );
  assertStrictEquals(withExtras.replayKey, plain.replayKey);
});

test("verifyCallback() with confirm processes a late genuine delivery as not fresh; without confirm rejects it", async () => {
  const { fake, confirmOptions, clock } = fakeSmile();
  fake.addJob(rejectedJob);
  const genuine = await fake.buildCallback("job-1");
  clock.advance(6 * 3_600_000); // human review took six hours
  const late = await verifyCallback(signer, genuine, confirmOptions());
  assertStrictEquals(late.fresh, false);
  assertStrictEquals(late.confirmed, true);
  assertStrictEquals(late.replayChecked, true);
  assertEquals(late.mismatches, []);
  await assertRejectsWithCode(
    () => verifyCallback(signer, genuine, confirmOptions({ confirm: false })),
    "stale_timestamp",
  );
  const early = await fake.buildCallback("job-1", { timestamp: new Date(clock.now() + 3_600_000).toISOString() });
  assertStrictEquals((await verifyCallback(signer, early, confirmOptions({ replayGuard: false }))).fresh, false);
  const unreadable = await fake.buildCallback("job-1", { timestamp: "teatime" });
  assertStrictEquals((await verifyCallback(signer, unreadable, confirmOptions({ replayGuard: false }))).fresh, false);
  assertStrictEquals((await verifyCallback(signer, genuine, confirmOptions({ toleranceSeconds: false }))).fresh, false);
});

test("verifyCallback() refuses confirm without a reader, and a body without ids to confirm", async () => {
  const body = await signedBody(result, T0);
  await assertRejectsWithCode(() => verifyCallback(signer, body, options({ confirm: true })), "invalid_argument");
  const { fetch, queries } = smileWithStatus({ result });
  const client = createClient({ partnerId, apiKey, fetch });
  await assertRejectsWithCode(
    async () => client.verifyCallback(await signedBody({ ResultCode: "1012" }), { confirm: true }),
    "schema",
    /names no PartnerParams\.user_id and no PartnerParams\.job_id/,
  );
  await assertRejectsWithCode(
    async () => client.verifyCallback(await signedBody({ PartnerParams: { user_id: "u" } }), { confirm: true }),
    "schema",
    /names no PartnerParams\.job_id$/,
  );
  assertStrictEquals(queries.length, 0);
});

test("verifyCallback() rejects an answer about another job with answer_mismatch, naming the field only", async () => {
  const { fetch } = smileWithStatus({ result: { ...result, PartnerParams: { user_id: "user-1", job_id: "job-9" } } });
  const client = createClient({ partnerId, apiKey, fetch });
  const error = await assertRejectsWithCode(
    async () => client.verifyCallback(await signedBody(result), { confirm: true }),
    "answer_mismatch",
    /PartnerParams\.job_id/,
  );
  assert(!error.message.includes("job-9") && !error.message.includes("job-1"));
});

test("verifyCallback() claims nothing when confirm fails (confirm_failed with the cause), so a redelivery succeeds", async () => {
  let up = false;
  const { fetch: working } = smileWithStatus({ result });
  const client = createClient({
    partnerId,
    apiKey,
    fetch: (request, init) => up ? working(request, init) : Promise.reject(new TypeError("network down")),
  });
  const body = await signedBody(result);
  const error = await assertRejectsWithCode(() => client.verifyCallback(body, { confirm: true }), "confirm_failed");
  assert(error.cause instanceof SmileIdError && error.cause.code === "transport");
  up = true;
  const verified = await client.verifyCallback(body, { confirm: true });
  assertStrictEquals(verified.confirmed, true);
  await assertRejectsWithCode(() => client.verifyCallback(body, { confirm: true }), "replayed");
});

test("verifyCallback() keeps Smile ID's status and Retry-After on confirm_failed", async () => {
  const { fake, confirmOptions } = fakeSmile();
  fake.addJob(rejectedJob);
  fake.injectFault({ status: 503, retryAfter: 7 });
  const error = await assertRejectsWithCode(
    async () => verifyCallback(signer, await fake.buildCallback("job-1"), confirmOptions()),
    "confirm_failed",
  );
  assertStrictEquals(error.status, 503);
  assertStrictEquals(error.retryAfterMs, 7000);
  fake.injectFault({ badSignature: true });
  const forgedAnswer = await assertRejectsWithCode(
    async () => verifyCallback(signer, await fake.buildCallback("job-1"), confirmOptions()),
    "confirm_failed",
  );
  assertStrictEquals((forgedAnswer.cause as SmileIdError).code, "signature_mismatch");
});

// ---- hostile uploads ---------------------------------------------------------------------------

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
  await assertRejectsWithCode(
    () => verifyCallback(signer, request, options({ maxBodyBytes: 256 * 1024 })),
    "payload_too_large",
  );
  assert(pulled <= 1024 * 1024, `read ${pulled} bytes`);
  assertStrictEquals(cancelled, true);
});

test("verifyCallback() refuses oversized strings and byte arrays", async () => {
  const big = JSON.stringify({ ...(await signedBody(result, T0)), padding: "x".repeat(3000) });
  await assertRejectsWithCode(() => verifyCallback(signer, big, options({ maxBodyBytes: 2048 })), "payload_too_large");
  await assertRejectsWithCode(
    () => verifyCallback(signer, new TextEncoder().encode(big), options({ maxBodyBytes: 2048 })),
    "payload_too_large",
  );
  // 1000 three-byte characters: 1000 UTF-16 units but 3000 bytes.
  const wide = JSON.stringify({ ...(await signedBody(result, T0)), padding: "€".repeat(1000) });
  await assertRejectsWithCode(() => verifyCallback(signer, wide, options({ maxBodyBytes: 2500 })), "payload_too_large");
  assertStrictEquals((await verifyCallback(signer, big, options({ maxBodyBytes: 8192 }))).payload.jobId, "job-1");
});

test("verifyCallback() turns an upload that breaks off into body_unreadable, with the cause", async () => {
  const broken = new Error("connection reset by peer");
  let sent = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return controller.error(broken);
      sent = true;
      controller.enqueue(new TextEncoder().encode('{"ResultCode":'));
    },
  });
  const request = new Request(
    "https://partner.example/cb",
    { method: "POST", body: stream, duplex: "half" } as RequestInit,
  );
  const error = await assertRejectsWithCode(
    () => verifyCallback(signer, request, options()),
    "body_unreadable",
    /could not be read: a body parser \(express\.json\(\) or another\) may have read it first, .*client disconnected/,
  );
  assertStrictEquals(error.cause, broken);
});

test("verifyCallback() turns a Request whose body was already read into body_unreadable, with the cause", async () => {
  const request = post(JSON.stringify(await signedBody(result, T0)));
  await request.text();
  const error = await assertRejectsWithCode(
    () => verifyCallback(signer, request, options()),
    "body_unreadable",
    /already read/,
  );
  assert(error.cause instanceof TypeError, String(error.cause));
});

test("verifyCallback() rejects a body that is not JSON, or a JSON array, with unexpected_response", async () => {
  await assertRejectsWithCode(
    () => verifyCallback(signer, post("ResultCode=1012&signature=x"), options()),
    "unexpected_response",
  );
  await assertRejectsWithCode(() => verifyCallback(signer, "", options()), "unexpected_response");
  await assertRejectsWithCode(() => verifyCallback(signer, post("[1,2]"), options()), "unexpected_response");
  await assertRejectsWithCode(
    () => verifyCallback(signer, [] as unknown as JsonObject, options()),
    "unexpected_response",
  );
  await assertRejectsWithCode(() => verifyCallback(signer, 42 as unknown as string, options()), "invalid_argument");
});

test("verifyCallback() schema errors name the field and the expected type, never a value of the body", async () => {
  const planted = "Zanzibar-7781-Q";
  const bodies = [
    { job_complete: planted, result: { ...result, FullName: planted } },
    { job_complete: [planted], IsFinalResult: [planted] },
    { job_complete: { note: planted }, history: [{ ResultText: [planted] }] },
  ];
  for (const [i, shape] of bodies.entries()) {
    const error = await assertRejectsWithCode(
      async () => verifyCallback(signer, await signedBody(shape as JsonObject, T0), options()),
      "schema",
    );
    assertMatch(error.message, /job_complete/);
    assertMatch(error.message, /Expected/);
    assertStrictEquals(error.body, undefined);
    for (const text of [error.message, JSON.stringify(error.issues), JSON.stringify(error), String(error.stack)]) {
      assert(!text.includes(planted), `body ${i} leaks into ${text.slice(0, 200)}`);
      assert(!/received/i.test(text), `body ${i}: ${text.slice(0, 200)}`);
    }
  }
});

test("verifyCallback() refuses bad options", async () => {
  const body = await signedBody(result, T0);
  for (
    const bad of [
      options({ toleranceSeconds: -1 }),
      options({ toleranceSeconds: "300" }),
      options({ maxBodyBytes: 0 }),
      options({ rememberSeconds: 0 }),
      options({ rememberSeconds: Infinity }),
      options({ replayGuard: {} }),
      options({ replayGuard: null }),
      options({ replayGuard: { seen: () => Promise.resolve(false), remember: () => Promise.resolve() } }),
      options({ clock: 5 }),
      options({ clock: () => 0 }),
      options({ signal: "stop" }),
      // A clock that returns no number must not make every timestamp look fresh.
      options({ clock: { now: () => Number.NaN } }),
      options({ clock: { now: () => "soon" } }),
    ]
  ) {
    await assertRejectsWithCode(() => verifyCallback(signer, body, bad), "invalid_argument");
  }
  await assertRejectsWithCode(() => verifyCallback(signer, body, null as never), "invalid_argument");
});

test("verifyCallback() is typed by confirm: a literal confirm: true gives a ConfirmedCallback, else the union", async () => {
  const { fake, client } = fakeSmile();
  fake.addJob(rejectedJob);
  const confirmed = await verifyCallback(signer, await fake.buildCallback("job-1"), {
    confirm: true,
    reader: client,
    replayGuard: false,
  });
  // `status` needs no check: ConfirmedCallback has it.
  const status: JobStatus = confirmed.status;
  assertStrictEquals(typeof status.result === "object" && status.result.resultCode, "1022");
  const viaClient: ConfirmedCallback = await client.verifyCallback(await fake.buildCallback("job-1"), {
    confirm: true,
    replayGuard: false,
  });
  assertEquals(viaClient.mismatches, []);

  const plain = await verifyCallback(signer, await signedBody(result, T0), options());
  // @ts-expect-error a VerifiedCallback must be narrowed on `confirmed` before `status` is read
  assertStrictEquals(plain.status, undefined);
  if (!plain.confirmed) {
    const unconfirmed: UnconfirmedCallback = plain;
    // @ts-expect-error an UnconfirmedCallback has no status
    assertStrictEquals(unconfirmed.status, undefined);
  }
  assertStrictEquals(plain.confirmed, false);
});

test("verifyCallback() takes the signer first and refuses anything else there, with a message that names it", async () => {
  const body = await signedBody(result, T0);
  // The order before 1.0: (input, { signer }). The body in the signer's place is refused at once.
  const error = await assertRejectsWithCode(
    () => verifyCallback(body as never, { signer } as never),
    "invalid_argument",
  );
  assertMatch(error.message, /^Signer must be a Signer from createSigner, got an object with keys ResultCode, /);
  await assertRejectsWithCode(() => verifyCallback(undefined as never, body), "invalid_argument");
  // Options are optional now that the signer is an argument.
  assertStrictEquals((await verifyCallback(signer, body, options())).payload.jobId, "job-1");
});
