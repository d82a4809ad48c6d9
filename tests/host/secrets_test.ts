// The API key must never leave the library in readable form: not in an error's message, stack,
// cause, JSON or inspected form, not in anything the library returns, not on the wire, not in
// the CLI's output, and not in what console.log prints. This file drives every failure path it
// can, collects all of that text, and searches it for the key.

import { test } from "node:test";
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotStrictEquals,
  assertStrictEquals,
  assertThrows,
  fail,
} from "@std/assert";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import process from "node:process";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { SmileIdError } from "../../src/errors.ts";
import { createSigner, generateSignature, verifySignature } from "../../src/signature.ts";
import { createClient, type SmileIdClient } from "../../src/client.ts";
import { parseJobStatusResponse } from "../../src/response.ts";
import { buildJobStatusRequest } from "../../src/request.ts";
import { waitForJobStatus } from "../../src/poll.ts";
import { verifyCallback } from "../../src/callback.ts";
import { createMemoryReplayGuard } from "../../src/replay_guard.ts";
import { createFakeSmileId } from "../../src/testing/mod.ts";
import { main } from "../../src/cli.ts";
import type { JsonObject } from "../../src/types.ts";
import { head, runtime, startRawServer, type TestServer, writeResponse } from "./_fault_server.ts";

/** A distinctive key: any of these forms in any output is a leak. */
const API_KEY = "sk_test_NEVER-PRINT-ME_5b0e1f2a9c7d";
const NEEDLES = [
  API_KEY,
  "NEVER-PRINT-ME_5b0e", // a piece of it, in case something truncates
  btoa(API_KEY).slice(0, 40),
  encodeURIComponent(API_KEY),
  Array.from(new TextEncoder().encode(API_KEY), (b) => b.toString(16).padStart(2, "0")).join(""),
  JSON.stringify(Array.from(new TextEncoder().encode(API_KEY))).slice(1, 40),
];
const partnerId = "085";
const query = { userId: "user-1", jobId: "job-1" };

/** Everything collected so far: where it came from, and the text. */
const collected: { where: string; text: string }[] = [];

/** Every text form of a value: inspected (plain and with hidden fields), String, JSON, and for errors message and stack; then the same for each property, recursively. */
function collect(where: string, value: unknown, seen = new Set<unknown>(), depth = 0): void {
  const add = (form: string, render: () => unknown) => {
    try {
      const text = render();
      if (typeof text === "string") collected.push({ where: `${where} (${form})`, text });
    } catch {
      // A form that cannot be produced (a cycle for JSON, …) shows nothing.
    }
  };
  if (typeof value === "string") return add("string", () => value);
  if (typeof value !== "object" && typeof value !== "function") return add("String", () => String(value));
  if (value === null || seen.has(value) || depth > 6) return;
  seen.add(value);
  if (depth === 0) {
    add("inspect", () => inspect(value));
    add("inspect showHidden", () => inspect(value, { showHidden: true, depth: 20, getters: true }));
    add("JSON", () => JSON.stringify(value));
  }
  add("String", () => String(value));
  if (value instanceof Error) {
    add("message", () => value.message);
    add("stack", () => value.stack);
    if ("cause" in value) collect(`${where}.cause`, value.cause, seen, depth + 1);
  }
  if (typeof value === "function") return;
  for (const key of Reflect.ownKeys(value)) {
    let child: unknown;
    try {
      child = (value as Record<PropertyKey, unknown>)[key];
    } catch {
      continue;
    }
    collect(`${where}.${String(key)}`, child, seen, depth + 1);
  }
}

/** The outcome of a call: its value or what it threw, collected either way. */
async function collectCall(where: string, call: () => unknown): Promise<unknown> {
  let outcome: unknown;
  try {
    outcome = await call();
  } catch (error) {
    outcome = error;
  }
  collect(where, outcome);
  return outcome;
}

function assertNoSecret(texts: readonly { where: string; text: string }[]): void {
  for (const { where, text } of texts) {
    for (const needle of NEEDLES) {
      const at = text.indexOf(needle);
      if (at !== -1) {
        fail(`the API key leaked in ${where}: …${text.slice(Math.max(0, at - 120), at + needle.length + 40)}…`);
      }
    }
  }
}

/** Runs `act` against a raw server with `behaviour`, collecting the outcome and what went over the wire. */
async function overSocket(
  where: string,
  behaviour: (socket: Socket, body: string, index: number) => void,
  act: (client: SmileIdClient) => Promise<unknown>,
  clientOptions: { timeoutMs?: number; maxResponseBytes?: number } = {},
): Promise<unknown> {
  let server: TestServer | undefined;
  try {
    server = await startRawServer((socket, request, index) => behaviour(socket, request.body, index));
    const client = createClient({ partnerId, apiKey: API_KEY, server: server.base, ...clientOptions });
    const outcome = await collectCall(where, () => act(client));
    for (const request of server.requests) {
      collected.push({ where: `${where}: request on the wire`, text: JSON.stringify(request) });
    }
    return outcome;
  } finally {
    await server?.close();
  }
}

const smile = createSigner({ partnerId, apiKey: API_KEY });

async function signedBody(extra: JsonObject = {}): Promise<string> {
  return JSON.stringify({
    job_complete: true,
    job_success: true,
    code: "2302",
    result: {},
    ...extra,
    ...(await smile.sign()),
  });
}

const getStatus = (client: SmileIdClient) => client.getJobStatus(query);

test("the leak detector finds a key in a nested cause, a hidden field, base64 or a fragment", () => {
  const hidden = {};
  Object.defineProperty(hidden, "secret", { value: `x${API_KEY}`, enumerable: false });
  const probes = [
    new SmileIdError("http", "outer", { cause: new Error("inner", { cause: { deep: [API_KEY] } }) }),
    hidden,
    { encoded: btoa(API_KEY) },
    `…${API_KEY.slice(5, 30)}…`,
  ];
  for (const probe of probes) {
    const before = collected.length;
    collect("probe", probe);
    const texts = collected.splice(before);
    const error = assertThrows(() => assertNoSecret(texts), inspect(probe));
    assertMatch(String(error), /leaked/, inspect(probe));
  }
});

test("the client, its signer and the fake hold the key out of sight", () => {
  const client = createClient({ partnerId, apiKey: API_KEY });
  collect("client", client);
  collect("client.signer", client.signer);
  collect("createSigner()", createSigner({ partnerId, apiKey: API_KEY }));
  collect("fake", createFakeSmileId({ partnerId, apiKey: API_KEY }));
  collect(
    "request",
    buildJobStatusRequest({ server: 0, partnerId, ...query, signed: { signature: "s", timestamp: "t" } }),
  );
  assert(collected.some((c) => c.text.includes(partnerId)), "the collector saw the objects");
  assertNoSecret(collected);
});

test("configuration errors never quote the API key", async () => {
  const cases: [string, () => unknown][] = [
    ["numeric partner id", () => createClient({ partnerId: 85 as unknown as string, apiKey: API_KEY })],
    ["empty partner id", () => createSigner({ partnerId: "", apiKey: API_KEY })],
    ["key in an object", () => createSigner({ partnerId, apiKey: { key: API_KEY } as unknown as string })],
    ["key in an array", () => createSigner({ partnerId, apiKey: [API_KEY] as unknown as string })],
    ["key boxed", () => createSigner({ partnerId, apiKey: new String(API_KEY) as unknown as string })],
    ["key as bytes", () => createSigner({ partnerId, apiKey: new TextEncoder().encode(API_KEY) as unknown as string })],
    ["plain http server", () => createClient({ partnerId, apiKey: API_KEY, server: "http://example.com/v1" })],
    ["ftp server", () => createClient({ partnerId, apiKey: API_KEY, server: "ftp://example.com" })],
    ["bad timeout", () => createClient({ partnerId, apiKey: API_KEY, timeoutMs: -1 })],
    ["bad fetch", () => createClient({ partnerId, apiKey: API_KEY, fetch: "fetch" as unknown as typeof fetch })],
    ["numeric timestamp", () => generateSignature({ partnerId, apiKey: API_KEY, timestamp: 1 as unknown as string })],
    ["invalid Date", () => generateSignature({ partnerId, apiKey: API_KEY, timestamp: new Date(NaN) })],
    ["bad query", () => createClient({ partnerId, apiKey: API_KEY }).getJobStatus(null as never)],
    ["empty job id", () => createClient({ partnerId, apiKey: API_KEY }).getJobStatus({ userId: "u", jobId: "" })],
    ["bad poll option", () => createClient({ partnerId, apiKey: API_KEY }).waitForJobStatus(query, { intervalMs: -1 })],
    ["bad tolerance", () => verifyCallback("{}", { signer: smile, toleranceSeconds: -1 })],
    ["bad fake", () => createFakeSmileId({ partnerId: 1 as unknown as string, apiKey: API_KEY })],
    [
      "verify with wrong-typed key",
      () => verifySignature({ partnerId, apiKey: { API_KEY } as never, timestamp: "t", signature: "s" }),
    ],
  ];
  const before = collected.length;
  for (const [name, call] of cases) {
    const outcome = await collectCall(`configuration: ${name}`, call);
    assert(outcome instanceof SmileIdError, `${name}: expected a SmileIdError, got ${inspect(outcome)}`);
    assertStrictEquals(outcome.code, "invalid_argument", name);
  }
  assert(collected.length > before);
  assertNoSecret(collected);
});

test("getJobStatus() failures over a real socket carry no trace of the API key", async () => {
  const before = collected.length;
  const json = { "content-type": "application/json" };
  const outcomes = [
    await overSocket("reset before headers", (socket) => socket.resetAndDestroy(), getStatus),
    await overSocket("reset after headers", (socket) => {
      socket.write(head(200, { ...json, "content-length": "500" }), () => socket.resetAndDestroy());
    }, getStatus),
    await overSocket(
      "closed mid-body",
      (socket) => socket.end(Buffer.concat([head(200, { ...json, "content-length": "500" }), Buffer.from('{"job_')])),
      getStatus,
    ),
    await overSocket("never answers", () => {}, getStatus, { timeoutMs: 150 }),
    await overSocket(
      "stalls mid-body",
      (socket) => socket.write(Buffer.concat([head(200, { ...json, "content-length": "500" }), Buffer.from('{"job_')])),
      getStatus,
      { timeoutMs: 150 },
    ),
    await overSocket("truncated JSON", (socket) => writeResponse(socket, 200, json, '{"job_complete":tr'), getStatus),
    await overSocket("empty 200", (socket) => writeResponse(socket, 200, json, ""), getStatus),
    await overSocket(
      "HTML 200",
      (socket) => writeResponse(socket, 200, { "content-type": "text/html" }, "<html>hi</html>"),
      getStatus,
    ),
    await overSocket(
      "HTML 502",
      (socket) => writeResponse(socket, 502, { "content-type": "text/html" }, "<h1>Bad Gateway</h1>"),
      getStatus,
    ),
    await overSocket(
      "401 with 2205",
      (socket) => writeResponse(socket, 401, json, '{"code":"2205","error":"You are not authorized to do that"}'),
      getStatus,
    ),
    await overSocket(
      "400 echoing the request",
      (socket, body) =>
        writeResponse(socket, 400, json, JSON.stringify({ code: "2213", error: `Bad request: ${body}` })),
      getStatus,
    ),
    await overSocket("200 echoing the request", (socket, body) => writeResponse(socket, 200, json, body), getStatus),
    await overSocket(
      "302 redirect",
      (socket) => writeResponse(socket, 302, { location: "http://127.0.0.2:9/v1/job_status" }),
      getStatus,
    ),
    await overSocket(
      "307 redirect",
      (socket) => writeResponse(socket, 307, { location: "https://evil.example/collect" }),
      getStatus,
    ),
    await overSocket(
      "declared too large",
      (socket) => writeResponse(socket, 200, json, "x".repeat(70_000)),
      getStatus,
      { maxResponseBytes: 65_536 },
    ),
    await overSocket(
      "429 with Retry-After",
      (socket) => writeResponse(socket, 429, { "retry-after": "30" }, "slow down"),
      getStatus,
    ),
    await overSocket("answer signed with another key", async (socket) => {
      const forged = createSigner({ partnerId, apiKey: "another-key" });
      writeResponse(socket, 200, json, JSON.stringify({ job_complete: true, ...(await forged.sign()) }));
    }, getStatus),
    await overSocket(
      "answer of the wrong shape",
      async (socket) => writeResponse(socket, 200, json, await signedBody({ job_complete: "yes" })),
      getStatus,
    ),
    await overSocket(
      "caller abort",
      () => {},
      (client) => client.getJobStatus(query, { signal: AbortSignal.timeout(100) }),
    ),
    await overSocket("success", async (socket) => writeResponse(socket, 200, json, await signedBody()), getStatus),
  ];
  const errors = outcomes.filter((o) => o instanceof SmileIdError) as SmileIdError[];
  assertStrictEquals(errors.length, outcomes.length - 1, "every case but the last fails");
  assertEquals(
    [...new Set(errors.map((e) => e.code))].sort(),
    [
      "aborted",
      "http",
      "payload_too_large",
      "schema",
      "signature_mismatch",
      "timeout",
      "transport",
      "unexpected_response",
    ],
  );
  assert(collected.length > before);
  assertNoSecret(collected);
});

test("waitForJobStatus() failures carry no trace of the API key, lastStatus and causes included", async () => {
  const json = { "content-type": "application/json" };
  const outcomes = [
    await overSocket(
      "poll: never completes",
      async (socket) => writeResponse(socket, 200, json, await signedBody({ job_complete: false })),
      (client) => client.waitForJobStatus(query, { intervalMs: 10, timeoutMs: 200 }),
    ),
    await overSocket(
      "poll: transport errors until the deadline",
      (socket) => socket.resetAndDestroy(),
      (client) => client.waitForJobStatus(query, { intervalMs: 10, timeoutMs: 200 }),
    ),
    await overSocket(
      "poll: Retry-After past the deadline",
      (socket) => writeResponse(socket, 503, { "retry-after": "60" }),
      (client) => client.waitForJobStatus(query, { timeoutMs: 1000 }),
    ),
    await overSocket(
      "poll: 401",
      (socket) => writeResponse(socket, 401, json, '{"code":"2205","error":"no"}'),
      (client) => client.waitForJobStatus(query),
    ),
    await overSocket(
      "poll: aborted",
      () => {},
      (client) => waitForJobStatus(client, query, { signal: AbortSignal.timeout(100) }),
    ),
  ];
  assertEquals(outcomes.map((o) => (o as SmileIdError).code), ["timeout", "timeout", "timeout", "http", "aborted"]);
  assertStrictEquals(((outcomes[0] as SmileIdError).lastStatus as { jobComplete: boolean }).jobComplete, false);
  assertNoSecret(collected);
});

test("parseJobStatusResponse() and verifyCallback() outcomes carry no trace of the API key", async () => {
  const signer = smile;
  const body = async (extra: JsonObject) => JSON.stringify({ ...extra, ...(await signer.sign()) });
  const parse = (input: Response | string) => () => parseJobStatusResponse(input, { signer, maxBodyBytes: 1000 });
  await collectCall(
    "parse: bad signature",
    parse(JSON.stringify({ job_complete: true, signature: "x", timestamp: "t" })),
  );
  await collectCall("parse: schema", parse(await body({ job_complete: 1 })));
  await collectCall("parse: not JSON", parse("<html>"));
  await collectCall("parse: 500", parse(new Response('{"error":"boom"}', { status: 500 })));
  await collectCall("parse: too large", parse(new Response("x".repeat(2000))));
  await collectCall("parse: success", parse(await body({ job_complete: true, result: { ResultCode: "1012" } })));

  const fake = createFakeSmileId({ partnerId, apiKey: API_KEY });
  fake.addJob({ ...query, result: { ResultCode: "1012", ResultText: "ID Validated" } });
  const client = createClient({ partnerId, apiKey: API_KEY, fetch: fake.fetch });
  const guard = createMemoryReplayGuard();
  const verify = (input: unknown, options: object = {}) => () =>
    verifyCallback(input as string, { signer, replayGuard: guard, ...options });
  const genuine = await fake.buildCallback(query.jobId);
  const stale = await fake.buildCallback(query.jobId, { timestamp: new Date(Date.now() - 3_600_000).toISOString() });
  const future = await fake.buildCallback(query.jobId, { timestamp: new Date(Date.now() + 3_600_000).toISOString() });
  const forged = await fake.buildCallback(query.jobId, { badSignature: true });
  const tampered = await fake.buildCallback(query.jobId, { overrides: { ResultCode: "0000" } });
  const outcomes = [
    await collectCall("callback: genuine", verify(JSON.stringify(genuine))),
    await collectCall("callback: replayed", verify(JSON.stringify(genuine))),
    await collectCall("callback: stale", verify(stale)),
    await collectCall("callback: future", verify(future)),
    await collectCall("callback: forged", verify(forged)),
    await collectCall("callback: unsigned", verify('{"ResultCode":"1012"}')),
    await collectCall(
      "callback: unreadable timestamp",
      verify(
        await body({ ResultCode: "1012" }).then((t) => t.replace(/"timestamp":"[^"]*"/, '"timestamp":"yesterday"')),
      ),
    ),
    await collectCall("callback: garbage", verify(new Uint8Array([0xff, 0xfe, 0x00]))),
    await collectCall("callback: too large", verify("x".repeat(5000), { maxBodyBytes: 100 })),
    await collectCall(
      "callback: wrong shape",
      verify(await body({ job_complete: "yes", result: { ResultCode: "1012" } })),
    ),
    await collectCall(
      "callback: tampered, confirmed",
      () => client.verifyCallback(tampered, { confirm: true, replayGuard: false }),
    ),
    await collectCall(
      "callback: request",
      verify(new Request("http://127.0.0.1/cb", { method: "POST", body: JSON.stringify(forged) })),
    ),
  ];
  const codes = outcomes.map((o) => (o instanceof SmileIdError ? o.code : "valid"));
  assertEquals(codes, [
    "valid",
    "replayed",
    "stale_timestamp",
    "future_timestamp",
    "signature_mismatch",
    "missing_signature",
    "signature_mismatch",
    "unexpected_response",
    "payload_too_large",
    "schema",
    "valid",
    "signature_mismatch",
  ]);
  assertEquals((outcomes[10] as { mismatches: unknown[] }).mismatches, [{ path: "ResultCode", kind: "changed" }]);
  collect("fake after use", fake);
  assertNoSecret(collected);
});

test("createClient() never echoes credentials embedded in a server URL", () => {
  // Not the API key parameter, but a secret all the same: a URL's user:password part.
  const servers = [
    `https://partner:${API_KEY}@api.example/v1`,
    `http://partner:${API_KEY}@example.com/v1`,
    `ftp://partner:${API_KEY}@example.com/v1`,
    `https://partner:${API_KEY}@api.example/v1?x=1`,
  ];
  // Kept out of `collected`, so that this separate concern fails only this test.
  const texts: { where: string; text: string }[] = [];
  for (const server of servers) {
    let outcome: unknown;
    try {
      outcome = createClient({ partnerId, apiKey: "k", server });
    } catch (error) {
      outcome = error;
    }
    assert(outcome instanceof SmileIdError && outcome.code === "invalid_argument", String(outcome));
    const where = `createClient({ server: ${JSON.stringify(server.replace(API_KEY, "<password>"))} })`;
    texts.push({ where, text: outcome.message }, { where: `${where} inspected`, text: inspect(outcome) });
  }
  assertNoSecret(texts);
});

test("verifyCallback() errors never repeat the callback body, which carries personal data (as documented)", async () => {
  const pii = { FullName: "Jane Q. Public", DOB: "1990-01-01", IDNumber: "A1234567" };
  const text = JSON.stringify({ ...pii, ...(await smile.sign()) });
  const inputs: [string, string][] = [
    ["truncated JSON", text.slice(0, 70)],
    ["a JSON array", `[${text}]`],
    ["JSON with a stray byte", text.replace("Jane", "Jane\u0000")],
  ];
  const texts: { where: string; text: string }[] = [];
  for (const [name, input] of inputs) {
    let outcome: unknown;
    try {
      outcome = await verifyCallback(input, { signer: smile, replayGuard: false });
    } catch (error) {
      outcome = error;
    }
    assert(outcome instanceof SmileIdError && outcome.code === "unexpected_response", `${name}: ${outcome}`);
    texts.push({ where: `${name}: message`, text: outcome.message }, {
      where: `${name}: JSON`,
      text: JSON.stringify(outcome),
    });
  }
  for (const { where, text } of texts) {
    for (const value of Object.values(pii)) {
      assert(
        !text.includes(value),
        `${where} repeats ${JSON.stringify(value)} from the body: ${text.slice(0, 160)}`,
      );
    }
  }
});

/** Runs the CLI in-process and returns what it wrote, which is also collected. */
async function cli(
  where: string,
  argv: string[],
  io: { env?: Record<string, string>; fetch?: typeof fetch; stdin?: string; signal?: AbortSignal } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    env: io.env ?? { SMILE_PARTNER_ID: partnerId, SMILE_API_KEY: API_KEY },
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    stdin: Object.assign(
      (async function* () {
        if (io.stdin !== undefined) yield io.stdin;
      })(),
      { isTTY: false },
    ),
    ...(io.fetch ? { fetch: io.fetch } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
  });
  collected.push({ where: `cli ${where} stdout`, text: stdout }, { where: `cli ${where} stderr`, text: stderr });
  return { code, stdout, stderr };
}

test("the CLI prints no trace of the API key on any path", { timeout: 60_000 }, async () => {
  const fake = createFakeSmileId({ partnerId, apiKey: API_KEY });
  fake.addJob({ ...query, completesAfterMs: 60_000 });
  fake.addJob({ userId: "user-2", jobId: "job-2" });
  const viaFake = { env: { SMILE_PARTNER_ID: partnerId, SMILE_API_KEY: API_KEY }, fetch: fake.fetch as typeof fetch };
  const ids = ["--user-id", "user-1", "--job-id", "job-1"];
  const codes: Record<string, number> = {};
  const run = async (where: string, argv: string[], io?: Parameters<typeof cli>[2]) => {
    codes[where] = (await cli(where, argv, io)).code;
  };

  await run("sign", ["sign"]);
  await run("sign --json", ["sign", "--json", "--timestamp", "2024-01-01T00:00:00.000Z"]);
  await run("sign with the key as a flag", ["sign", "--api-key", API_KEY, "--partner-id", partnerId], { env: {} });
  await run("sign empty timestamp", ["sign", "--timestamp", ""]);
  await run("status via fake", ["status", "--user-id", "user-2", "--job-id", "job-2"], viaFake);
  await run("status --json via fake", [
    "status",
    "--user-id",
    "user-2",
    "--job-id",
    "job-2",
    "--json",
    "--history",
    "--image-links",
  ], viaFake);
  await run("status unknown job", ["status", "--user-id", "u", "--job-id", "nope"], viaFake);
  await run("wait times out", ["wait", ...ids, "--timeout", "0.3", "--interval", "0.05"], viaFake);
  fake.injectFault({ status: 503, retryAfter: 1, times: 2 });
  await run("wait through 503s", [
    "wait",
    "--user-id",
    "user-2",
    "--job-id",
    "job-2",
    "--timeout",
    "5",
    "--interval",
    "0.05",
  ], viaFake);
  fake.injectFault({ badSignature: true });
  await run("status with a forged answer", ["status", "--user-id", "user-2", "--job-id", "job-2"], viaFake);
  fake.injectFault({ networkError: true });
  await run("status with a network error", ["status", "--user-id", "user-2", "--job-id", "job-2"], viaFake);
  await run("missing configuration", ["status", ...ids], { env: { SMILE_API_KEY: API_KEY } });
  await run("bad server", ["status", ...ids, "--server", "http://example.com/v1"]);
  await run("bad server with the key in it", ["status", ...ids, "--server", `ftp://${API_KEY}@example.com`]);
  await run("unknown flag", ["status", "--api-key", API_KEY, "--bogus"]);
  await run("help", ["--help"]);
  const callback = JSON.stringify(await fake.buildCallback("job-2"));
  await run("verify-callback valid", ["verify-callback", "-"], { stdin: callback });
  await run("verify-callback --json", ["verify-callback", "--json"], { stdin: callback });
  await run("verify-callback forged", ["verify-callback"], {
    stdin: JSON.stringify(await fake.buildCallback("job-2", { badSignature: true })),
  });
  await run("verify-callback garbage", ["verify-callback"], { stdin: "\u0000not json" });
  await run("verify-callback missing file", ["verify-callback", "/nonexistent/callback.json"]);
  await run("verify-callback --confirm tampered", ["verify-callback", "--confirm"], {
    ...viaFake,
    stdin: JSON.stringify(await fake.buildCallback("job-2", { overrides: { ResultText: "forged" } })),
  });

  // Over a real socket too: the CLI's client on the global fetch.
  const json = { "content-type": "application/json" };
  for (
    const [where, behaviour] of [
      ["reset", (socket: Socket) => socket.resetAndDestroy()],
      ["HTML 502", (socket: Socket) => writeResponse(socket, 502, { "content-type": "text/html" }, "<h1>502</h1>")],
      ["redirect", (socket: Socket) => writeResponse(socket, 308, { location: "https://evil.example/" })],
      [
        "echoing 400",
        (socket: Socket, body: string) => writeResponse(socket, 400, json, JSON.stringify({ error: body })),
      ],
    ] as const
  ) {
    const server = await startRawServer((socket, request) => behaviour(socket, request.body));
    try {
      await run(`socket ${where}`, ["status", ...ids, "--server", server.base]);
    } finally {
      await server.close();
    }
  }

  // The fake server command given the key explicitly, stopped through the signal.
  const stop = new AbortController();
  const serving = cli("fake-server with --api-key", ["fake-server", "--port", "0", "--api-key", API_KEY], {
    signal: stop.signal,
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  stop.abort();
  codes["fake-server with --api-key"] = (await serving).code;

  assertStrictEquals(codes.sign, 0);
  assertStrictEquals(codes["status via fake"], 0);
  assertStrictEquals(codes["wait times out"], 1);
  assertStrictEquals(codes["wait through 503s"], 0);
  assertStrictEquals(codes["missing configuration"], 2);
  assertStrictEquals(codes["verify-callback valid"], 0);
  assertStrictEquals(codes["verify-callback forged"], 1);
  assertStrictEquals(codes["verify-callback --confirm tampered"], 1);
  assertStrictEquals(codes["socket reset"], 1);
  assertStrictEquals(codes["fake-server with --api-key"], 0);
  const cliTexts = collected.filter((c) => c.where.startsWith("cli "));
  if (process.env.SHOW_CLI_OUTPUT) { for (const c of cliTexts) console.log(`--- ${c.where}\n${c.text}`); }
  assert(cliTexts.some((c) => c.text.includes("signature")), "the CLI printed something");
  assertNoSecret(cliTexts);
});

test(`console.log, console.dir and an uncaught error print no trace of the API key (${runtime}, child process)`, {
  timeout: 90_000,
}, async () => {
  const child = fileURLToPath(new URL("./_console_child.ts", import.meta.url));
  const args = runtime === "deno" ? ["run", "-A", child] : [child];
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const proc = spawn(process.execPath, args, {
        cwd: fileURLToPath(new URL("../../", import.meta.url)),
        env: { ...process.env, SECRET_UNDER_TEST: API_KEY, NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      proc.stdout.on("data", (chunk) => (out += chunk));
      proc.stderr.on("data", (chunk) => (err += chunk));
      const timer = setTimeout(() => proc.kill(), 60_000);
      proc.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      proc.on("close", (exitCode) => {
        clearTimeout(timer);
        resolve({ code: exitCode, stdout: out, stderr: err });
      });
    },
  );
  // The child prints every object, then dies of an uncaught SmileIdError on purpose.
  assertNotStrictEquals(code, 0, `the child should die of its uncaught error; stderr: ${stderr}`);
  assertMatch(stdout, /SmileIdError/);
  assertMatch(stdout, /signature_mismatch/);
  assertMatch(stdout, /sid_request|signer|partnerId/);
  assertMatch(stderr, /uncaught test error/);
  assertMatch(stdout, /console-child-done/);
  assertNoSecret([{ where: "console.log output", text: stdout }, { where: "uncaught error output", text: stderr }]);
});

test("everything collected was searched and nothing leaked", () => {
  if (process.env.SHOW_COLLECTED_COUNT) console.log(`collected ${collected.length} texts`);
  assert(collected.length > 500, `only ${collected.length} texts collected`);
  assertNoSecret(collected);
});
