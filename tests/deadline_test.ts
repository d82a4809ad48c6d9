// Deadlines of any length: setTimeout fires at once for a delay above 2^31−1 ms (about 24.8
// days), so a long deadline must be waited in steps, not handed to one timer.
import { test } from "node:test";
import { assert, assertEquals, assertRejects, assertStrictEquals } from "@std/assert";
import { createClient, createSigner, waitForJobStatus } from "../mod.ts";
import { send } from "../src/transport.ts";
import { SmileIdError as SourceSmileIdError } from "../src/errors.ts";

// send() is internal, so the npm suite compiles it from the sources with its own copy of
// SmileIdError: check against that copy, not the package's.
async function sendRejects(fn: () => Promise<unknown>, code: string): Promise<SourceSmileIdError> {
  const error = await assertRejects(fn, SourceSmileIdError);
  assertStrictEquals(error.code, code);
  return error;
}
import { assertRejectsWithCode } from "./_helpers.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const query = { userId: "user-1", jobId: "job-1" };

/** A fetch that never answers and records the signal of each call. */
function silentFetch(): { fetch: (request: Request, init?: RequestInit) => Promise<Response>; signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  return {
    signals,
    fetch: (_request, init) => {
      if (init?.signal) signals.push(init.signal);
      return new Promise<Response>(() => {});
    },
  };
}

test("send() with a 25-day timeoutMs does not time out early", async () => {
  const silent = silentFetch();
  const started = Date.now();
  const error = await sendRejects(
    () =>
      send(
        new Request("https://api.example.com/v1/job_status", { method: "POST" }),
        { fetch: silent.fetch, timeoutMs: 25 * DAY_MS, signal: AbortSignal.timeout(50) },
        (response) => response.text(),
      ),
    "aborted",
  );
  assert(Date.now() - started >= 40, `settled after ${Date.now() - started} ms`);
  assertStrictEquals(error.message, "The request POST https://api.example.com/v1/job_status was aborted");
  assertStrictEquals(silent.signals.length, 1);
});

test("createClient() with a 25-day timeoutMs does not time out early, in the client or per call", async () => {
  for (const where of ["client", "call"] as const) {
    const silent = silentFetch();
    const client = createClient({
      partnerId: "085",
      apiKey: "deadline-test-key",
      fetch: silent.fetch,
      ...(where === "client" ? { timeoutMs: 25 * DAY_MS } : {}),
    });
    const options = { signal: AbortSignal.timeout(50), ...(where === "call" ? { timeoutMs: 25 * DAY_MS } : {}) };
    await assertRejectsWithCode(() => client.getJobStatus(query, options), "aborted", /was aborted$/, where);
    assertStrictEquals(silent.signals.length, 1, where);
  }
});

test("waitForJobStatus() with a 30-day deadline neither times out nor gives up on a request early", async () => {
  const silent = silentFetch();
  const client = createClient({ partnerId: "085", apiKey: "deadline-test-key", fetch: silent.fetch });
  const progress: unknown[] = [];
  await assertRejectsWithCode(
    () =>
      waitForJobStatus(client, query, {
        timeoutMs: 30 * DAY_MS,
        intervalMs: 1,
        signal: AbortSignal.timeout(50),
        onProgress: (p) => progress.push(p),
      }),
    "aborted",
    /was aborted/,
  );
  // One request, cut by the caller's abort only: a clamped timer would have timed it out and retried.
  assertStrictEquals(silent.signals.length, 1);
  assertEquals(progress.map((p) => (p as { error?: { code?: string } }).error?.code), ["aborted"]);
  const reason = silent.signals[0]!.reason as { code?: string };
  assertStrictEquals(reason.code, "aborted");
});

test("a 25-day request deadline and a 30-day polling deadline let a slow answer arrive", async () => {
  const smile = createSigner({ partnerId: "085", apiKey: "deadline-test-key" });
  let calls = 0;
  const client = createClient({
    partnerId: "085",
    apiKey: "deadline-test-key",
    timeoutMs: 25 * DAY_MS,
    fetch: async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 30));
      return Response.json({ job_complete: true, result: {}, ...(await smile.sign()) });
    },
  });
  // The signal only bounds this test, should the deadlines fire early and polling go on and on.
  const status = await client.waitForJobStatus(query, { timeoutMs: 30 * DAY_MS, signal: AbortSignal.timeout(5000) });
  assertStrictEquals(status.jobComplete, true);
  assertStrictEquals(calls, 1);
});
