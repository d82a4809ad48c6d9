// Faults over a real socket: a server on 127.0.0.1 that misbehaves on purpose, reached through
// the runtime's own global fetch. Each case asserts the documented SmileIdError code, that the
// call settled within its deadline, and that nothing stayed open afterwards.

import { test } from "node:test";
import { assert, assertEquals, AssertionError, assertMatch, assertStrictEquals } from "@std/assert";
import { Buffer } from "node:buffer";
import process from "node:process";
import type { Socket } from "node:net";
import { createClient, createSigner, type JsonObject, SmileIdError, type SmileIdErrorCode } from "../../mod.ts";
import type { ClientConfig, GetJobStatusOptions, JobStatus, PollProgress, SmileIdClient } from "../../mod.ts";
import { createFakeSmileId } from "../../src/testing/mod.ts";
import {
  activeResources,
  type Behaviour,
  head,
  runtime,
  settleResources,
  startFetchServer,
  startRawServer,
  type TestServer,
  truncatedJson,
  writeResponse,
} from "./_fault_server.ts";

const partnerId = "085";
const apiKey = "faults-test-key-4c1d";
const serverSigner = createSigner({ partnerId, apiKey });
const query = { userId: "user-1", jobId: "job-1" };

/** How much later than its deadline a call may settle on a loaded 2-core machine. */
const MARGIN_MS = 1500;

const unhandled: unknown[] = [];
process.on("unhandledRejection", (reason) => {
  unhandled.push(reason);
});

async function signedAnswer(extra: JsonObject = {}): Promise<string> {
  return JSON.stringify({
    job_complete: true,
    job_success: true,
    code: "2302",
    result: { ResultCode: "1012", ResultText: "ID Validated", PartnerParams: { user_id: "user-1", job_id: "job-1" } },
    ...extra,
    // Signed a minute ago, as a fixture made before the call: a timestamp in the request's own
    // millisecond would repeat its pair, which the client refuses once and asks again.
    ...(await serverSigner.sign(new Date(Date.now() - 60_000))),
  });
}

interface FaultCase {
  /** What the server does with each request. */
  readonly behaviour: Behaviour;
  /** Client options on top of partner, key and server. */
  readonly client?: Partial<ClientConfig>;
  /** Per-call options of the default call, `getJobStatus`. */
  readonly call?: GetJobStatusOptions;
  /** Another call to make instead of `getJobStatus(query, call)`. */
  readonly act?: (client: SmileIdClient) => Promise<unknown>;
  /** The call must settle within this many milliseconds (plus MARGIN_MS). */
  readonly deadlineMs: number;
  /** Extra servers the case needs (closed with the main one). */
  readonly others?: readonly TestServer[];
}

interface Outcome {
  readonly error: SmileIdError | undefined;
  readonly value: unknown;
  readonly elapsedMs: number;
  readonly server: TestServer;
}

/**
 * Runs one call against a misbehaving server and checks that it settled in time and left no
 * socket or timer behind (where the runtime reports them).
 */
async function run(fault: FaultCase): Promise<Outcome> {
  const baseline = activeResources();
  const server = await startRawServer(fault.behaviour);
  let outcome: Outcome;
  try {
    const client = createClient({ partnerId, apiKey, server: server.base, ...fault.client });
    const started = performance.now();
    let error: SmileIdError | undefined;
    let value: unknown;
    try {
      value = await (fault.act ? fault.act(client) : client.getJobStatus(query, fault.call));
    } catch (caught) {
      if (!(caught instanceof SmileIdError)) {
        throw new AssertionError(`expected a SmileIdError, got ${caught}`, { cause: caught });
      }
      error = caught;
    }
    outcome = { error, value, elapsedMs: performance.now() - started, server };
  } finally {
    await server.close();
    for (const other of fault.others ?? []) await other.close();
  }
  assert(
    outcome.elapsedMs < fault.deadlineMs + MARGIN_MS,
    `settled after ${Math.round(outcome.elapsedMs)} ms, deadline ${fault.deadlineMs} ms`,
  );
  if (baseline !== undefined) {
    assertEquals(await settleResources(baseline), {}, "resources left open after the case");
  }
  return outcome;
}

function expectCode(outcome: Outcome, code: SmileIdErrorCode): SmileIdError {
  assert(outcome.error, `expected code ${code}, but the call resolved with ${JSON.stringify(outcome.value)}`);
  assertStrictEquals(outcome.error.code, code, `message: ${outcome.error.message}`);
  return outcome.error;
}

/** Runs `action` once the bytes written so far have left, after a short pause. */
function afterFlush(socket: Socket, data: Uint8Array | string, action: () => void): void {
  socket.write(data, () => {
    const timer = setTimeout(action, 50);
    socket.once("close", () => clearTimeout(timer));
  });
}

test(
  runtime === "bun"
    ? "leak checks are skipped in Bun: process.getActiveResourcesInfo() returns [] even with a server and a timer open"
    : `leak checks work in ${runtime}: an open server and a timer show up in process.getActiveResourcesInfo()`,
  async () => {
    const baseline = activeResources() ?? new Map<string, number>();
    const server = await startRawServer(() => {});
    const timer = setTimeout(() => {}, 10_000);
    try {
      const extra = await settleResources(baseline, 50);
      if (runtime === "bun") assertEquals(process.getActiveResourcesInfo(), []);
      else assertEquals(extra, { TCPServerWrap: 1, Timeout: 1 });
    } finally {
      clearTimeout(timer);
      await server.close();
    }
    if (runtime !== "bun") assertEquals(await settleResources(baseline), {});
  },
);

test("getJobStatus() resolves through a well-behaved socket server (control case)", async () => {
  const body = await signedAnswer();
  const outcome = await run({
    behaviour: (socket) => writeResponse(socket, 200, { "content-type": "application/json" }, body),
    deadlineMs: 2000,
  });
  assertStrictEquals(outcome.error, undefined);
  assertStrictEquals((outcome.value as { jobComplete: boolean }).jobComplete, true);
  assertStrictEquals(outcome.server.requests.length, 1);
  const sent = JSON.parse(outcome.server.requests[0]!.body);
  assertStrictEquals(sent.partner_id, partnerId);
  assertStrictEquals(sent.job_id, "job-1");
});

test("getJobStatus() rejects with code transport when the connection is reset before any response", async () => {
  const outcome = await run({ behaviour: (socket) => socket.resetAndDestroy(), deadlineMs: 2000 });
  const error = expectCode(outcome, "transport");
  assert(error.cause !== undefined, "the fetch error is kept as cause");
});

test("getJobStatus() rejects with code transport when the connection is reset after the headers", async () => {
  const body = await signedAnswer();
  const outcome = await run({
    behaviour: (socket) => afterFlush(socket, truncatedJson(body, 20), () => socket.resetAndDestroy()),
    deadlineMs: 2000,
  });
  expectCode(outcome, "transport");
});

test("getJobStatus() rejects with code transport when the connection closes before the declared length", async () => {
  const body = await signedAnswer();
  const outcome = await run({
    behaviour: (socket) => socket.end(truncatedJson(body, body.length / 2)),
    deadlineMs: 2000,
  });
  expectCode(outcome, "transport");
});

test("getJobStatus() rejects with code timeout when the server accepts and never answers", async () => {
  const outcome = await run({ behaviour: () => {}, client: { timeoutMs: 300 }, deadlineMs: 300 });
  const error = expectCode(outcome, "timeout");
  assert(outcome.elapsedMs >= 290, `timed out early, after ${outcome.elapsedMs} ms`);
  assertMatch(error.message, /300 ms/);
});

test("getJobStatus() rejects with code timeout when the headers stall halfway", async () => {
  const outcome = await run({
    behaviour: (socket) => socket.write("HTTP/1.1 200 OK\r\ncontent-type: appl"),
    call: { timeoutMs: 300 },
    deadlineMs: 300,
  });
  expectCode(outcome, "timeout");
});

test("getJobStatus() rejects with code timeout when the body stalls halfway", async () => {
  const body = await signedAnswer();
  const outcome = await run({
    behaviour: (socket) => socket.write(truncatedJson(body, body.length / 2)),
    call: { timeoutMs: 400 },
    deadlineMs: 400,
  });
  expectCode(outcome, "timeout");
  assert(outcome.elapsedMs >= 390, `timed out early, after ${outcome.elapsedMs} ms`);
});

test("getJobStatus() rejects with code aborted when the caller aborts while the body stalls", async () => {
  const body = await signedAnswer();
  const controller = new AbortController();
  const outcome = await run({
    behaviour: (socket) =>
      afterFlush(socket, truncatedJson(body, 10), () => controller.abort(new Error("caller gave up"))),
    call: { signal: controller.signal, timeoutMs: 10_000 },
    deadlineMs: 1000,
  });
  expectCode(outcome, "aborted");
});

test("getJobStatus() rejects with code unexpected_response for a truncated JSON body", async () => {
  const body = (await signedAnswer()).slice(0, 40);
  const outcome = await run({
    behaviour: (socket) => writeResponse(socket, 200, { "content-type": "application/json" }, body),
    deadlineMs: 2000,
  });
  const error = expectCode(outcome, "unexpected_response");
  assertStrictEquals(error.body, body);
});

test("getJobStatus() rejects with code unexpected_response for an empty 200", async () => {
  const outcome = await run({
    behaviour: (socket) => writeResponse(socket, 200, { "content-type": "application/json" }, ""),
    deadlineMs: 2000,
  });
  const error = expectCode(outcome, "unexpected_response");
  assertMatch(error.message, /empty body/);
});

test("getJobStatus() rejects with code unexpected_response for a 200 without length that closes at once", async () => {
  const outcome = await run({
    behaviour: (socket) => socket.end(head(200, { "content-type": "application/json" })),
    deadlineMs: 2000,
  });
  expectCode(outcome, "unexpected_response");
});

test("getJobStatus() rejects with code unexpected_response for an HTML 200 page", async () => {
  const outcome = await run({
    behaviour: (socket) =>
      writeResponse(socket, 200, { "content-type": "text/html" }, "<html><body>Maintenance</body></html>"),
    deadlineMs: 2000,
  });
  expectCode(outcome, "unexpected_response");
});

test("getJobStatus() rejects with code http and status 502 for an HTML 502 page", async () => {
  const page = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>";
  const outcome = await run({
    behaviour: (socket) => writeResponse(socket, 502, { "content-type": "text/html" }, page),
    deadlineMs: 2000,
  });
  const error = expectCode(outcome, "http");
  assertStrictEquals(error.status, 502);
  assertStrictEquals(error.body, page);
  assertStrictEquals(error.smileCode, undefined);
});

test("getJobStatus() rejects with code http carrying Smile ID's code for a 401 error body", async () => {
  const outcome = await run({
    behaviour: (socket) =>
      writeResponse(
        socket,
        401,
        { "content-type": "application/json" },
        '{"code":"2205","error":"You are not authorized to do that"}',
      ),
    deadlineMs: 2000,
  });
  const error = expectCode(outcome, "http");
  assertStrictEquals(error.status, 401);
  assertStrictEquals(error.smileCode, "2205");
  assertStrictEquals(error.serverMessage, "You are not authorized to do that");
});

for (const status of [301, 302, 303, 307, 308]) {
  test(`getJobStatus() rejects with code http for a ${status} redirect to another host and does not follow it`, async () => {
    const other = await startRawServer((socket) => writeResponse(socket, 200, {}, "{}"), "127.0.0.2");
    // Control: the other host is reachable, so no connection below means the redirect was not followed.
    const probe = await fetch(`${other.base}/probe`);
    assertStrictEquals(await probe.text(), "{}");
    assertStrictEquals(other.connections(), 1);
    const location = `${other.base}/job_status`;
    const outcome = await run({
      behaviour: (socket) => writeResponse(socket, status, { location }, ""),
      deadlineMs: 2000,
      others: [other],
    });
    const error = expectCode(outcome, "http");
    assertStrictEquals(error.status, status);
    assert(error.message.includes(location), error.message);
    assertStrictEquals(other.connections(), 1, "the other host must not be contacted");
    assertEquals(other.requests.map((r) => r.path), ["/v1/probe"]);
  });
}

test("getJobStatus() rejects with code payload_too_large when Content-Length exceeds maxResponseBytes", async () => {
  const big = await signedAnswer({ padding: "x".repeat(200_000) });
  const outcome = await run({
    behaviour: (socket) => writeResponse(socket, 200, { "content-type": "application/json" }, big),
    client: { maxResponseBytes: 64 * 1024 },
    deadlineMs: 2000,
  });
  const error = expectCode(outcome, "payload_too_large");
  assertMatch(error.message, /65536/);
});

test("getJobStatus() rejects with code payload_too_large for an endless chunked body without reading it all", async () => {
  let sent = 0;
  const outcome = await run({
    behaviour: (socket) => {
      socket.write(head(200, { "content-type": "application/json", "transfer-encoding": "chunked" }));
      const chunk = Buffer.from(`4000\r\n${"y".repeat(0x4000)}\r\n`);
      const pump = () => {
        while (!socket.destroyed && sent < 64 * 1024 * 1024) {
          sent += 0x4000;
          if (!socket.write(chunk)) return void socket.once("drain", pump);
        }
      };
      pump();
    },
    client: { maxResponseBytes: 256 * 1024 },
    deadlineMs: 3000,
  });
  expectCode(outcome, "payload_too_large");
  assert(sent < 64 * 1024 * 1024, "the client stopped reading long before the server ran out");
});

test("getJobStatus() rejects with code http for an oversized error page", async () => {
  const outcome = await run({
    behaviour: (socket) => writeResponse(socket, 503, { "content-type": "text/html" }, "z".repeat(300_000)),
    client: { maxResponseBytes: 64 * 1024 },
    deadlineMs: 2000,
  });
  const error = expectCode(outcome, "http");
  assertStrictEquals(error.status, 503);
  assert(error.cause instanceof SmileIdError && error.cause.code === "payload_too_large");
});

test("getJobStatus() rejects with code signature_mismatch for an answer signed with another key", async () => {
  const forger = createSigner({ partnerId, apiKey: "not-the-partner-key" });
  const body = JSON.stringify({ job_complete: true, job_success: true, ...(await forger.sign()) });
  const outcome = await run({
    behaviour: (socket) => writeResponse(socket, 200, { "content-type": "application/json" }, body),
    deadlineMs: 2000,
  });
  expectCode(outcome, "signature_mismatch");
});

// ---- polling over a real socket ----------------------------------------------------------------

/** A signed job-status answer, written as a complete 200 response. */
async function answer(socket: Socket, jobComplete: boolean): Promise<void> {
  writeResponse(socket, 200, { "content-type": "application/json" }, await signedAnswer({ job_complete: jobComplete }));
}

function progressCodes(progress: PollProgress[]): string[] {
  return progress.map((p) => p.error?.code ?? (p.status?.jobComplete ? "complete" : "processing"));
}

test("waitForJobStatus() recovers from a reset, 500, 502, 503, 504 and an HTML 502 within its deadline", async () => {
  const progress: PollProgress[] = [];
  const outcome = await run({
    behaviour: (socket, _request, index) => {
      switch (index) {
        case 0:
          return socket.resetAndDestroy();
        case 1:
          return writeResponse(socket, 500, { "content-type": "application/json" }, '{"error":"System error"}');
        case 2:
          return writeResponse(socket, 502, { "content-type": "text/html" }, "<html><h1>502 Bad Gateway</h1></html>");
        case 3:
          return writeResponse(socket, 503, { "content-type": "text/plain" }, "Service Unavailable");
        case 4:
          return writeResponse(socket, 504, { "content-type": "text/html" }, "<html>Gateway Timeout</html>");
        case 5:
          return void answer(socket, false);
        default:
          return void answer(socket, true);
      }
    },
    act: (client) =>
      client.waitForJobStatus(query, {
        intervalMs: 10,
        maxIntervalMs: 20,
        timeoutMs: 5000,
        onProgress: (p) => progress.push(p),
      }),
    deadlineMs: 5000,
  });
  assertStrictEquals(outcome.error, undefined, outcome.error?.message);
  assertStrictEquals((outcome.value as { jobComplete: boolean }).jobComplete, true);
  assertStrictEquals(outcome.server.requests.length, 7);
  assertEquals(progressCodes(progress), [
    "transport",
    "http",
    "http",
    "http",
    "http",
    "processing",
    "complete",
  ]);
  assertEquals(progress.slice(1, 5).map((p) => p.error?.status), [500, 502, 503, 504]);
  // Every attempt is signed afresh.
  const signatures = new Set(outcome.server.requests.map((r) => JSON.parse(r.body).signature));
  assert(signatures.size >= 2);
});

test("waitForJobStatus() retries a request the client's timeoutMs cut, within the overall deadline", async () => {
  const progress: PollProgress[] = [];
  const outcome = await run({
    behaviour: (socket, _request, index) => (index === 0 ? undefined : void answer(socket, true)),
    client: { timeoutMs: 200 },
    act: (client) =>
      client.waitForJobStatus(query, { intervalMs: 10, timeoutMs: 3000, onProgress: (p) => progress.push(p) }),
    deadlineMs: 3000,
  });
  assertStrictEquals(outcome.error, undefined, outcome.error?.message);
  assertEquals(progressCodes(progress), ["timeout", "complete"]);
  assert(outcome.elapsedMs >= 190, `${outcome.elapsedMs} ms`);
});

test("waitForJobStatus() waits out a 429 with Retry-After in seconds, then succeeds", async () => {
  const outcome = await run({
    behaviour: (socket, _request, index) =>
      index === 0
        ? writeResponse(
          socket,
          429,
          { "retry-after": "1", "content-type": "application/json" },
          '{"error":"slow down"}',
        )
        : void answer(socket, true),
    act: (client) => client.waitForJobStatus(query, { intervalMs: 10, timeoutMs: 5000 }),
    deadlineMs: 1000 + 500,
  });
  assertStrictEquals(outcome.error, undefined, outcome.error?.message);
  const [first, second] = outcome.server.requests;
  assert(first && second);
  assert(second.at - first.at >= 980, `retried after ${Math.round(second.at - first.at)} ms, asked for 1000`);
});

test("waitForJobStatus() waits out a 429 with Retry-After as an HTTP date, then succeeds", async () => {
  let asked = 0;
  const outcome = await run({
    behaviour: (socket, _request, index) => {
      if (index > 0) return void answer(socket, true);
      // The next whole second plus one: between 1 and 2 seconds from now.
      const at = Math.ceil(Date.now() / 1000) * 1000 + 1000;
      asked = at - Date.now();
      writeResponse(socket, 429, { "retry-after": new Date(at).toUTCString() }, "");
    },
    act: (client) => client.waitForJobStatus(query, { intervalMs: 10, timeoutMs: 5000 }),
    deadlineMs: 2000 + 500,
  });
  assertStrictEquals(outcome.error, undefined, outcome.error?.message);
  const [first, second] = outcome.server.requests;
  assert(first && second);
  assert(second.at - first.at >= asked - 50, `retried after ${Math.round(second.at - first.at)} ms, asked ${asked}`);
});

test("waitForJobStatus() gives up at once with code timeout when Retry-After lies beyond its deadline", async () => {
  const outcome = await run({
    behaviour: (socket) => writeResponse(socket, 503, { "retry-after": "60" }, "busy"),
    act: (client) => client.waitForJobStatus(query, { intervalMs: 10, timeoutMs: 2000 }),
    deadlineMs: 500,
  });
  const error = expectCode(outcome, "timeout");
  assertStrictEquals(error.attempts, 1);
  assertStrictEquals(outcome.server.requests.length, 1);
  assertMatch(error.message, /Retry-After/);
});

test("waitForJobStatus() cuts a request in flight at its deadline with code timeout", async () => {
  const outcome = await run({
    behaviour: () => {},
    client: { timeoutMs: 30_000 },
    act: (client) => client.waitForJobStatus(query, { intervalMs: 10, timeoutMs: 400 }),
    deadlineMs: 400,
  });
  expectCode(outcome, "timeout");
  assert(outcome.elapsedMs >= 390, `${outcome.elapsedMs} ms`);
});

test("waitForJobStatus() rejects with code timeout carrying the last status when the job never completes", async () => {
  const outcome = await run({
    behaviour: (socket) => void answer(socket, false),
    act: (client) => client.waitForJobStatus(query, { intervalMs: 20, maxIntervalMs: 40, timeoutMs: 400 }),
    deadlineMs: 400,
  });
  const error = expectCode(outcome, "timeout");
  assert((error.attempts ?? 0) >= 2);
  assertStrictEquals(error.lastStatus?.jobComplete, false);
  // The deadline may cut the last attempt before its request reached the server.
  const attempts = error.attempts ?? 0;
  const received = outcome.server.requests.length;
  assert(received === attempts || received === attempts - 1, `${received} requests for ${attempts} attempts`);
});

test("waitForJobStatus() stops at once on a 401 with Smile ID's 2205 (not retryable)", async () => {
  const outcome = await run({
    behaviour: (socket) =>
      writeResponse(socket, 401, { "content-type": "application/json" }, '{"code":"2205","error":"unauthorized"}'),
    act: (client) => client.waitForJobStatus(query, { intervalMs: 10, timeoutMs: 5000 }),
    deadlineMs: 500,
  });
  const error = expectCode(outcome, "http");
  assertStrictEquals(error.smileCode, "2205");
  assertStrictEquals(outcome.server.requests.length, 1);
});

// ---- 200 concurrent calls against the fake over loopback ---------------------------------------

test("getJobStatus() × 200 concurrent calls against the fake over loopback: all settle, none crosses over", async () => {
  const baseline = activeResources();
  const fake = createFakeSmileId({ partnerId, apiKey });
  const known = 180;
  for (let i = 0; i < known; i++) {
    fake.addJob({
      userId: `user-${i}`,
      jobId: `job-${i}`,
      result: { ResultCode: "1012", ResultText: `result of job ${i}`, SmileJobID: String(i).padStart(10, "0") },
    });
  }
  // Calls 180-199 ask for jobs the fake does not know (404). The faults hit whichever 20
  // requests arrive first: 10 answered 503 and 5 dropped before the body is read, 5 answered
  // with a bad signature (a 200 only for a known job; an unknown one still gets its 404).
  fake.injectFault({ status: 503, times: 10 });
  fake.injectFault({ badSignature: true, times: 5 });
  fake.injectFault({ networkError: true, times: 5 });
  const server = await startFetchServer(fake.fetch);
  let settled: PromiseSettledResult<JobStatus>[];
  const started = performance.now();
  try {
    const client = createClient({ partnerId, apiKey, server: server.base, timeoutMs: 20_000 });
    settled = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => client.getJobStatus({ userId: `user-${i}`, jobId: `job-${i}` })),
    );
  } finally {
    await server.close();
  }
  const elapsed = performance.now() - started;
  assert(elapsed < 20_000, `took ${Math.round(elapsed)} ms`);
  assertStrictEquals(settled.length, 200);
  assertStrictEquals(fake.requests.length, 200, "one request per call: no retries, nothing lost");
  assertStrictEquals(fake.requests.filter((r) => r.faulted).length, 20);

  // What the fake answered each job that it read; faults that answer before reading the body
  // (503, dropped connection) are not tied to a job.
  const answered = new Map(fake.requests.filter((r) => r.jobId !== undefined).map((r) => [r.jobId, r]));
  const untied: Record<string, number> = {};
  settled.forEach((outcome, i) => {
    const record = answered.get(`job-${i}`);
    const error = outcome.status === "rejected" ? outcome.reason : undefined;
    assert(error === undefined || error instanceof SmileIdError, `call ${i} rejected with ${error}`);
    if (record === undefined) {
      assert(error, `call ${i} succeeded although its request was faulted`);
      const key = error.code === "http" ? `http ${error.status}` : error.code;
      untied[key] = (untied[key] ?? 0) + 1;
      return;
    }
    assertStrictEquals(record.userId, `user-${i}`);
    if (record.status === 404) {
      assert(i >= known && error?.code === "http" && error.status === 404, `call ${i}: ${error?.message}`);
    } else if (record.faulted) {
      assertStrictEquals(record.status, 200);
      assertStrictEquals(error?.code, "signature_mismatch", `call ${i}`);
    } else {
      assertStrictEquals(outcome.status, "fulfilled", `call ${i}: ${error?.message}`);
      const result = (outcome as PromiseFulfilledResult<JobStatus>).value.result;
      assert(typeof result === "object");
      assertStrictEquals(result.partnerParams?.userId, `user-${i}`);
      assertStrictEquals(result.partnerParams?.jobId, `job-${i}`);
      assertStrictEquals(result.resultText, `result of job ${i}`);
      assertStrictEquals(result.smileJobId, String(i).padStart(10, "0"));
    }
  });
  assertEquals(untied, { "http 503": 10, transport: 5 });
  const succeeded = settled.filter((outcome) => outcome.status === "fulfilled").length;
  assert(succeeded >= known - 20, `${succeeded} calls succeeded`);
  if (baseline !== undefined) assertEquals(await settleResources(baseline), {}, "resources left open");
});

test(`no unhandled rejection was seen during the fault cases (${runtime})`, () => {
  assertEquals(unhandled, []);
});
