// createCallbackHandler: the HTTP answers, exactly-once processing and crash safety, with the fake
// Smile ID as the authoritative server. Portable: runs in Deno, Node, Bun, workerd and Chromium.
import { test } from "node:test";
import { assert, assertEquals, assertMatch, assertStrictEquals, assertThrows } from "@std/assert";
import {
  classifyCallbackError,
  type ConfirmedCallback,
  createCallbackHandler,
  type CreateCallbackHandlerOptions,
  createClient,
  createMemoryReplayGuard,
  type HandledResult,
  type JobStatus,
  type JsonObject,
  type ReplayGuard,
  SmileIdError,
} from "../mod.ts";
import { createFakeSmileId, createTestClock } from "../src/testing/mod.ts";

const partnerId = "085";
const apiKey = "handler-test-secret-key-0123456789";
const T0 = Date.parse("2024-05-01T12:00:00.000Z");

const rejected = {
  ResultCode: "1022",
  ResultText: "No Match",
  Actions: { Verify_ID_Number: "Not Verified" },
  FullName: "Grace Hopper-4417",
};

/**
 * One fake Smile ID on a virtual clock, a client that asks it, and a handler around
 * `onCallback`, which records what it was given. `smileDown` makes the client's fetch throw.
 */
function setup<Confirm extends boolean = true>(extra: Partial<CreateCallbackHandlerOptions<Confirm>> = {}) {
  const clock = createTestClock(T0);
  const fake = createFakeSmileId({ partnerId, apiKey, clock });
  fake.addJob({ userId: "user-1", jobId: "job-1", jobSuccess: false, result: rejected });
  fake.addJob({ userId: "user-2", jobId: "job-2" });
  const state: { smileDown: boolean; fail: number; hold?: Promise<void> } = { smileDown: false, fail: 0 };
  const client = createClient({
    partnerId,
    apiKey,
    clock, // the fake's: an answer signed long before its request is refused
    fetch: async (input, init) => {
      await state.hold; // a test's gate, if it set one
      return state.smileDown ? Promise.reject(new TypeError("network down")) : fake.fetch(input, init);
    },
  });
  // Most tests confirm; the few with confirm: false read only what both halves of the union have.
  const processed: (ConfirmedCallback & { readonly source: "callback" })[] = [];
  const rejections: SmileIdError[] = [];
  const guard = createMemoryReplayGuard({ clock });
  const handler = createCallbackHandler<Confirm>({
    client,
    replayGuard: guard,
    clock,
    onCallback: (callback) => {
      processed.push(callback as ConfirmedCallback & { readonly source: "callback" });
      if (state.fail > 0) {
        state.fail--;
        throw new Error("database unavailable");
      }
    },
    onRejected: (error) => void rejections.push(error),
    ...extra,
  } as CreateCallbackHandlerOptions<Confirm>);
  const post = (body: unknown, init: RequestInit = {}) =>
    handler(
      new Request("https://partner.example/smile/callback", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: typeof body === "string" || body instanceof ReadableStream ? body : JSON.stringify(body),
        ...init,
      }),
    );
  return { clock, fake, client, guard, state, processed, rejections, handler, post };
}

async function answer(response: Response): Promise<[number, JsonObject]> {
  return [response.status, await response.json()];
}

function resultCode(status: JobStatus | undefined): string | undefined {
  return typeof status?.result === "object" ? status.result.resultCode : undefined;
}

test("createCallbackHandler() processes a genuine callback once, from Smile ID's status, and answers 200", async () => {
  const { fake, post, processed, rejections } = setup();
  const genuine = await fake.buildCallback("job-1");
  assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "processed" }]);
  assertStrictEquals(processed.length, 1);
  const callback = processed[0] as ConfirmedCallback;
  assertStrictEquals(callback.confirmed, true);
  assertStrictEquals(callback.fresh, true);
  assertStrictEquals(resultCode(callback.status), "1022");
  assertEquals(callback.mismatches, []);
  assertEquals(rejections, []);
});

test("createCallbackHandler() names the job in onCallback's userId and jobId, as the body does", async () => {
  const { fake, post, processed } = setup();
  await post(await fake.buildCallback("job-2"));
  const [callback] = processed as unknown as HandledResult[];
  assertEquals(
    callback?.source === "callback" && [callback.userId, callback.jobId, callback.payload.jobId],
    ["user-2", "job-2", "job-2"],
  );
  // Typed as strings with confirm, so the common case needs no narrowing.
  const ids: (result: HandledResult) => string = ({ userId, jobId }) => `${userId}/${jobId}`;
  assertEquals(callback && ids(callback), "user-2/job-2");
});

test("createCallbackHandler() answers a callback already processed with 200 and does not run onCallback again", async () => {
  const { fake, post, processed, rejections } = setup();
  const genuine = await fake.buildCallback("job-1");
  await post(genuine);
  assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "duplicate" }]);
  assertEquals(await answer(await post(await fake.buildCallback("job-1"))), [200, { ok: true, code: "duplicate" }]);
  assertStrictEquals(processed.length, 1);
  assertEquals(rejections, []);
});

test("createCallbackHandler() types onCallback's argument by confirm", () => {
  const client = createClient({ partnerId, apiKey });
  // Compile-time checks: with confirm (the default) `status` is a JobStatus; without it, absent;
  // with a confirm known only at run time, `confirmed` tells which.
  createCallbackHandler({ client, onCallback: (callback) => callback.status.jobComplete });
  createCallbackHandler({
    client,
    confirm: true,
    // A result found by reconcileJobs has no body: narrow on source to read what the body differed in.
    onCallback: (callback) => callback.source === "callback" ? callback.mismatches.length : callback.jobId,
  });
  createCallbackHandler({
    client,
    // @ts-expect-error a ReconciledResult has no mismatches
    onCallback: (callback) => callback.mismatches,
  });
  createCallbackHandler({
    client,
    confirm: false,
    // @ts-expect-error an UnconfirmedCallback has no status: only the body's claims
    onCallback: (callback) => callback.status,
  });
  createCallbackHandler({ client, confirm: false, onCallback: (callback) => callback.payload.result });
  const confirm = Math.random() < 2 as boolean;
  createCallbackHandler({
    client,
    confirm,
    onCallback: (callback) => callback.confirmed ? callback.status.jobComplete : callback.payload.jobId,
  });
  assertThrows(() => createCallbackHandler({ client, onCallback: "save" as never }), SmileIdError);
});

// ---- a body that disagrees with Smile ID never costs the genuine result ------------------------

test("createCallbackHandler(): a tampered body first, then the genuine one: the truth is processed exactly once", async () => {
  const { fake, post, processed } = setup();
  const genuine = await fake.buildCallback("job-1");
  const tampered = { ...genuine, ResultCode: "1012", ResultText: "ID Number Validated" };
  assertEquals(await answer(await post(tampered)), [200, { ok: true, code: "processed" }]);
  assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "duplicate" }]);
  assertStrictEquals(processed.length, 1);
  assertStrictEquals(resultCode(processed[0]!.status), "1022", "Smile ID's answer, not the tampered body");
  assertEquals(processed[0]!.mismatches?.map((m) => m.path), ["ResultCode", "ResultText"]);
});

test("createCallbackHandler(): another job's old body under the genuine pair does not use up the genuine result", async () => {
  const { fake, post, processed } = setup();
  assertStrictEquals((await post(await fake.buildCallback("job-2"))).status, 200); // job 2, long ago
  const genuine = await fake.buildCallback("job-1");
  const { signature: _s, timestamp: _t, ...old } = await fake.buildCallback("job-2");
  assertEquals(await answer(await post({ ...old, signature: genuine.signature, timestamp: genuine.timestamp })), [
    200,
    { ok: true, code: "duplicate" },
  ]);
  assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "processed" }]);
  assertEquals(processed.map((c) => c.payload.jobId), ["job-2", "job-1"]);
});

test("createCallbackHandler(): stripped fields, forged image links and forged history are processed as the truth once", async () => {
  const { fake, post, processed } = setup();
  const genuine = await fake.buildCallback("job-1");
  const { ResultCode: _c, ResultText: _t, Actions: _a, ...stripped } = genuine;
  const forgedLinks = { ...genuine, image_links: { selfie_image: "https://attacker.example/selfie.jpg" } };
  const forgedHistory = { ...genuine, history: [{ ...rejected, ResultCode: "1012" }] };
  for (const body of [stripped, forgedLinks, forgedHistory, genuine]) await post(body);
  assertStrictEquals(processed.length, 1);
  assertEquals(processed[0]!.mismatches, [
    { path: "ResultCode", kind: "missing" },
    { path: "ResultText", kind: "missing" },
    { path: "Actions", kind: "missing" },
  ]);
  assertStrictEquals(resultCode(processed[0]!.status), "1022");
});

test("createCallbackHandler(): a provisional and then a final result of one job are each processed once", async () => {
  const { fake, post, processed, clock } = setup();
  fake.addJob({ userId: "user-3", jobId: "job-3", completesAfterMs: 10_000 });
  // The callback arrives before Smile ID's job status shows a result: processed as what Smile ID says.
  const early = await fake.buildCallback("job-3");
  assertStrictEquals((await post(early)).status, 200);
  assertStrictEquals(processed[0]!.status?.jobComplete, false);
  clock.advance(10_000);
  const final = await fake.buildCallback("job-3");
  assertStrictEquals((await post(final)).status, 200);
  assertStrictEquals((await post(early)).status, 200);
  assertEquals(processed.map((c) => c.status?.jobComplete), [false, true]);
});

// ---- freshness -------------------------------------------------------------------------------------

test("createCallbackHandler() with confirm processes a late genuine delivery (fresh: false); without confirm answers 401", async () => {
  const confirmed = setup();
  const genuine = await confirmed.fake.buildCallback("job-1");
  confirmed.clock.advance(3 * 3_600_000); // human review
  assertEquals(await answer(await confirmed.post(genuine)), [200, { ok: true, code: "processed" }]);
  assertStrictEquals(confirmed.processed[0]!.fresh, false);

  const bare = setup({ confirm: false });
  const old = await bare.fake.buildCallback("job-1");
  bare.clock.advance(3 * 3_600_000);
  assertEquals(await answer(await bare.post(old)), [401, { ok: false, code: "stale_timestamp" }]);
  assertEquals(bare.processed, []);
  assertEquals(bare.rejections.map((e) => e.code), ["stale_timestamp"]);
});

test("createCallbackHandler() without confirm processes each signature and timestamp pair once", async () => {
  const { fake, post, processed } = setup({ confirm: false });
  const genuine = await fake.buildCallback("job-1");
  assertStrictEquals((await post(genuine)).status, 200);
  assertEquals(await answer(await post({ ...genuine, ResultCode: "1012" })), [200, { ok: true, code: "duplicate" }]);
  assertStrictEquals(processed.length, 1);
  assertStrictEquals(processed[0]!.confirmed, false);
});

// ---- failures that must not lose the result ------------------------------------------------------

test("createCallbackHandler(): onCallback throws → 500, and the redelivery is processed → 200", async () => {
  const { fake, post, processed, state, rejections } = setup();
  state.fail = 1;
  const genuine = await fake.buildCallback("job-1");
  assertEquals(await answer(await post(genuine)), [500, { ok: false, code: "callback_failed" }]);
  assertEquals(rejections.map((e) => e.code), ["callback_failed"]);
  assertStrictEquals((rejections[0]!.cause as Error).message, "database unavailable");
  assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "processed" }]);
  assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "duplicate" }]);
  assertStrictEquals(processed.length, 2, "ran twice in total, the second time successfully");
});

test("createCallbackHandler(): Smile ID unreachable for confirm → 503 with nothing claimed, processed after recovery", async () => {
  const { fake, post, processed, state, rejections } = setup();
  const genuine = await fake.buildCallback("job-1");
  state.smileDown = true;
  assertEquals(await answer(await post(genuine)), [503, { ok: false, code: "confirm_failed" }]);
  assertEquals(processed, []);
  assertStrictEquals((rejections[0]!.cause as SmileIdError).code, "transport");
  state.smileDown = false;
  fake.injectFault({ status: 429, retryAfter: 30 });
  const limited = await post(genuine);
  assertStrictEquals(limited.status, 503);
  assertStrictEquals(limited.headers.get("retry-after"), "30");
  fake.injectFault({ badSignature: true });
  assertStrictEquals((await post(genuine)).status, 503, "an answer that does not verify is no truth");
  assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "processed" }]);
  assertStrictEquals(processed.length, 1);
});

test("createCallbackHandler(): a delivery that arrives while another one is processing gets 409, nothing lost", async () => {
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  let finish!: () => void;
  const running = new Promise<void>((resolve) => (finish = resolve));
  let runs = 0;
  const { fake, post } = setup({
    onCallback: () => {
      runs++;
      entered();
      return running;
    },
  });
  const genuine = await fake.buildCallback("job-1");
  const first = post(genuine);
  await inside;
  assertEquals(await answer(await post(genuine)), [409, { ok: false, code: "replayed" }]);
  finish();
  assertEquals(await answer(await first), [200, { ok: true, code: "processed" }]);
  assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "duplicate" }]);
  assertStrictEquals(runs, 1);
});

test("createCallbackHandler(): after a crash while onCallback ran, the lease lapses and a redelivery is processed", async () => {
  const { fake, guard, post, processed, clock } = setup({ leaseSeconds: 60 });
  const genuine = await fake.buildCallback("job-1");
  // The crashed instance: it verified the callback and took the lease, then died.
  const verified = await createClient({ partnerId, apiKey, fetch: fake.fetch, clock }).verifyCallback(genuine, {
    confirm: true,
    replayGuard: false,
    clock,
  });
  assertStrictEquals((await guard.begin(verified.replayKey, 60)).state, "claimed");
  assertStrictEquals((await post(genuine)).status, 409);
  clock.advance(60_000);
  assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "processed" }]);
  assertStrictEquals(processed.length, 1);
});

test("createCallbackHandler(): 20 parallel deliveries through per-request handlers on one atomic store run onCallback once", async () => {
  const { fake, client } = setup();
  const genuine = JSON.stringify(await fake.buildCallback("job-1"));
  const store = new Map<string, string>();
  let waiting = 0;
  let open!: () => void;
  const together = new Promise<void>((resolve) => (open = resolve)); // opened by the 20th claim, not a timer
  const perRequestGuard = (): ReplayGuard => ({
    begin: async (key) => {
      if (++waiting >= 20) open();
      await together; // every instance reaches the store at the same moment
      const held = store.get(key);
      if (held !== undefined) return { state: held === "done" ? "done" : "busy" };
      store.set(key, "lease");
      return { state: "claimed", token: "t" };
    },
    finish: (key) => Promise.resolve(void store.set(key, "done")),
    abandon: (key) => Promise.resolve(void store.delete(key)),
  });
  let runs = 0;
  const statuses = await Promise.all(
    Array.from({ length: 20 }, async () => {
      const handler = createCallbackHandler({ client, replayGuard: perRequestGuard(), onCallback: () => void runs++ });
      const response = await handler(new Request("https://partner.example/cb", { method: "POST", body: genuine }));
      return response.status;
    }),
  );
  assertStrictEquals(runs, 1);
  assertEquals(statuses.filter((s) => s === 200).length, 1);
  assertEquals(statuses.filter((s) => s === 409).length, 19);
});

test("createCallbackHandler(): a failing guard store → 503 replay_guard, nothing processed; processed once it recovers", async () => {
  const store = createMemoryReplayGuard();
  let down = true;
  const flaky: ReplayGuard = {
    ...store,
    begin: (key, seconds) => down ? Promise.reject(new Error("ECONNREFUSED")) : store.begin(key, seconds),
  };
  const { fake, post, processed, rejections } = setup({ replayGuard: flaky });
  const genuine = await fake.buildCallback("job-1");
  assertEquals(await answer(await post(genuine)), [503, { ok: false, code: "replay_guard" }]);
  assertStrictEquals((rejections[0]!.cause as Error).message, "ECONNREFUSED");
  down = false;
  assertStrictEquals((await post(genuine)).status, 200);
  assertStrictEquals(processed.length, 1);
});

test("createCallbackHandler(): a store failure after onCallback succeeded still answers 200 and tells onRejected", async () => {
  const store = createMemoryReplayGuard();
  const failsOnDone: ReplayGuard = { ...store, finish: () => Promise.reject(new Error("store gone")) };
  const { fake, post, processed, rejections } = setup({ replayGuard: failsOnDone });
  const genuine = await fake.buildCallback("job-1");
  assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "processed" }]);
  assertStrictEquals(processed.length, 1);
  assertEquals(rejections.map((e) => e.code), ["replay_guard"]);
  assertMatch(rejections[0]!.message, /could not finish/);
  // The key is not known to be done: the same bytes are not answered from memory, and the lease
  // left behind answers 409 (retryable) until it lapses; onCallback does not run again.
  assertEquals(await answer(await post(genuine)), [409, { ok: false, code: "replayed" }]);
  assertStrictEquals(processed.length, 1);
});

// ---- cost: store operations, Smile ID requests, duplicates ---------------------------------------

/** A guard that counts the calls it passes on to `inner`. */
function countingGuard(inner: ReplayGuard) {
  const counts = { begin: 0, finish: 0, abandon: 0 };
  const guard: ReplayGuard = {
    begin: (key, seconds) => (counts.begin++, inner.begin(key, seconds)),
    finish: (key, token, seconds) => (counts.finish++, inner.finish(key, token, seconds)),
    abandon: (key, token) => (counts.abandon++, inner.abandon(key, token)),
  };
  const total = () => counts.begin + counts.finish + counts.abandon;
  return { guard, counts, total };
}

test("createCallbackHandler(): two guard operations for a first delivery, one for a duplicate, none for the same bytes again", async () => {
  const counting = countingGuard(createMemoryReplayGuard());
  const duplicates: string[] = [];
  const { fake, post, processed, rejections, clock } = setup({
    replayGuard: counting.guard,
    onDuplicate: (callback, request) => void duplicates.push(`${callback.payload.jobId} ${request.method}`),
  });
  const genuine = await fake.buildCallback("job-1");
  assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "processed" }]);
  assertEquals([counting.counts, fake.requests.length], [{ begin: 1, finish: 1, abandon: 0 }, 1]);
  // Another delivery of the same result, under another pair: confirmed, then one begin says done.
  clock.advance(1);
  assertEquals(await answer(await post(await fake.buildCallback("job-1"))), [200, { ok: true, code: "duplicate" }]);
  assertEquals([counting.total(), fake.requests.length], [3, 2]);
  // The very same bytes again: answered from memory, without Smile ID or the store.
  for (let i = 0; i < 3; i++) {
    assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "duplicate" }]);
  }
  assertEquals([counting.total(), fake.requests.length], [3, 2]);
  assertStrictEquals(processed.length, 1);
  assertEquals(duplicates, Array(4).fill("job-1 POST"), "onDuplicate sees every duplicate");
  assertEquals(rejections, [], "duplicates are no rejections");
});

test("createCallbackHandler() remembers at most 1,000 processed bodies: older ones are checked in the guard again", async () => {
  const counting = countingGuard(createMemoryReplayGuard({ maxEntries: 5000 }));
  const { fake, post, clock } = setup({ confirm: false, replayGuard: counting.guard });
  const bodies = [];
  for (let i = 0; i < 1001; i++) {
    clock.advance(1);
    bodies.push(await fake.buildCallback("job-1"));
  }
  for (const body of bodies) assertStrictEquals((await post(body)).status, 200);
  counting.counts.begin = 0;
  assertEquals(await answer(await post(bodies[1000]!)), [200, { ok: true, code: "duplicate" }]);
  assertStrictEquals(counting.counts.begin, 0, "the newest is answered from memory");
  assertEquals(await answer(await post(bodies[0]!)), [200, { ok: true, code: "duplicate" }]);
  assertStrictEquals(counting.counts.begin, 1, "the oldest was forgotten: the guard says it is done");
});

test("createCallbackHandler(): 20 concurrent redeliveries after processing are all answered 200, exact or not", async () => {
  const { fake, post, processed, clock } = setup();
  const genuine = await fake.buildCallback("job-1");
  assertStrictEquals((await post(genuine)).status, 200);
  const others = [];
  for (let i = 0; i < 10; i++) {
    clock.advance(1); // each its own pair: not the same bytes
    others.push(await fake.buildCallback("job-1"));
  }
  const answers = await Promise.all(
    [...Array(10).fill(genuine), ...others].map(async (body) => answer(await post(body))),
  );
  assertEquals(answers, Array(20).fill([200, { ok: true, code: "duplicate" }]));
  assertStrictEquals(processed.length, 1);
  assertStrictEquals(fake.requests.length, 11, "the 10 exact redeliveries asked nothing");
});

test("createCallbackHandler(): the same bytes are answered from memory only once their key is done", async () => {
  const { fake, post, processed, state } = setup();
  const genuine = await fake.buildCallback("job-1");
  state.fail = 1;
  assertStrictEquals((await post(genuine)).status, 500);
  assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "processed" }]);
  assertStrictEquals(processed.length, 2, "the failed run was not remembered as done");
  // A tampered body processed first is remembered as its own bytes only: the genuine bytes are
  // confirmed and found done by their key, never answered from the tampered body's memory.
  const { post: post2, fake: fake2, processed: processed2 } = setup();
  const real = await fake2.buildCallback("job-2");
  const tampered = { ...real, ResultCode: "0000" };
  assertStrictEquals((await post2(tampered)).status, 200);
  assertStrictEquals(fake2.requests.length, 1);
  assertEquals(await answer(await post2(real)), [200, { ok: true, code: "duplicate" }]);
  assertStrictEquals(fake2.requests.length, 2, "the genuine bytes were confirmed");
  assertStrictEquals(processed2.length, 1);
});

test("createCallbackHandler(): 20 concurrent first deliveries of one callback share one request to Smile ID", async () => {
  let inside = 0;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  // The handler reads its clock three times per delivery before the confirm request (the memory
  // of processed bodies, freshness, the per-pair count): Smile ID answers once all 20 have.
  let reads = 0;
  let allAsked!: () => void;
  const asked = new Promise<void>((resolve) => (allAsked = resolve));
  const testClock = createTestClock(T0);
  const { fake, post, state } = setup({
    clock: { now: () => (++reads === 60 && allAsked(), testClock.now()) },
    onCallback: async () => {
      inside++;
      await held;
    },
  });
  state.hold = asked;
  const genuine = await fake.buildCallback("job-1");
  // The 19 others are answered while the first one's onCallback is held; then it is let go.
  let settled = 0;
  let nineteen!: () => void;
  const others = new Promise<void>((resolve) => (nineteen = resolve));
  void others.then(release);
  const answers = await Promise.all(Array.from({ length: 20 }, async () => {
    const result = await answer(await post(genuine));
    if (++settled === 19) nineteen();
    return result;
  }));
  assertStrictEquals(fake.requests.length, 1, "one job_status request for the 20 deliveries");
  assertStrictEquals(inside, 1);
  const count = (status: number, code: string) =>
    answers.filter(([s, body]) => s === status && body.code === code).length;
  assertEquals([count(200, "processed"), count(409, "replayed")], [1, 19]);
  assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "duplicate" }]);
});

test("createCallbackHandler(): one old pair and 200 bodies naming made-up jobs make at most maxJobsPerPair requests", async () => {
  const { fake, post, processed, rejections, clock } = setup();
  const old = await fake.buildCallback("job-2");
  clock.advance(3 * 86_400_000); // a pair seen days ago
  const pair = { signature: old.signature, timestamp: old.timestamp };
  const forged = (i: number) => ({ ...old, ...pair, PartnerParams: { user_id: `user-x${i}`, job_id: `made-up-${i}` } });
  const answers = await Promise.all(Array.from({ length: 200 }, async (_, i) => (await post(forged(i))).status));
  assert(fake.requests.length <= 8, `${fake.requests.length} requests to Smile ID`);
  assertStrictEquals(fake.requests.length, 8);
  assertEquals(answers.filter((s) => s !== 503), [], "made-up jobs are never processed");
  const limited = rejections.filter((e) => e.code === "confirm_limited");
  assertStrictEquals(limited.length, 192, "onRejected is told of each body refused without a request");
  assertEquals(processed, []);
  // A genuine callback afterwards (its own pair) is processed.
  assertEquals(await answer(await post(await fake.buildCallback("job-1"))), [200, { ok: true, code: "processed" }]);
  assertStrictEquals(processed.length, 1);
});

test("createCallbackHandler(): callbacks of more jobs than maxJobsPerPair in one millisecond are delayed, not refused", async () => {
  const { fake, post, processed, clock } = setup({ maxJobsPerPair: 2 });
  for (const n of [3, 4]) fake.addJob({ userId: `user-${n}`, jobId: `job-${n}` });
  const first = await fake.buildCallback("job-1");
  const pair = { signature: first.signature, timestamp: first.timestamp };
  const bodies = await Promise.all(["job-1", "job-2", "job-3", "job-4"].map(async (job) => ({
    ...(await fake.buildCallback(job)),
    ...pair,
  })));
  const statuses = [];
  for (const body of bodies) statuses.push((await post(body)).status);
  assertEquals(statuses, [200, 200, 503, 503]);
  const limited = await post(bodies[2]);
  assertStrictEquals(limited.status, 503);
  assertStrictEquals(limited.headers.get("retry-after"), "600");
  clock.advance(10 * 60_000); // the pair's window is over: Smile ID's redeliveries are confirmed
  for (const body of bodies) await post(body);
  assertEquals(processed.map((c) => c.payload.jobId).sort(), ["job-1", "job-2", "job-3", "job-4"]);
});

test("createCallbackHandler(): 120-character CJK ids are processed once", async () => {
  const { fake, post, processed } = setup();
  const userId = "用户".repeat(60);
  const jobId = "作业".repeat(60);
  fake.addJob({ userId, jobId });
  const genuine = await fake.buildCallback(jobId);
  assertEquals(await answer(await post(genuine)), [200, { ok: true, code: "processed" }]);
  assertEquals(await answer(await post(await fake.buildCallback(jobId))), [200, { ok: true, code: "duplicate" }]);
  assertEquals(processed.map((c) => [c.payload.userId, c.payload.jobId, c.source]), [[userId, jobId, "callback"]]);
});

// ---- what is refused ---------------------------------------------------------------------------------

test("createCallbackHandler() answers unsigned and wrongly signed deliveries with 401", async () => {
  const { fake, post, processed, rejections } = setup();
  const { signature: _s, ...unsigned } = await fake.buildCallback("job-1");
  assertEquals(await answer(await post(unsigned)), [401, { ok: false, code: "missing_signature" }]);
  assertEquals(await answer(await post(await fake.buildCallback("job-1", { badSignature: true }))), [
    401,
    { ok: false, code: "signature_mismatch" },
  ]);
  assertEquals(processed, []);
  assertEquals(rejections.map((e) => e.code), ["missing_signature", "signature_mismatch"]);
  assertEquals(fake.requests, [], "nothing unsigned reaches Smile ID");
});

test("createCallbackHandler() answers a body that is not JSON or not the documented shape with 400", async () => {
  const { fake, post } = setup();
  assertEquals(await answer(await post("<html>")), [400, { ok: false, code: "unexpected_response" }]);
  assertEquals(await answer(await post("[1]")), [400, { ok: false, code: "unexpected_response" }]);
  const badShape = await fake.buildCallback("job-1", { envelope: "job_status", overrides: { job_complete: "maybe" } });
  assertEquals(await answer(await post(badShape)), [400, { ok: false, code: "schema" }]);
  const noIds = await fake.buildCallback("job-1", { overrides: { PartnerParams: {} } });
  assertEquals(await answer(await post(noIds)), [400, { ok: false, code: "schema" }]);
});

test("createCallbackHandler() answers a body over maxBodyBytes with 413 and Connection: close, without reading it", async () => {
  const { post, processed } = setup({ maxBodyBytes: 1024 });
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += 512;
      controller.enqueue(new Uint8Array(512).fill(0x20));
    },
  });
  const response = await post(stream, { duplex: "half" } as RequestInit);
  assertEquals(await answer(response), [413, { ok: false, code: "payload_too_large" }]);
  assertStrictEquals(response.headers.get("connection"), "close");
  assert(pulled <= 4096, `read ${pulled} bytes`);
  const declared = await post("x".repeat(2048));
  assertStrictEquals(declared.status, 413);
  assertEquals(processed, []);
});

test("createCallbackHandler() answers anything but POST with 405 and Allow: POST", async () => {
  const { handler, rejections } = setup();
  for (const method of ["GET", "HEAD", "PUT", "OPTIONS"]) {
    const response = await handler(new Request("https://partner.example/smile/callback", { method }));
    assertStrictEquals(response.status, 405, method);
    assertStrictEquals(response.headers.get("allow"), "POST");
    await response.body?.cancel();
  }
  assertEquals(rejections.map((e) => e.code), Array(4).fill("method_not_allowed"));
});

test("createCallbackHandler() turns a Request whose body was already read into a typed rejection", async () => {
  const { fake, handler, rejections } = setup();
  const request = new Request("https://partner.example/cb", {
    method: "POST",
    body: JSON.stringify(await fake.buildCallback("job-1")),
  });
  await request.text(); // a middleware read it first
  assertEquals(await answer(await handler(request)), [400, { ok: false, code: "body_unreadable" }]);
  assert(rejections[0] instanceof SmileIdError && rejections[0].cause instanceof TypeError);
});

test("createCallbackHandler(): a throwing onRejected does not change the answer", async () => {
  const { fake, post } = setup({
    onRejected: () => {
      throw new Error("logger down");
    },
  });
  assertEquals(await answer(await post(await fake.buildCallback("job-1", { badSignature: true }))), [
    401,
    { ok: false, code: "signature_mismatch" },
  ]);
  const rejectsAsync = setup({ onRejected: () => Promise.reject(new Error("logger down")) });
  assertStrictEquals((await rejectsAsync.post("nope")).status, 400);
});

test("createCallbackHandler() answers carry no API key and no value of the body", async () => {
  const planted = "Ngozi-Okafor-55219";
  const { fake, post, state } = setup();
  const bodies: unknown[] = [
    await fake.buildCallback("job-1", { overrides: { FullName: planted } }),
    await fake.buildCallback("job-1", { overrides: { FullName: planted } }),
    await fake.buildCallback("job-1", { overrides: { FullName: planted, IsFinalResult: [planted] } }),
    await fake.buildCallback("job-1", { overrides: { FullName: planted }, badSignature: true }),
    `{"FullName":"${planted}"`,
  ];
  state.fail = 1;
  const texts: string[] = [];
  for (const body of bodies) {
    const response = await post(body);
    texts.push(`${response.status} ${[...response.headers].join(" ")} ${await response.text()}`);
  }
  for (const text of texts) {
    assert(!text.includes(planted) && !text.includes(apiKey), text);
    assert(text.length < 200, text);
  }
});

test("createCallbackHandler() refuses bad options at once", () => {
  const client = createClient({ partnerId, apiKey });
  const onCallback = () => {};
  for (
    const bad of [
      { client: {}, onCallback },
      { client, onCallback, leaseSeconds: 1 },
      { client, onCallback, leaseSeconds: Number.NaN },
      { client, onCallback, rememberSeconds: -5 },
      { client, onCallback, toleranceSeconds: "300" },
      { client, onCallback, maxBodyBytes: 0 },
      { client, onCallback, replayGuard: { seen: () => {} } },
      { client, onCallback, replayGuard: { claim: () => {}, release: () => {} } },
      { client, onCallback, onDuplicate: "log" },
      { client, onCallback, maxJobsPerPair: 0 },
      { client, onCallback, maxJobsPerPair: 2.5 },
      { client, onCallback, onRejected: "log" },
      { client, onCallback, confirm: "yes" },
    ]
  ) {
    const error = assertThrows(() => createCallbackHandler(bad as never), SmileIdError);
    assertStrictEquals(error.code, "invalid_argument", JSON.stringify(Object.keys(bad)));
  }
});

test("classifyCallbackError() maps every rejection to a status and says whether a redelivery can succeed", () => {
  const table: [string, number, boolean][] = [
    ["payload_too_large", 413, false],
    ["unexpected_response", 400, false],
    ["schema", 400, false],
    ["body_unreadable", 400, true],
    ["missing_signature", 401, false],
    ["signature_mismatch", 401, false],
    ["invalid_timestamp", 401, false],
    ["stale_timestamp", 401, false],
    ["future_timestamp", 401, false],
    ["method_not_allowed", 405, false],
    ["replayed", 409, true],
    ["callback_failed", 500, true],
    ["confirm_failed", 503, true],
    ["answer_mismatch", 503, true],
    ["confirm_limited", 503, true],
    ["replay_guard", 503, true],
    ["invalid_argument", 500, true],
  ];
  for (const [code, status, retryable] of table) {
    assertEquals(classifyCallbackError(new SmileIdError(code as never, "x")), { status, retryable }, code);
  }
  assertEquals(classifyCallbackError(new Error("bug")), { status: 500, retryable: true });
  assertEquals(classifyCallbackError(undefined), { status: 500, retryable: true });
});
