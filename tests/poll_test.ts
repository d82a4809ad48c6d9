import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createClient,
  createSigner,
  type FetchLike,
  type JobStatus,
  type JobStatusReader,
  type JsonObject,
  type PollClock,
  pollDelays,
  type PollProgress,
  SmileIdError,
  waitForJobStatus,
  type WaitOptions,
} from "../mod.ts";

const partnerId = "085";
const apiKey = "poll-test-secret-key-0123456789";
const smile = createSigner({ partnerId, apiKey });
const query = { userId: "user-1", jobId: "job-1" };
const noJitter = () => 0;

/** A virtual clock: sleeping advances time at once and records the wait. */
function virtualClock() {
  let time = 1_000_000;
  const sleeps: number[] = [];
  const clock: PollClock = {
    now: () => time,
    sleep: (ms) => {
      sleeps.push(ms);
      time += ms;
      return Promise.resolve();
    },
  };
  return { clock, sleeps, advance: (ms: number) => (time += ms) };
}

type Answer = JsonObject | Response | Error | "hang";

/** An in-process Smile ID: answers each request with the next answer (the last one repeats). */
function smileFetch(answers: Answer[]) {
  const bodies: Array<Record<string, unknown>> = [];
  const fetch: FetchLike = async (request, init) => {
    bodies.push(await request.json());
    const answer = answers[Math.min(bodies.length, answers.length) - 1]!;
    if (answer === "hang") {
      return await new Promise<Response>((_, reject) => {
        const signal = init?.signal;
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
    if (answer instanceof Error) throw answer;
    if (answer instanceof Response) return answer;
    return Response.json({ ...answer, ...(await smile.sign()) });
  };
  return { fetch, bodies };
}

const processing: JsonObject = { job_complete: false, job_success: false, result: "No zip uploaded" };
const complete: JsonObject = {
  job_complete: true,
  job_success: true,
  code: "2302",
  result: { ResultCode: "1012", ResultText: "ID Number Validated" },
};

function errorResponse(status: number, body: JsonObject, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers });
}

function isCode(code: string, check: (error: SmileIdError) => boolean = () => true) {
  return (error: unknown) => error instanceof SmileIdError && error.code === code && check(error);
}

test("waitForJobStatus() returns the status once the job completes after N attempts, signing each afresh", async () => {
  const { fetch, bodies } = smileFetch([processing, processing, complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock, sleeps } = virtualClock();
  const status = await waitForJobStatus(client, query, { clock, random: noJitter });
  assert.equal(status.jobComplete, true);
  assert.equal(status.code, "2302");
  assert.equal(bodies.length, 3);
  assert.deepEqual(sleeps, [2000, 3000]);
  for (const body of bodies) {
    assert.equal(body.user_id, "user-1");
    assert.equal(await smile.verify(body.timestamp, body.signature), true);
  }
});

test("waitForJobStatus() checks at once, then waits 2 s growing by 1.5 up to 8 s", async () => {
  let calls = 0;
  const reader: JobStatusReader = {
    getJobStatus: async () => {
      calls++;
      return await Promise.resolve({ jobComplete: calls === 8 } as JobStatus);
    },
  };
  const { clock, sleeps } = virtualClock();
  await waitForJobStatus(reader, query, { clock, random: noJitter });
  assert.equal(calls, 8);
  assert.deepEqual(sleeps, [2000, 3000, 4500, 6750, 8000, 8000, 8000]);
});

test("waitForJobStatus() calls onProgress after every attempt", async () => {
  const { fetch } = smileFetch([processing, new TypeError("connection reset"), complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock } = virtualClock();
  const progress: PollProgress[] = [];
  await waitForJobStatus(client, query, { clock, random: noJitter, onProgress: (p) => progress.push(p) });
  assert.deepEqual(progress.map((p) => [p.attempt, p.elapsedMs, p.nextDelayMs]), [
    [1, 0, 2000],
    [2, 2000, 3000],
    [3, 5000, undefined],
  ]);
  assert.equal(progress[0]?.status?.jobComplete, false);
  assert.equal(progress[0]?.error, undefined);
  assert.equal(progress[1]?.status, undefined);
  assert.equal(progress[1]?.error?.code, "transport");
  assert.equal(progress[2]?.status?.jobComplete, true);
});

test("waitForJobStatus() rejects with code timeout carrying the last status and the attempt count", async () => {
  const { fetch } = smileFetch([processing]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock, sleeps } = virtualClock();
  await assert.rejects(
    waitForJobStatus(client, query, { clock, random: noJitter, timeoutMs: 10_000 }),
    isCode("timeout", (error) => {
      const last = error.lastStatus as JobStatus;
      return error.attempts === 4 && last.jobComplete === false && last.result === "No zip uploaded" &&
        /4 attempts/.test(error.message);
    }),
  );
  // The last wait is cut to what is left of the deadline.
  assert.deepEqual(sleeps, [2000, 3000, 4500, 500]);
});

test("waitForJobStatus() gives each request only the time left before the deadline", async () => {
  const timeouts: Array<number | undefined> = [];
  const { clock, advance } = virtualClock();
  const reader: JobStatusReader = {
    getJobStatus: (_query, options) => {
      timeouts.push(options?.timeoutMs);
      advance(700); // each request takes 0.7 s of virtual time
      return Promise.resolve({ jobComplete: false } as JobStatus);
    },
  };
  await assert.rejects(
    waitForJobStatus(reader, query, { clock, random: noJitter, timeoutMs: 5000 }),
    isCode("timeout", (error) => error.attempts === 2),
  );
  // 5000 at once; then 0.7 s of request and a 2 s wait leave 2300. The next wait is cut to the
  // 1600 ms left, so no third request starts.
  assert.deepEqual(timeouts, [5000, 2300]);
});

test("waitForJobStatus() cuts a request in flight at the deadline", async () => {
  const { fetch, bodies } = smileFetch([processing, "hang"]);
  const client = createClient({ partnerId, apiKey, fetch });
  const started = Date.now();
  await assert.rejects(
    client.waitForJobStatus(query, { intervalMs: 5, timeoutMs: 150 }),
    isCode("timeout", (error) =>
      error.attempts === 2 && (error.lastStatus as JobStatus).jobComplete === false &&
      error.cause instanceof SmileIdError && error.cause.code === "timeout"),
  );
  assert.equal(bodies.length, 2);
  assert.ok(Date.now() - started < 2000, "the hanging request did not outlive the deadline");
});

test("waitForJobStatus() retries a single request that timed out before the deadline", async () => {
  const { fetch, bodies } = smileFetch(["hang", complete]);
  const client = createClient({ partnerId, apiKey, fetch, timeoutMs: 30 });
  const progress: PollProgress[] = [];
  const status = await client.waitForJobStatus(query, {
    intervalMs: 1,
    timeoutMs: 5000,
    onProgress: (p) => progress.push(p),
  });
  assert.equal(status.jobComplete, true);
  assert.equal(bodies.length, 2);
  assert.equal(progress[0]?.error?.code, "timeout");
});

test("waitForJobStatus() rejects with code aborted when aborted while waiting, leaving no timer", async () => {
  const { fetch, bodies } = smileFetch([processing]);
  const client = createClient({ partnerId, apiKey, fetch });
  const controller = new AbortController();
  const started = Date.now();
  await assert.rejects(
    client.waitForJobStatus(query, {
      intervalMs: 60_000, // real clock: only an abortable sleep ends this test quickly
      signal: controller.signal,
      onProgress: () => queueMicrotask(() => controller.abort(new Error("user left"))),
    }),
    isCode("aborted", (error) => error.attempts === 1 && (error.lastStatus as JobStatus).jobComplete === false),
  );
  assert.equal(bodies.length, 1);
  assert.ok(Date.now() - started < 2000);
});

test("waitForJobStatus() rejects with code aborted when aborted during a request", async () => {
  const controller = new AbortController();
  const { fetch, bodies } = smileFetch([processing, "hang"]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock } = virtualClock();
  await assert.rejects(
    client.waitForJobStatus(query, {
      clock,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.attempt === 1) setTimeout(() => controller.abort(), 5); // fires during the hanging 2nd request
      },
    }),
    isCode("aborted"),
  );
  assert.equal(bodies.length, 2);
});

test("waitForJobStatus() with an already aborted signal sends nothing", async () => {
  const { fetch, bodies } = smileFetch([complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  await assert.rejects(
    client.waitForJobStatus(query, { signal: AbortSignal.abort() }),
    isCode("aborted", (error) => error.attempts === 0),
  );
  assert.equal(bodies.length, 0);
});

test("waitForJobStatus() honours Retry-After in seconds", async () => {
  const { fetch, bodies } = smileFetch([errorResponse(503, { error: "busy" }, { "retry-after": "7" }), complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock, sleeps } = virtualClock();
  const status = await waitForJobStatus(client, query, { clock, random: noJitter });
  assert.equal(status.jobComplete, true);
  assert.equal(bodies.length, 2);
  assert.deepEqual(sleeps, [7000]);
});

test("waitForJobStatus() honours Retry-After as an HTTP date", async () => {
  const at = new Date(Date.now() + 20_000).toUTCString();
  const { fetch } = smileFetch([errorResponse(429, { error: "slow down" }, { "retry-after": at }), complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock, sleeps } = virtualClock();
  await waitForJobStatus(client, query, { clock, random: noJitter });
  assert.equal(sleeps.length, 1);
  assert.ok(sleeps[0]! > 15_000 && sleeps[0]! <= 20_000, `waited ${sleeps[0]} ms`);
});

test("waitForJobStatus() never waits less than the schedule when Retry-After is shorter", async () => {
  const { fetch } = smileFetch([errorResponse(503, {}, { "retry-after": "0" }), complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock, sleeps } = virtualClock();
  await waitForJobStatus(client, query, { clock, random: noJitter });
  assert.deepEqual(sleeps, [2000]);
});

test("waitForJobStatus() gives up at once when Retry-After lies beyond the deadline", async () => {
  const { fetch, bodies } = smileFetch([errorResponse(429, {}, { "retry-after": "600" }), complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock, sleeps } = virtualClock();
  await assert.rejects(
    waitForJobStatus(client, query, { clock, timeoutMs: 60_000 }),
    isCode("timeout", (error) =>
      error.attempts === 1 && /Retry-After/.test(error.message) &&
      error.cause instanceof SmileIdError && error.cause.status === 429),
  );
  assert.equal(bodies.length, 1);
  assert.deepEqual(sleeps, []);
});

test("waitForJobStatus() retries transport failures and HTTP 429, 500, 502, 503, 504", async () => {
  const { fetch, bodies } = smileFetch([
    new TypeError("fetch failed"),
    errorResponse(429, {}),
    errorResponse(500, {}),
    errorResponse(502, {}),
    errorResponse(503, {}),
    errorResponse(504, {}),
    complete,
  ]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock } = virtualClock();
  const progress: PollProgress[] = [];
  const status = await waitForJobStatus(client, query, {
    clock,
    random: noJitter,
    timeoutMs: 600_000,
    onProgress: (p) => progress.push(p),
  });
  assert.equal(status.jobComplete, true);
  assert.equal(bodies.length, 7);
  assert.deepEqual(progress.map((p) => p.error?.status ?? p.error?.code), [
    "transport",
    429,
    500,
    502,
    503,
    504,
    undefined,
  ]);
});

test("waitForJobStatus() does not retry permanent errors", async () => {
  const wrongKey = createSigner({ partnerId, apiKey: "another-key" });
  const cases: Array<[string, Answer, (error: unknown) => boolean]> = [
    [
      "HTTP 401 with Smile ID 2205",
      errorResponse(401, { code: "2205", error: "You are not authorized to do that" }),
      isCode("http", (e) => e.status === 401 && e.smileCode === "2205"),
    ],
    ["HTTP 400 with Smile ID 2204", errorResponse(400, { code: "2204", error: "unauthorized" }), isCode("http")],
    ["HTTP 404", errorResponse(404, {}), isCode("http", (e) => e.status === 404)],
    [
      "a response signed with another key",
      Response.json({ ...complete, ...(await wrongKey.sign()) }),
      isCode("signature_mismatch"),
    ],
    ["a body without job_complete", { result: "x" }, isCode("schema")],
    ["a body that is not JSON", new Response("<html>"), isCode("unexpected_response")],
  ];
  for (const [name, answer, check] of cases) {
    const { fetch, bodies } = smileFetch([answer, complete]);
    const client = createClient({ partnerId, apiKey, fetch });
    const { clock, sleeps } = virtualClock();
    await assert.rejects(waitForJobStatus(client, query, { clock }), check, name);
    assert.equal(bodies.length, 1, name);
    assert.deepEqual(sleeps, [], name);
  }
});

test("waitForJobStatus() passes a non-SmileIdError from a custom reader through without retrying", async () => {
  let calls = 0;
  const boom = new RangeError("bug in reader");
  const reader: JobStatusReader = {
    getJobStatus: () => {
      calls++;
      return Promise.reject(boom);
    },
  };
  await assert.rejects(waitForJobStatus(reader, query, { clock: virtualClock().clock }), (error) => error === boom);
  assert.equal(calls, 1);
});

test("waitForJobStatus() polls on real timers with small intervals", async () => {
  const { fetch, bodies } = smileFetch([processing, processing, processing, complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const started = Date.now();
  const status = await client.waitForJobStatus(query, { intervalMs: 10, maxIntervalMs: 20 });
  const elapsed = Date.now() - started;
  assert.equal(status.jobComplete, true);
  assert.equal(bodies.length, 4);
  assert.ok(elapsed >= 30 && elapsed < 2000, `took ${elapsed} ms`); // waits ≥ 9 + 13 + 18 ms
});

test("waitForJobStatus() refuses bad options before sending anything", async () => {
  const { fetch, bodies } = smileFetch([complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  for (
    const options of [
      { intervalMs: 0 },
      { timeoutMs: -1 },
      { intervalMs: 5000, maxIntervalMs: 1000 },
      { requestTimeoutMs: Number.NaN },
      { onProgress: "yes" as unknown as () => void },
      { signal: {} as AbortSignal },
      { clock: {} as PollClock },
      { clock: { now: () => Number.NaN, sleep: () => Promise.resolve() } },
      { random: 0.5 as unknown as () => number },
    ]
  ) {
    await assert.rejects(client.waitForJobStatus(query, options), isCode("invalid_argument"), JSON.stringify(options));
  }
  await assert.rejects(waitForJobStatus({} as JobStatusReader, query), isCode("invalid_argument"));
  await assert.rejects(waitForJobStatus(client, query, null as unknown as WaitOptions), isCode("invalid_argument"));
  assert.equal(bodies.length, 0);
});

test("waitForJobStatus() ends with code timeout when the clock stops returning numbers", async () => {
  let calls = 0;
  let time = 0;
  const clock: PollClock = {
    now: () => (calls >= 2 ? Number.NaN : time),
    sleep: (ms) => Promise.resolve(void (time += ms)),
  };
  const reader: JobStatusReader = {
    getJobStatus: () => Promise.resolve({ jobComplete: ++calls > 100 } as JobStatus),
  };
  await assert.rejects(waitForJobStatus(reader, query, { clock }), isCode("timeout"));
  assert.equal(calls, 2);
});

test("pollDelays() gives the schedule, with jitter only ever shortening a wait by up to 10%", () => {
  assert.deepEqual(pollDelays(6, { random: noJitter }), [2000, 3000, 4500, 6750, 8000, 8000]);
  assert.deepEqual(pollDelays(4, { intervalMs: 100, maxIntervalMs: 200, random: noJitter }), [100, 150, 200, 200]);
  assert.deepEqual(pollDelays(3, { random: () => 0.999999 }), [1800, 2700, 4050]);
  for (const delay of pollDelays(50)) assert.ok(delay >= 1800 && delay <= 8000);
  assert.deepEqual(pollDelays(1, { intervalMs: 10_000, random: noJitter }), [10_000]);
  assert.deepEqual(pollDelays(2, { random: () => Number.NaN }), [2000, 3000]);
  assert.throws(() => pollDelays(1, { maxIntervalMs: 1000 }), isCode("invalid_argument"));
});
