// Deadlines of any length: setTimeout fires at once for a delay above 2^31−1 ms (about 24.8
// days), so a long deadline must be waited in steps, not handed to one timer.
import { test } from "node:test";
import { assertEquals, assertRejects, assertStrictEquals } from "@std/assert";
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

/**
 * A fetch that never answers and records the signal of each call. Once called, it aborts
 * `controller` on a 20 ms timer: a deadline timer clamped to fire at once (1 ms) was set before
 * the fetch was called, so it would fire first, whatever the machine's load. No test here
 * depends on how long anything takes.
 */
function silentFetch(controller?: AbortController): {
  fetch: (request: Request, init?: RequestInit) => Promise<Response>;
  signals: AbortSignal[];
} {
  const signals: AbortSignal[] = [];
  return {
    signals,
    fetch: (_request, init) => {
      if (init?.signal) signals.push(init.signal);
      if (controller) setTimeout(() => controller.abort(new Error("the test is done")), 20);
      return new Promise<Response>(() => {});
    },
  };
}

test("send() with a 25-day timeoutMs does not time out early", async () => {
  const controller = new AbortController();
  const silent = silentFetch(controller);
  const error = await sendRejects(
    () =>
      send(
        new Request("https://api.example.com/v1/job_status", { method: "POST" }),
        { fetch: silent.fetch, timeoutMs: 25 * DAY_MS, signal: controller.signal },
        (response) => response.text(),
      ),
    "aborted",
  );
  assertStrictEquals(error.message, "The request POST https://api.example.com/v1/job_status was aborted");
  assertStrictEquals(silent.signals.length, 1);
});

test("createClient() with a 25-day timeoutMs does not time out early, in the client or per call", async () => {
  for (const where of ["client", "call"] as const) {
    const controller = new AbortController();
    const silent = silentFetch(controller);
    const client = createClient({
      partnerId: "085",
      apiKey: "deadline-test-key",
      fetch: silent.fetch,
      ...(where === "client" ? { timeoutMs: 25 * DAY_MS } : {}),
    });
    const options = { signal: controller.signal, ...(where === "call" ? { timeoutMs: 25 * DAY_MS } : {}) };
    await assertRejectsWithCode(() => client.getJobStatus(query, options), "aborted", /was aborted$/, where);
    assertStrictEquals(silent.signals.length, 1, where);
  }
});

test("waitForJobStatus() with a 30-day deadline neither times out nor gives up on a request early", async () => {
  const controller = new AbortController();
  const silent = silentFetch(controller);
  const client = createClient({ partnerId: "085", apiKey: "deadline-test-key", fetch: silent.fetch });
  const progress: unknown[] = [];
  await assertRejectsWithCode(
    () =>
      waitForJobStatus(client, query, {
        timeoutMs: 30 * DAY_MS,
        intervalMs: 1,
        signal: controller.signal,
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
  // A second request means the first was cut early; it ends the test instead of polling on.
  const stop = new AbortController();
  let calls = 0;
  const client = createClient({
    partnerId: "085",
    apiKey: "deadline-test-key",
    timeoutMs: 25 * DAY_MS,
    fetch: async () => {
      if (++calls > 1) stop.abort(new Error("a request was cut early and sent again"));
      // Answers on a 30 ms timer, set after the deadline timers: a clamped one fires first.
      await new Promise((resolve) => setTimeout(resolve, 30));
      return Response.json({ job_complete: true, result: {}, ...(await smile.sign()) });
    },
  });
  const status = await client.waitForJobStatus(query, { timeoutMs: 30 * DAY_MS, signal: stop.signal });
  assertStrictEquals(status.jobComplete, true);
  assertStrictEquals(calls, 1);
});
