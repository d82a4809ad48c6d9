// reconcileJobs: polling jobs whose callback did not come, through the callback handler's own
// exactly-once step, with the fake Smile ID as the authoritative server. Portable: runs in Deno,
// Node, Bun, workerd and Chromium.
import { test } from "node:test";
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import {
  createCallbackHandler,
  type CreateCallbackHandlerOptions,
  createClient,
  createMemoryReplayGuard,
  type FetchLike,
  type HandledResult,
  reconcileJobs,
  type ReplayGuard,
  SmileIdError,
} from "../mod.ts";
import { createFakeSmileId, createTestClock } from "../src/testing/mod.ts";
import { assertRejectsWithCode } from "./_helpers.ts";

const partnerId = "085";
const apiKey = "reconcile-test-secret-key-0123456789";
const T0 = Date.parse("2024-05-01T12:00:00.000Z");

/** A fake Smile ID with `jobs` jobs (job-0 … ), a client counting its requests, and handler options. */
function setup(
  jobs: number,
  extra: Partial<CreateCallbackHandlerOptions> = {},
  fetchWrap?: (f: FetchLike) => FetchLike,
) {
  const clock = createTestClock(T0);
  const fake = createFakeSmileId({ partnerId, apiKey, clock });
  for (let i = 0; i < jobs; i++) fake.addJob({ userId: `user-${i}`, jobId: `job-${i}` });
  const fetch: FetchLike = (input, init) => fake.fetch(input, init);
  const client = createClient({ partnerId, apiKey, clock, fetch: fetchWrap ? fetchWrap(fetch) : fetch });
  const runs: string[] = [];
  const options: CreateCallbackHandlerOptions = {
    client,
    clock,
    onCallback: (result: HandledResult) => {
      runs.push(`${result.source} ${result.source === "reconcile" ? result.jobId : result.payload.jobId}`);
    },
    ...extra,
  };
  const list = (n = jobs) => Array.from({ length: n }, (_, i) => ({ userId: `user-${i}`, jobId: `job-${i}` }));
  return { clock, fake, client, options, runs, list };
}

test("reconcileJobs() runs each complete result once, with source reconcile, Smile ID's status and no body", async () => {
  const seen: HandledResult[] = [];
  const { options, list, fake } = setup(3, { onCallback: (result) => void seen.push(result) });
  fake.addJob({ userId: "user-late", jobId: "job-late", completesAfterMs: 60_000 });
  const counts = await reconcileJobs(options, [...list(), { userId: "user-late", jobId: "job-late" }]);
  assertEquals(counts, { processed: 3, duplicate: 0, pending: 1, failed: 0, skipped: 0, requests: 4 });
  const first = seen[0]!;
  assert(first.source === "reconcile");
  assertEquals(Object.keys(first).sort(), [
    "confirmed",
    "jobId",
    "replayKey",
    "replayTtlSeconds",
    "source",
    "status",
    "userId",
  ]);
  assertStrictEquals(first.status.jobComplete, true);
  assertStrictEquals(first.replayTtlSeconds, 2_592_000);
  // A second run finds every result done.
  assertEquals(await reconcileJobs(options, list()), {
    processed: 0,
    duplicate: 3,
    pending: 0,
    failed: 0,
    skipped: 0,
    requests: 3,
  });
  assertStrictEquals(seen.length, 3);
});

test("reconcileJobs() and the handler, sharing the default guard of one options object, run a result once either way", async () => {
  const { options, list, fake, runs, clock } = setup(4);
  const handler = createCallbackHandler(options);
  // Jobs 0 and 1 have their callback before reconciliation, jobs 2 and 3 after it.
  for (const job of ["job-0", "job-1"]) assertStrictEquals((await fake.sendCallback(job, handler)).status, 200);
  assertEquals((await reconcileJobs(options, list())).processed, 2);
  clock.advance(1);
  for (const job of ["job-2", "job-3", "job-0"]) {
    const response = await fake.sendCallback(job, handler);
    assertEquals(await response.json(), { ok: true, code: "duplicate" });
  }
  assertEquals(runs.sort(), ["callback job-0", "callback job-1", "reconcile job-2", "reconcile job-3"]);
});

test("reconcileJobs() never sends more than maxRequests requests, and counts the rest skipped", async () => {
  const { options, list, fake } = setup(10);
  const counts = await reconcileJobs(options, list(), { maxRequests: 4, concurrency: 3 });
  assertEquals(counts, { processed: 4, duplicate: 0, pending: 0, failed: 0, skipped: 6, requests: 4 });
  assertStrictEquals(fake.requests.length, 4);
  assertEquals((await reconcileJobs(options, list(), { maxRequests: 0 })).skipped, 10);
  assertStrictEquals(fake.requests.length, 4);
});

test("reconcileJobs() keeps at most concurrency requests in flight", async () => {
  // A barrier: requests wait until `expected` are in flight together, then all go on. With the
  // bound kept, 12 jobs pass in batches of exactly `expected`; more in flight would show in `most`.
  let expected = 4;
  let inFlight = 0;
  let most = 0;
  let waiting: (() => void)[] = [];
  const { options, list } = setup(12, {}, (fetch) => async (request, init) => {
    most = Math.max(most, ++inFlight);
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (waiting.length === expected) {
        for (const go of waiting) go();
        waiting = [];
      }
    });
    try {
      return await fetch(request, init);
    } finally {
      inFlight--;
    }
  });
  assertStrictEquals((await reconcileJobs(options, list())).processed, 12);
  assertStrictEquals(most, 4, "the default concurrency");
  expected = 2;
  most = 0;
  await reconcileJobs({ ...options, replayGuard: createMemoryReplayGuard() }, list(), { concurrency: 2 });
  assertStrictEquals(most, 2);
});

test("reconcileJobs() stops at an abort: requests in flight are aborted, the rest skipped, nothing rejects", async () => {
  const controller = new AbortController();
  let sent = 0;
  const { options, list } = setup(10, {}, (fetch) => (request, init) => {
    // The third request aborts the run from inside, deterministically.
    if (++sent === 3) controller.abort(new Error("shutting down"));
    return fetch(request, init);
  });
  const counts = await reconcileJobs(options, list(), { signal: controller.signal, concurrency: 1 });
  assertEquals(counts, { processed: 2, duplicate: 0, pending: 0, failed: 0, skipped: 8, requests: 3 });
  assertStrictEquals(sent, 3);
});

test("reconcileJobs() counts failures without rejecting, tells onFailed, and leaves a failed result to a redelivery", async () => {
  let fail = true;
  const { options, list, fake, runs } = setup(3, {
    onCallback: (result) => {
      if (result.source === "reconcile" && result.jobId === "job-1" && fail) throw new Error("database down");
      runs.push(`${result.source} ${result.source === "reconcile" ? result.jobId : result.payload.jobId}`);
    },
  });
  const failures: string[] = [];
  const jobs = [...list(), { userId: "nobody", jobId: "no-such-job" }];
  const counts = await reconcileJobs(options, jobs, {
    onFailed: (error, job) => {
      failures.push(`${job.jobId} ${error.code}`);
      throw new Error("logger down"); // ignored
    },
  });
  assertEquals(counts, { processed: 2, duplicate: 0, pending: 0, failed: 2, skipped: 0, requests: 4 });
  assertEquals(failures.sort(), ["job-1 callback_failed", "no-such-job http"]);
  // The failed run gave its lease up: the callback that comes later is processed.
  fail = false;
  const response = await fake.sendCallback("job-1", createCallbackHandler(options));
  assertEquals(await response.json(), { ok: true, code: "processed" });
  assertEquals(runs.sort(), ["callback job-1", "reconcile job-0", "reconcile job-2"]);
});

test("reconcileJobs() counts a result another delivery is processing right now as pending", async () => {
  const { options, list, client } = setup(1);
  const guard = createMemoryReplayGuard();
  const status = await client.getJobStatus(list()[0]!);
  assert(status.jobComplete);
  // A callback delivery holds the lease on the result's key (the key the handler would use).
  const fake2 = setup(1);
  const verified = await fake2.client.verifyCallback(await fake2.fake.buildCallback("job-0"), {
    confirm: true,
    replayGuard: false,
  });
  assertStrictEquals((await guard.begin(verified.replayKey, 60)).state, "claimed");
  assertEquals(await reconcileJobs({ ...options, replayGuard: guard }, list()), {
    processed: 0,
    duplicate: 0,
    pending: 1,
    failed: 0,
    skipped: 0,
    requests: 1,
  });
});

test("reconcileJobs() refuses confirm: false and bad arguments at once", async () => {
  const { options, list } = setup(1);
  const guard: ReplayGuard = createMemoryReplayGuard();
  await assertRejectsWithCode(
    () => reconcileJobs({ ...options, confirm: false } as never, list()),
    "invalid_argument",
    /confirm/,
  );
  for (
    const [jobs, bad] of [
      [list(), { concurrency: 0 }],
      [list(), { concurrency: 1.5 }],
      [list(), { maxRequests: -1 }],
      [list(), { signal: "stop" }],
      [list(), { onFailed: 1 }],
      [42, {}],
    ] as const
  ) {
    const error = await assertRejectsWithCode(
      () => reconcileJobs({ ...options, replayGuard: guard }, jobs as never, bad as never),
      "invalid_argument",
    );
    assert(error instanceof SmileIdError);
  }
});
