// The in-process checks every store guard passes, against a fake Smile ID (its fetch handler),
// with the guards the test gives. Portable (no node: imports): the Durable Object tests run
// them inside workerd.
//
// - assertGuardBasics: begin, finish, abandon and their states on the real store;
// - assertStoreFailure: a store that is gone rejects as replay_guard;
// - assertOperationCounts: through a counting wrapper of the real client, a first delivery
//   costs at most 2 writes and a duplicate at most 1 operation of any kind, counted from the
//   instance's second delivery on;
// - assertCjkOnce: 120-character CJK ids are processed once;
// - assertReconcileShares: reconcileJobs and a handler on another instance, sharing the store,
//   run a result that arrives both ways exactly once; a request budget is never exceeded;
// - assertDroppedReplies: each store operation of a delivery in turn runs but loses its reply
//   (the connection drops, the stub fails after the object ran): never a false duplicate, never
//   a lost result, at worst a 503 or 409 that a redelivery clears.

import { assert, assertEquals, assertInstanceOf, assertRejects, assertStrictEquals } from "@std/assert";
import { createCallbackHandler, type CreateCallbackHandlerOptions } from "../../src/handler.ts";
import { createClient } from "../../src/client.ts";
import { SmileIdError } from "../../src/errors.ts";
import { reconcileJobs } from "../../src/reconcile.ts";
import type { ReplayGuard } from "../../src/replay_guard.ts";
import type { KvAtomicLike, KvLike } from "../../src/deno_kv.ts";
import { createFakeSmileId, type FakeSmileId } from "../../src/testing/mod.ts";

/** Asserts that `begin`, `finish` and `abandon` of a guard whose store is gone reject as `replay_guard`, with the store's error as `cause`. */
export async function assertStoreFailure(guard: ReplayGuard): Promise<void> {
  for (
    const call of [
      () => guard.begin("result:1", 60),
      () => guard.finish("result:1", "token", 60),
      () => guard.abandon("result:1", "token"),
    ]
  ) {
    const error = await assertRejects(call, SmileIdError);
    assertStrictEquals(error.code, "replay_guard");
    assertInstanceOf(error.cause, Error);
  }
}

/**
 * The states on a real store, through two guards (two instances): `begin` takes an absent key
 * once and reports a lease `busy` (to its own guard and the other), `abandon` needs the lease's
 * token and never deletes a done key, `finish` makes it `done` for both; bad arguments reject
 * as `invalid_argument`. `read(key)` returns what the store holds under the guard's key.
 */
export async function assertGuardBasics(a: ReplayGuard, b: ReplayGuard): Promise<void> {
  const first = await a.begin("result:1", 300);
  assert(first.state === "claimed", `the first begin takes the lease: ${JSON.stringify(first)}`);
  assert(first.token.length >= 16, "a random token");
  assertEquals(await a.begin("result:1", 300), { state: "busy" });
  assertEquals(await b.begin("result:1", 300), { state: "busy" }, "the other instance sees the lease");
  assertStrictEquals((await b.begin("result:2", 300)).state, "claimed", "another key is independent");
  await b.abandon("result:1", "not-the-token");
  assertEquals(await b.begin("result:1", 300), { state: "busy" }, "abandon with another token leaves the lease");
  await a.abandon("result:1", first.token);
  const second = await b.begin("result:1", 300);
  assert(second.state === "claimed" && second.token !== first.token, "an abandoned lease is taken again");
  await b.finish("result:1", second.token, 3600);
  assertEquals(await a.begin("result:1", 300), { state: "done" });
  assertEquals(await b.begin("result:1", 300), { state: "done" });
  await b.abandon("result:1", second.token);
  assertEquals(await a.begin("result:1", 300), { state: "done" }, "abandon never deletes a done key");
  for (
    const [call, what] of [
      [() => a.begin("", 60), "empty key"],
      [() => a.begin("k", 0), "zero lease"],
      [() => a.begin("k", Number.NaN), "NaN lease"],
      [() => a.finish("k", "", 60), "empty token"],
      [() => a.finish("k", "t", -1), "negative rememberSeconds"],
      [() => a.abandon("k", 5 as never), "token of another type"],
    ] as const
  ) {
    const error = await assertRejects(call, SmileIdError, undefined, what);
    assertStrictEquals(error.code, "invalid_argument", what);
  }
}

const PARTNER = { partnerId: "085", apiKey: "guard-proof-key-5e21" } as const;

/** A fake Smile ID in-process with `jobs`, on the system clock (store entries expire by real time). */
function fakeWith(jobs: readonly { userId: string; jobId: string }[]): FakeSmileId {
  const fake = createFakeSmileId(PARTNER);
  for (const job of jobs) fake.addJob(job);
  return fake;
}

/** Handler options for one instance: its own client of `fake` and the guard given. */
function instance(fake: FakeSmileId, replayGuard: ReplayGuard, runs: string[]): CreateCallbackHandlerOptions {
  return {
    client: createClient({ ...PARTNER, fetch: fake.fetch }),
    replayGuard,
    onCallback: (result) => {
      runs.push(`${result.source} ${result.source === "reconcile" ? result.jobId : result.payload.jobId}`);
    },
  };
}

const post = (handler: (request: Request) => Promise<Response>, body: unknown) =>
  handler(new Request("https://partner.example/cb", { method: "POST", body: JSON.stringify(body) }))
    .then(async (response) => `${response.status} ${(await response.json() as { code: string }).code}`);

/** The store operations a guard sent, as its counting wrapper saw them, since the last reset. */
export interface OperationCounter {
  /** Writes: commands (Redis), commits (Deno KV), requests (Durable Object). */
  writes(): number;
  /** Operations of any kind: for Deno KV, reads too. */
  all(): number;
  reset(): void;
}

/**
 * Through a guard on a counting wrapper of the real client: a first delivery at most 2 store
 * operations (here exactly 2), a duplicate of it under another pair at most 1, the same bytes
 * again none; counted from the instance's second delivery on.
 */
export async function assertOperationCounts(guard: ReplayGuard, counter: OperationCounter): Promise<void> {
  const fake = fakeWith([{ userId: "user-a", jobId: "job-a" }, { userId: "user-b", jobId: "job-b" }]);
  const runs: string[] = [];
  const handler = createCallbackHandler(instance(fake, guard, runs));
  assertStrictEquals(await post(handler, await fake.buildCallback("job-a")), "200 processed"); // the first, not counted
  counter.reset();
  const genuine = await fake.buildCallback("job-b");
  assertStrictEquals(await post(handler, genuine), "200 processed");
  const first = counter.writes();
  const firstAll = counter.all();
  counter.reset();
  const other = await fake.buildCallback("job-b", { timestamp: new Date(Date.now() + 1).toISOString() });
  assertStrictEquals(await post(handler, other), "200 duplicate");
  const duplicate = counter.all();
  counter.reset();
  assertStrictEquals(await post(handler, genuine), "200 duplicate");
  const exact = counter.all();
  console.log(
    `store operations: first delivery ${first} writes (${firstAll} in all), duplicate ${duplicate}, ` +
      `the same bytes again ${exact}`,
  );
  assert(first <= 2, `a first delivery made ${first} writes`);
  assert(duplicate <= 1, `a duplicate made ${duplicate} store operations`);
  assertEquals([first, duplicate, exact], [2, 1, 0]);
  assertEquals(runs, ["callback job-a", "callback job-b"]);
}

/** A user id and a job id of 120 CJK characters each: processed once, a redelivery a duplicate. */
export async function assertCjkOnce(guard: ReplayGuard): Promise<void> {
  const userId = "用户标识".repeat(30);
  const jobId = "作业编号".repeat(30);
  const fake = fakeWith([{ userId, jobId }]);
  const runs: string[] = [];
  const handler = createCallbackHandler(instance(fake, guard, runs));
  assertStrictEquals(await post(handler, await fake.buildCallback(jobId)), "200 processed");
  const again = await fake.buildCallback(jobId, { timestamp: new Date(Date.now() + 1).toISOString() });
  assertStrictEquals(await post(handler, again), "200 duplicate");
  assertEquals(runs, [`callback ${jobId}`]);
}

/**
 * Two instances on one store (`a` and `b`, each its own guard and client): jobs 0–2 arrive as
 * callbacks at instance a, reconcileJobs on instance b polls jobs 0–5 with a budget of 5
 * requests, then the callbacks of jobs 3–5 arrive at a. Every result runs once; the budget holds.
 */
export async function assertReconcileShares(a: ReplayGuard, b: ReplayGuard): Promise<void> {
  const jobs = Array.from({ length: 6 }, (_, i) => ({ userId: `user-${i}`, jobId: `job-${i}` }));
  const fake = fakeWith(jobs);
  const runs: string[] = [];
  const handler = createCallbackHandler(instance(fake, a, runs));
  for (const i of [0, 1, 2]) {
    assertStrictEquals(await post(handler, await fake.buildCallback(`job-${i}`)), "200 processed");
  }
  fake.clearRequests();
  const counts = await reconcileJobs(instance(fake, b, runs), jobs, { maxRequests: 5 });
  assertEquals(counts, { processed: 2, duplicate: 3, pending: 0, failed: 0, skipped: 1, requests: 5 });
  assertStrictEquals(fake.requests.length, 5, "the budget of 5 requests");
  for (const i of [3, 4, 5]) {
    const body = await fake.buildCallback(`job-${i}`);
    assertStrictEquals(await post(handler, body), i === 5 ? "200 processed" : "200 duplicate");
  }
  assertEquals(runs.sort(), [
    "callback job-0",
    "callback job-1",
    "callback job-2",
    "callback job-5",
    "reconcile job-3",
    "reconcile job-4",
  ]);
}

/** A guard whose store operations can be made to lose their reply, one at a time. */
export interface FaultHarness {
  /** The guard, on the store through the faulty path. */
  readonly guard: ReplayGuard;
  /** Store operations that have run through the faulty path so far. */
  operations(): number;
  /** The `n`-th store operation from now (1-based) runs in the store, but its reply is lost. */
  dropNth(n: number): void;
  /** Resolves once the client can reach the store again (after a dropped connection: reconnected). */
  ready(): Promise<void>;
}

/**
 * For each store operation of a delivery in turn, on a fresh result: that operation runs but
 * its reply is lost. Two paths: a delivery that is processed (begin, finish), and one whose
 * `onCallback` throws once (begin, abandon, then a redelivery). In every case the delivery and
 * its redeliveries (the same bytes, up to 4, each once the client is ready again) are never
 * answered `200 duplicate` before `onCallback` has succeeded, the last answer is 200, the
 * answers before it are 503 `replay_guard`, 409 `replayed` or (after the throw) 500
 * `callback_failed`, `onCallback` succeeds exactly once, and the key ends done. Returns a log
 * line per case.
 */
export async function assertDroppedReplies(harness: FaultHarness): Promise<string[]> {
  const log: string[] = [];
  let job = 0;
  for (const path of ["processed", "throws once"] as const) {
    // How many store operations the path makes without a fault.
    const baseline = await dropCase(harness, path, `${path}-${job++}`, 0);
    const count = baseline.operations;
    assert(count >= 2, `${path}: ${count} store operations without a fault`);
    log.push(`${path}: ${count} store operations without a fault: ${baseline.answers.join(", ")}`);
    for (let n = 1; n <= count; n++) {
      const outcome = await dropCase(harness, path, `${path}-${job++}`, n);
      log.push(`${path}, reply ${n} of ${count} lost: ${outcome.answers.join(", ")}`);
    }
  }
  return log;
}

async function dropCase(
  harness: FaultHarness,
  path: "processed" | "throws once",
  jobId: string,
  drop: number,
): Promise<{ operations: number; answers: string[] }> {
  const fake = fakeWith([{ userId: "user-fault", jobId }]);
  let succeeded = 0;
  let throwNext = path === "throws once";
  const handler = createCallbackHandler({
    client: createClient({ ...PARTNER, fetch: fake.fetch }),
    replayGuard: harness.guard,
    onCallback: () => {
      if (throwNext) {
        throwNext = false;
        throw new Error("database down");
      }
      succeeded++;
    },
  });
  const body = await fake.buildCallback(jobId);
  const before = harness.operations();
  if (drop > 0) harness.dropNth(drop);
  const answers: string[] = [];
  const what = `${path}, reply ${drop} lost (${jobId})`;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (attempt > 0) await harness.ready();
    const answer = await post(handler, body);
    answers.push(answer);
    assert(!(answer === "200 duplicate" && succeeded === 0), `${what}: a false duplicate: ${answers.join(", ")}`);
    if (answer.startsWith("200")) break;
    const allowed = ["503 replay_guard", "409 replayed", ...(path === "throws once" ? ["500 callback_failed"] : [])];
    assert(allowed.includes(answer), `${what}: ${answers.join(", ")}`);
  }
  const operations = harness.operations() - before;
  assert(answers.at(-1)!.startsWith("200"), `${what}: never answered 200: ${answers.join(", ")}`);
  assertStrictEquals(succeeded, 1, `${what}: onCallback succeeded ${succeeded} times: ${answers.join(", ")}`);
  await harness.ready();
  const verified = await createClient({ ...PARTNER, fetch: fake.fetch }).verifyCallback(body, {
    confirm: true,
    replayGuard: false,
  });
  assertEquals(await harness.guard.begin(verified.replayKey, 60), { state: "done" }, `${what}: the key ends done`);
  return { operations, answers };
}

/**
 * A `KvLike` over a real Deno KV store whose reads (`get`) and commits go through `through`, which
 * runs the operation: to count them, or to lose their answers after the store ran them.
 */
export function interceptKv(
  kv: KvLike,
  through: <T>(operation: () => Promise<T>, kind: "read" | "commit") => Promise<T>,
): KvLike {
  return {
    get: (key) => through(() => kv.get(key), "read"),
    atomic: () => {
      const op = kv.atomic();
      const wrap: KvAtomicLike = {
        check: (...checks) => (op.check(...checks), wrap),
        set: (key, value, options) => (op.set(key, value, options), wrap),
        delete: (key) => (op.delete(key), wrap),
        commit: () => through(() => op.commit(), "commit"),
      };
      return wrap;
    },
  };
}
