import { test } from "node:test";
import { assert, assertEquals, assertGreater, assertInstanceOf, assertRejects, assertStrictEquals } from "@std/assert";
import {
  type Clock,
  createClient,
  createSigner,
  type FetchLike,
  type JobStatus,
  type JobStatusReader,
  type JsonObject,
  pollDelays,
  type PollProgress,
  SmileIdError,
  type SmileIdErrorCode,
  waitForJobStatus,
  type WaitForJobStatusOptions,
} from "../mod.ts";
import { createFakeSmileId } from "../src/testing/mod.ts";
import { assertRejectsWithCode, assertThrowsWithCode } from "./_helpers.ts";

const partnerId = "085";
const apiKey = "poll-test-secret-key-0123456789";
const smile = createSigner({ partnerId, apiKey });
const query = { userId: "user-1", jobId: "job-1" };
const noJitter = () => 0;

/** A virtual clock: sleeping advances time at once and records the wait. */
function virtualClock() {
  let time = 1_000_000;
  const sleeps: number[] = [];
  const clock: Clock = {
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

test("waitForJobStatus() returns the status once the job completes after N attempts, signing each afresh", async () => {
  const { fetch, bodies } = smileFetch([processing, processing, complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock, sleeps } = virtualClock();
  const status = await waitForJobStatus(client, query, { clock, random: noJitter });
  assertStrictEquals(status.jobComplete, true);
  assertStrictEquals(status.code, "2302");
  assertStrictEquals(bodies.length, 3);
  assertEquals(sleeps, [2000, 3000]);
  for (const body of bodies) {
    assertStrictEquals(body.user_id, "user-1");
    assertStrictEquals(await smile.verify(body.timestamp, body.signature), true);
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
  assertStrictEquals(calls, 8);
  assertEquals(sleeps, [2000, 3000, 4500, 6750, 8000, 8000, 8000]);
});

test("waitForJobStatus() calls onProgress after every attempt", async () => {
  const { fetch } = smileFetch([processing, new TypeError("connection reset"), complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock } = virtualClock();
  const progress: PollProgress[] = [];
  await waitForJobStatus(client, query, { clock, random: noJitter, onProgress: (p) => progress.push(p) });
  assertEquals(progress.map((p) => [p.attempt, p.elapsedMs, p.nextDelayMs]), [
    [1, 0, 2000],
    [2, 2000, 3000],
    [3, 5000, undefined],
  ]);
  assertStrictEquals(progress[0]?.status?.jobComplete, false);
  assertStrictEquals(progress[0]?.error, undefined);
  assertStrictEquals(progress[1]?.status, undefined);
  assertStrictEquals(progress[1]?.error?.code, "transport");
  assertStrictEquals(progress[2]?.status?.jobComplete, true);
});

test("waitForJobStatus() rejects with code timeout carrying the last status and the attempt count", async () => {
  const { fetch } = smileFetch([processing]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock, sleeps } = virtualClock();
  const error = await assertRejectsWithCode(
    () => waitForJobStatus(client, query, { clock, random: noJitter, timeoutMs: 10_000 }),
    "timeout",
    /4 attempts/,
  );
  assertStrictEquals(error.attempts, 4);
  const last: JobStatus | undefined = error.lastStatus; // typed: no cast needed
  assert(last !== undefined);
  assertStrictEquals(last.jobComplete, false);
  assertStrictEquals(last.result, "No zip uploaded");
  // The last wait is cut to what is left of the deadline.
  assertEquals(sleeps, [2000, 3000, 4500, 500]);
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
  const error = await assertRejectsWithCode(
    () => waitForJobStatus(reader, query, { clock, random: noJitter, timeoutMs: 5000 }),
    "timeout",
  );
  assertStrictEquals(error.attempts, 2);
  // 5000 at once; then 0.7 s of request and a 2 s wait leave 2300. The next wait is cut to the
  // 1600 ms left, so no third request starts.
  assertEquals(timeouts, [5000, 2300]);
});

test("waitForJobStatus() cuts a request in flight at the deadline", async () => {
  const { fetch, bodies } = smileFetch([processing, "hang"]);
  const client = createClient({ partnerId, apiKey, fetch });
  // On virtual time the first wait leaves 10 ms of the minute: the second request, which never
  // answers, gets those 10 real milliseconds and is cut. (The first gets the client's 30 s.)
  const { clock } = virtualClock();
  const error = await assertRejectsWithCode(
    () => client.waitForJobStatus(query, { clock, random: noJitter, intervalMs: 59_990, timeoutMs: 60_000 }),
    "timeout",
    /the deadline cut the last request/,
  );
  assertStrictEquals(error.attempts, 2);
  assertStrictEquals(error.lastStatus?.jobComplete, false);
  assertInstanceOf(error.cause, SmileIdError);
  assertStrictEquals(error.cause.code, "timeout");
  assertStrictEquals(bodies.length, 2);
});

test("waitForJobStatus() retries a single request that timed out before the deadline", async () => {
  const { fetch, bodies } = smileFetch(["hang", complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  // The first request never answers and its 30 ms deadline cuts it; the retry gets 30 s, so
  // that how long verifying the answer takes on a loaded machine does not matter.
  let calls = 0;
  const reader: JobStatusReader = {
    getJobStatus: (q, options) => client.getJobStatus(q, ++calls === 1 ? options : { ...options, timeoutMs: 30_000 }),
  };
  const progress: PollProgress[] = [];
  const { clock } = virtualClock();
  const status = await waitForJobStatus(reader, query, {
    clock,
    requestTimeoutMs: 30,
    onProgress: (p) => progress.push(p),
  });
  assertStrictEquals(status.jobComplete, true);
  assertStrictEquals(bodies.length, 2);
  assertStrictEquals(progress[0]?.error?.code, "timeout");
  assertStrictEquals(progress[0]?.nextDelayMs !== undefined, true, "the timed-out request is retried");
});

test("waitForJobStatus() rejects with code aborted when aborted while waiting, leaving no timer", async () => {
  const { fetch, bodies } = smileFetch([processing]);
  const client = createClient({ partnerId, apiKey, fetch });
  const controller = new AbortController();
  const started = Date.now();
  const error = await assertRejectsWithCode(
    () =>
      client.waitForJobStatus(query, {
        intervalMs: 3_600_000, // real clock: only an abortable sleep ends this test before an hour
        maxIntervalMs: 3_600_000,
        timeoutMs: 7_200_000,
        signal: controller.signal,
        onProgress: () => queueMicrotask(() => controller.abort(new Error("user left"))),
      }),
    "aborted",
  );
  assertStrictEquals(error.attempts, 1);
  assertStrictEquals(error.lastStatus?.jobComplete, false);
  assertStrictEquals(bodies.length, 1);
  // Generous: the wait it cut was an hour.
  assert(Date.now() - started < 60_000);
});

test("waitForJobStatus() rejects with code aborted when aborted during a request", async () => {
  const controller = new AbortController();
  const { fetch: smile } = smileFetch([processing, "hang"]);
  // Aborts from inside fetch, as the 2nd request reaches it (and hangs there): no timer involved.
  // Counted as fetch is called: the stand-in reads the body later than the abort is seen.
  let calls = 0;
  const fetch: FetchLike = (request, init) => {
    if (++calls === 2) controller.abort();
    return smile(request, init);
  };
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock } = virtualClock();
  const error = await assertRejectsWithCode(
    () => client.waitForJobStatus(query, { clock, signal: controller.signal }),
    "aborted",
  );
  assertStrictEquals(calls, 2);
  assertStrictEquals(error.attempts, 2);
  assertStrictEquals(error.lastStatus?.jobComplete, false, "the first answer, kept through the aborted request");
  assert(error.cause instanceof SmileIdError && error.cause.code === "aborted", "the request's own error is the cause");
});

test("waitForJobStatus() with an already aborted signal sends nothing", async () => {
  const { fetch, bodies } = smileFetch([complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const error = await assertRejectsWithCode(
    () => client.waitForJobStatus(query, { signal: AbortSignal.abort() }),
    "aborted",
  );
  assertStrictEquals(error.attempts, 0);
  assertStrictEquals(bodies.length, 0);
});

test("waitForJobStatus() honours Retry-After in seconds", async () => {
  const { fetch, bodies } = smileFetch([errorResponse(503, { error: "busy" }, { "retry-after": "7" }), complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock, sleeps } = virtualClock();
  const status = await waitForJobStatus(client, query, { clock, random: noJitter });
  assertStrictEquals(status.jobComplete, true);
  assertStrictEquals(bodies.length, 2);
  assertEquals(sleeps, [7000]);
});

test("waitForJobStatus() honours Retry-After as an HTTP date", async () => {
  const at = new Date(Date.now() + 20_000).toUTCString();
  const { fetch } = smileFetch([errorResponse(429, { error: "slow down" }, { "retry-after": at }), complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock, sleeps } = virtualClock();
  await waitForJobStatus(client, query, { clock, random: noJitter });
  assertStrictEquals(sleeps.length, 1);
  assert(sleeps[0]! > 15_000 && sleeps[0]! <= 20_000, `waited ${sleeps[0]} ms`);
});

test("waitForJobStatus() never waits less than the schedule when Retry-After is shorter", async () => {
  const { fetch } = smileFetch([errorResponse(503, {}, { "retry-after": "0" }), complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock, sleeps } = virtualClock();
  await waitForJobStatus(client, query, { clock, random: noJitter });
  assertEquals(sleeps, [2000]);
});

test("waitForJobStatus() gives up at once when Retry-After lies beyond the deadline", async () => {
  const { fetch, bodies } = smileFetch([errorResponse(429, {}, { "retry-after": "600" }), complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock, sleeps } = virtualClock();
  const error = await assertRejectsWithCode(
    () => waitForJobStatus(client, query, { clock, timeoutMs: 60_000 }),
    "timeout",
    /Retry-After/,
  );
  assertStrictEquals(error.attempts, 1);
  assertInstanceOf(error.cause, SmileIdError);
  assertStrictEquals(error.cause.status, 429);
  assertStrictEquals(bodies.length, 1);
  assertEquals(sleeps, []);
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
  assertStrictEquals(status.jobComplete, true);
  assertStrictEquals(bodies.length, 7);
  assertEquals(progress.map((p) => p.error?.status ?? p.error?.code), [
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
  // Each case: its name, the first answer, the error's code, and the status and Smile ID code where checked.
  const cases: Array<[string, Answer, SmileIdErrorCode, number?, string?]> = [
    [
      "HTTP 401 with Smile ID 2205",
      errorResponse(401, { code: "2205", error: "You are not authorized to do that" }),
      "http",
      401,
      "2205",
    ],
    ["HTTP 400 with Smile ID 2204", errorResponse(400, { code: "2204", error: "unauthorized" }), "http"],
    ["HTTP 404", errorResponse(404, {}), "http", 404],
    [
      "a response signed with another key",
      Response.json({ ...complete, ...(await wrongKey.sign()) }),
      "signature_mismatch",
    ],
    ["a body without job_complete", { result: "x" }, "schema"],
    ["a body that is not JSON", new Response("<html>"), "unexpected_response"],
  ];
  for (const [name, answer, code, status, smileCode] of cases) {
    const { fetch, bodies } = smileFetch([answer, complete]);
    const client = createClient({ partnerId, apiKey, fetch });
    const { clock, sleeps } = virtualClock();
    const error = await assertRejectsWithCode(() => waitForJobStatus(client, query, { clock }), code, undefined, name);
    if (status !== undefined) assertStrictEquals(error.status, status, name);
    if (smileCode !== undefined) assertStrictEquals(error.smileCode, smileCode, name);
    assertStrictEquals(bodies.length, 1, name);
    assertEquals(sleeps, [], name);
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
  const error = await assertRejects(() => waitForJobStatus(reader, query, { clock: virtualClock().clock }));
  assertStrictEquals(error, boom);
  assertStrictEquals(calls, 1);
});

test("waitForJobStatus() polls on real timers with small intervals", async () => {
  const { fetch, bodies } = smileFetch([processing, processing, processing, complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const started = Date.now();
  const status = await client.waitForJobStatus(query, { intervalMs: 10, maxIntervalMs: 20 });
  const elapsed = Date.now() - started;
  assertStrictEquals(status.jobComplete, true);
  assertStrictEquals(bodies.length, 4);
  assert(elapsed >= 30, `took ${elapsed} ms`); // waits of at least 9 + 13.5 + 18 ms (no upper bound: loaded machines are slow)
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
      { clock: {} as Clock },
      { clock: { now: () => Number.NaN, sleep: () => Promise.resolve() } },
      { random: 0.5 as unknown as () => number },
    ]
  ) {
    await assertRejectsWithCode(
      () => client.waitForJobStatus(query, options),
      "invalid_argument",
      undefined,
      JSON.stringify(options),
    );
  }
  await assertRejectsWithCode(() => waitForJobStatus({} as JobStatusReader, query), "invalid_argument");
  await assertRejectsWithCode(
    () => waitForJobStatus(client, query, null as unknown as WaitForJobStatusOptions),
    "invalid_argument",
  );
  assertStrictEquals(bodies.length, 0);
});

test("waitForJobStatus() ends with code timeout when the clock stops returning numbers", async () => {
  let calls = 0;
  let time = 0;
  const clock: Clock = {
    now: () => (calls >= 2 ? Number.NaN : time),
    sleep: (ms) => Promise.resolve(void (time += ms)),
  };
  const reader: JobStatusReader = {
    getJobStatus: () => Promise.resolve({ jobComplete: ++calls > 100 } as JobStatus),
  };
  await assertRejectsWithCode(() => waitForJobStatus(reader, query, { clock }), "timeout");
  assertStrictEquals(calls, 2);
});

test("pollDelays() gives the schedule, with jitter only ever shortening a wait by up to 10%", () => {
  assertEquals(pollDelays(6, { random: noJitter }), [2000, 3000, 4500, 6750, 8000, 8000]);
  assertEquals(pollDelays(4, { intervalMs: 100, maxIntervalMs: 200, random: noJitter }), [100, 150, 200, 200]);
  assertEquals(pollDelays(3, { random: () => 0.999999 }), [1800, 2700, 4050]);
  for (const delay of pollDelays(50)) assert(delay >= 1800 && delay <= 8000);
  assertEquals(pollDelays(1, { intervalMs: 10_000, random: noJitter }), [10_000]);
  assertEquals(pollDelays(2, { random: () => Number.NaN }), [2000, 3000]);
  assertThrowsWithCode(() => pollDelays(1, { maxIntervalMs: 1000 }), "invalid_argument");
  assertThrowsWithCode(
    () => pollDelays(1, { random: 0.5 as unknown as () => number }),
    "invalid_argument",
    /^Option random must be a function, got /,
  );
});

test("waitForJobStatus() never retries HTTP 429 with Smile ID's code 2222 (an ID number blocked until reset)", async () => {
  const blocked = () =>
    errorResponse(429, { code: "2222", error: "This ID number has been blocked due to multiple submissions" }, {
      "retry-after": "1",
    });
  const { fetch, bodies } = smileFetch([blocked(), complete]);
  const client = createClient({ partnerId, apiKey, fetch });
  const { clock, sleeps } = virtualClock();
  const error = await assertRejectsWithCode(() => waitForJobStatus(client, query, { clock }), "http");
  assertStrictEquals(error.status, 429);
  assertStrictEquals(error.smileCode, "2222");
  assertStrictEquals(bodies.length, 1);
  assertEquals(sleeps, []);
  // A 429 without that code is still retried.
  const busy = smileFetch([errorResponse(429, { code: "2999", error: "Slow down" }), complete]);
  const retried = await waitForJobStatus(createClient({ partnerId, apiKey, fetch: busy.fetch }), query, {
    clock: virtualClock().clock,
  });
  assertStrictEquals(retried.jobComplete, true);
  assertStrictEquals(busy.bodies.length, 2);
});

test("waitForJobStatus() polls a job that is not found yet until it appears, within notFoundGraceMs", async () => {
  const { clock, sleeps } = virtualClock();
  const fake = createFakeSmileId({ partnerId, apiKey, clock });
  fake.addJob({ ...query, appearsAfterMs: 4000, completesAfterMs: 7000 });
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch, clock });
  const progress: PollProgress[] = [];
  const status = await waitForJobStatus(client, query, {
    clock,
    random: noJitter,
    onProgress: (p) => progress.push(p),
  });
  assertStrictEquals(status.jobComplete, true);
  assertEquals(progress.map((p) => p.error?.smileCode ?? p.status?.jobComplete), ["2210", "2210", false, true]);
  assertEquals(sleeps, [2000, 3000, 4500]);
});

test("waitForJobStatus() ends on not found once notFoundGraceMs has passed, or at once with 0", async () => {
  for (const [grace, attempts] of [[0, 1], [5000, 3], [undefined, 11]] as const) {
    const { clock } = virtualClock();
    const fake = createFakeSmileId({ partnerId, apiKey, clock });
    const client = createClient({ partnerId, apiKey, fetch: fake.fetch, clock });
    const error = await assertRejectsWithCode(
      () =>
        waitForJobStatus(client, query, {
          clock,
          random: noJitter,
          timeoutMs: 600_000,
          ...(grace === undefined ? {} : { notFoundGraceMs: grace }),
        }),
      "http",
      undefined,
      `grace ${grace}`,
    );
    assertEquals([error.status, error.smileCode], [404, "2210"], `grace ${grace}`);
    // Attempts at 0, 2, 5, 9.5 s … (8 s steps after): the grace 60 s default covers 11 of them.
    assertStrictEquals(fake.requests.length, attempts, `grace ${grace}`);
  }
});

test("waitForJobStatus() does not take a 404 for not found yet once a status was seen, or without a Smile ID code", async () => {
  const seen = smileFetch([processing, errorResponse(404, { code: "2210", error: "No job found" }), complete]);
  const client = createClient({ partnerId, apiKey, fetch: seen.fetch });
  await assertRejectsWithCode(() => waitForJobStatus(client, query, { clock: virtualClock().clock }), "http");
  assertStrictEquals(seen.bodies.length, 2);
  const bare = smileFetch([errorResponse(404, {}), complete]);
  await assertRejectsWithCode(
    () =>
      waitForJobStatus(createClient({ partnerId, apiKey, fetch: bare.fetch }), query, { clock: virtualClock().clock }),
    "http",
  );
  assertStrictEquals(bare.bodies.length, 1);
  await assertRejectsWithCode(
    () => waitForJobStatus(client, query, { notFoundGraceMs: -1 }),
    "invalid_argument",
    /notFoundGraceMs must be a number of milliseconds, 0 or more, got -1/,
  );
});

test("waitForJobStatus() keeps polling a job answered with code 2314 until the deadline", async () => {
  const { clock } = virtualClock();
  const fake = createFakeSmileId({ partnerId, apiKey, clock });
  fake.addJob({ ...query, missingZip: true });
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch, clock });
  const error = await assertRejectsWithCode(
    () => waitForJobStatus(client, query, { clock, timeoutMs: 20_000 }),
    "timeout",
  );
  const last: JobStatus | undefined = error.lastStatus; // typed: no cast needed
  assert(last !== undefined);
  assertEquals([last.jobComplete, last.code, last.result], [false, "2314", "No zip file received"]);
  assertGreater(fake.requests.length, 3);
});

test("waitForJobStatus() does not retry an answer bound to another request", async () => {
  const echoed: string[] = [];
  const reflect: FetchLike = async (request) => {
    const sent = await request.json();
    echoed.push(sent.timestamp);
    return Response.json({ ...complete, timestamp: sent.timestamp, signature: sent.signature });
  };
  await assertRejectsWithCode(
    () => waitForJobStatus(createClient({ partnerId, apiKey, fetch: reflect }), query, { clock: virtualClock().clock }),
    "signature_mismatch",
    /request's own timestamp and signature/,
  );
  assertStrictEquals(echoed.length, 1, "no second ask, no polling retry");
  const other = smileFetch([{ ...complete, result: { ResultCode: "1012", PartnerParams: { user_id: "user-2" } } }]);
  await assertRejectsWithCode(
    () =>
      waitForJobStatus(createClient({ partnerId, apiKey, fetch: other.fetch }), query, { clock: virtualClock().clock }),
    "answer_mismatch",
  );
  assertStrictEquals(other.bodies.length, 1);
});
