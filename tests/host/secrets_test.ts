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
import { createFakeSmileId, createTestClock } from "../../src/testing/mod.ts";
import { serveFetch } from "../../src/testing/node.ts";
import { main } from "../../src/cli.ts";
import { resolveServer } from "../../src/server.ts";
import { send } from "../../src/transport.ts";
import { pollDelays } from "../../src/poll.ts";
import { classifyCallbackError, createCallbackHandler } from "../../src/handler.ts";
import { describeResult } from "../../src/result.ts";
import { createRedisReplayGuard } from "../../src/redis.ts";
import { createKvReplayGuard } from "../../src/deno_kv.ts";
import { createDurableObjectReplayGuard } from "../../src/cloudflare.ts";
import { toNodeHandler } from "../../src/node.ts";
import type { JsonObject } from "../../src/types.ts";
import { head, runtime, startRawServer, type TestServer, writeResponse } from "./_fault_server.ts";
import { spawnCapture } from "./_children.ts";

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
    const deno = (globalThis as { Deno?: { inspect(v: unknown, o: object): string } }).Deno;
    if (deno) add("Deno.inspect", () => deno.inspect(value, { depth: 10, showHidden: true, getters: true }));
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
    ["bad tolerance", () => verifyCallback(smile, "{}", { toleranceSeconds: -1 })],
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
  const parse = (input: Response | string) => () => parseJobStatusResponse(signer, input, { maxBodyBytes: 1000 });
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
    verifyCallback(signer, input as string, { replayGuard: guard, ...options });
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
    // Forms the WHATWG parser reads as user:password@ without "//".
    `https:/partner:${API_KEY}@api.example/v1`,
    `https:\\partner:${API_KEY}@api.example/v1`,
    `https:partner:${API_KEY}@api.example/v1`,
    `http:/partner:${API_KEY}@127.0.0.1/v1`,
    `HTTP:partner:${API_KEY}@127.0.0.1:8080/v1`,
    `mailto:partner:${API_KEY}@api.example`,
    `partner:${API_KEY}@api.example/v1`,
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
    const before = collected.length;
    collect(where, outcome);
    texts.push(...collected.splice(before));
    assertStrictEquals(outcome.cause, undefined, where);
    assertMatch(outcome.message, /must not contain credentials/, where);
  }
  assert(texts.some((t) => t.where.endsWith("(Deno.inspect)")) || !("Deno" in globalThis));
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
      outcome = await verifyCallback(smile, input, { replayGuard: false });
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

// ---- Library sweep (helper A): the key planted in every input position of every public function ----

/** The key as a bare string, the form issue 21 found quoted in 41 of 54 positions. */
const PLAIN = "the key as a plain string";

/**
 * Positions where a string is used as given, so the key passed there comes back by design: an
 * identifier (user, job or partner id, server URL; quoted in messages, sent in the request), a
 * timestamp to sign (returned with its signature), a result's text. SECURITY.md: "do not pass the
 * key there". The sweep plants the plain-string key everywhere else.
 */
const AS_GIVEN = [
  "createSigner partnerId",
  "createClient option partnerId",
  "createClient option server",
  "resolveServer(x)",
  "buildJobStatusRequest option server",
  "buildJobStatusRequest option partnerId",
  "buildJobStatusRequest option userId",
  "buildJobStatusRequest option jobId",
  "buildJobStatusRequest signed pair",
  "client.getJobStatus query option userId",
  "client.getJobStatus query option jobId",
  "createFakeSmileId option partnerId",
  "generateSignature timestamp",
  "signer.sign(x)",
  "describeResult(x)",
];

/**
 * Internal positions (send's consumer and its fetch, not public API) that call what they are
 * given without checking that it is a function: JSC (Bun) quotes the value in its TypeError
 * ("'consume' is \"…\""). src/transport.ts should check both.
 */
const UNCHECKED = ["send(request, options, x)", "send option fetch"];

/** Values that hold the key, in every shape a caller might pass by mistake. */
const CARRIERS: [string, unknown][] = [
  [PLAIN, API_KEY],
  ["the config", { partnerId, apiKey: API_KEY }],
  ["nested credentials", { client: { credentials: { partnerId, apiKey: API_KEY } } }],
  ["an array of the key", [API_KEY]],
  ["an array of configs", [{ partnerId, apiKey: API_KEY }, { nested: [API_KEY] }]],
  ["a Map", new Map([["apiKey", API_KEY]])],
  ["a Set", new Set([API_KEY])],
  ["the key boxed", new String(API_KEY)],
  ["the key's bytes", new TextEncoder().encode(API_KEY)],
  ["an Error with the key", new Error(API_KEY)],
  ["a function holding the key", Object.assign(() => undefined, { apiKey: API_KEY })],
  ["a symbol", Symbol(API_KEY)],
  ["an object that prints the key", { apiKey: API_KEY, toString: () => API_KEY, toJSON: () => API_KEY }],
  ["a Request carrying the key", new Request("http://127.0.0.1:1/", { method: "POST", body: API_KEY })],
];

/** Every argument and option of the public API, as a call taking the planted value. */
async function sweepPositions(): Promise<[string, (x: unknown) => unknown][]> {
  const fake = createFakeSmileId({ partnerId, apiKey: API_KEY });
  fake.addJob({ ...query, result: { ResultCode: "1012", ResultText: "ID Validated" } });
  const config = { partnerId, apiKey: API_KEY, fetch: fake.fetch };
  const client = createClient(config);
  const signer = createSigner({ partnerId, apiKey: API_KEY });
  const callback = JSON.stringify(await fake.buildCallback(query.jobId));
  const answer = await signedBody();
  const base = { server: 0, partnerId, ...query, signed: { signature: "s", timestamp: "t" } };
  const request = () => new Request("http://127.0.0.1:1/v1/job_status", { method: "POST", body: "{}" });
  const consume = (response: Response) => response.text();
  const handlerOptions = { client, onCallback: () => {} };
  const guard = createMemoryReplayGuard();
  const each = (name: string, keys: string[], call: (options: Record<string, unknown>) => unknown) =>
    keys.map((key) =>
      [`${name} option ${key}`, (x: unknown) => call({ [key]: x })] as [string, (x: unknown) => unknown]
    );
  // deno-lint-ignore no-explicit-any
  type Any = any;
  return [
    ["createSigner(x)", (x) => createSigner(x as Any)],
    ["createSigner partnerId", (x) => createSigner({ partnerId: x as Any, apiKey: API_KEY })],
    ["createSigner apiKey", (x) => createSigner({ partnerId, apiKey: x as Any })],
    ["generateSignature(x)", (x) => generateSignature(x as Any)],
    ["generateSignature timestamp", (x) => generateSignature({ partnerId, apiKey: API_KEY, timestamp: x as Any })],
    ["verifySignature(x)", (x) => verifySignature(x as Any)],
    ["verifySignature apiKey", (x) => verifySignature({ partnerId, apiKey: x as Any, timestamp: "t", signature: "s" })],
    [
      "verifySignature timestamp and signature",
      (x) => verifySignature({ partnerId, apiKey: API_KEY, timestamp: x, signature: x }),
    ],
    ["signer.sign(x)", (x) => signer.sign(x as Any)],
    ["signer.verify(x, x)", (x) => signer.verify(x, x)],
    ["resolveServer(x)", (x) => resolveServer(x as Any)],
    ["buildJobStatusRequest(x)", (x) => buildJobStatusRequest(x as Any)],
    ...each(
      "buildJobStatusRequest",
      ["server", "partnerId", "userId", "jobId", "includeHistory", "includeImageLinks", "signed"],
      (o) => buildJobStatusRequest({ ...base, ...o } as Any),
    ),
    [
      "buildJobStatusRequest signed pair",
      (x) => buildJobStatusRequest({ ...base, signed: { signature: x, timestamp: x } } as Any),
    ],
    ["parseJobStatusResponse(x)", (x) => parseJobStatusResponse(signer, x as Any)],
    ["parseJobStatusResponse(x, body)", (x) => parseJobStatusResponse(x as Any, answer)],
    ["parseJobStatusResponse(signer, body, x)", (x) => parseJobStatusResponse(signer, answer, x as Any)],
    ["parseJobStatusResponse(body, config): old order", () => parseJobStatusResponse(answer as Any, config as Any)],
    ...each(
      "parseJobStatusResponse",
      ["maxBodyBytes", "request", "answerSkewSeconds"],
      (o) => parseJobStatusResponse(signer, answer, o as Any),
    ),
    ["send(x)", (x) => send(x as Any, { fetch: fake.fetch, timeoutMs: 1000 }, consume)],
    ["send(request, x)", (x) => send(request(), x as Any, consume)],
    ["send(request, options, x)", (x) => send(request(), { fetch: fake.fetch, timeoutMs: 1000 }, x as Any)],
    ...each(
      "send",
      ["fetch", "timeoutMs", "signal"],
      (o) => send(request(), { fetch: fake.fetch, timeoutMs: 1000, ...o } as Any, consume),
    ),
    ["createClient(x)", (x) => createClient(x as Any)],
    ...each(
      "createClient",
      ["partnerId", "apiKey", "server", "fetch", "timeoutMs", "maxResponseBytes", "clock", "answerSkewSeconds"],
      (o) => createClient({ ...config, ...o } as Any),
    ),
    ["createClient(query): config and query swapped", () => createClient(query as Any)],
    ["client.getJobStatus(x)", (x) => client.getJobStatus(x as Any)],
    ...each(
      "client.getJobStatus query",
      ["userId", "jobId", "includeHistory", "includeImageLinks"],
      (o) => client.getJobStatus({ ...query, ...o } as Any),
    ),
    ["client.getJobStatus(query, x)", (x) => client.getJobStatus(query, x as Any)],
    ...each("client.getJobStatus", ["signal", "timeoutMs"], (o) => client.getJobStatus(query, o as Any)),
    ["waitForJobStatus(x, query)", (x) => waitForJobStatus(x as Any, query)],
    ["waitForJobStatus(config, query): config first", () => waitForJobStatus(config as Any, query)],
    ["waitForJobStatus(client, x)", (x) => waitForJobStatus(client, x as Any)],
    ["waitForJobStatus(client, query, x)", (x) => waitForJobStatus(client, query, x as Any)],
    ...each(
      "waitForJobStatus",
      [
        "intervalMs",
        "maxIntervalMs",
        "timeoutMs",
        "requestTimeoutMs",
        "notFoundGraceMs",
        "signal",
        "onProgress",
        "clock",
        "random",
      ],
      (o) => waitForJobStatus(client, query, o as Any),
    ),
    ["client.waitForJobStatus(x)", (x) => client.waitForJobStatus(x as Any)],
    ["client.waitForJobStatus(query, x)", (x) => client.waitForJobStatus(query, x as Any)],
    ["pollDelays(x)", (x) => pollDelays(x as Any)],
    ...each("pollDelays", ["intervalMs", "maxIntervalMs", "random"], (o) => pollDelays(3, o as Any)),
    ["verifyCallback(x)", (x) => verifyCallback(signer, x as Any, { replayGuard: false })],
    ["verifyCallback(x, body)", (x) => verifyCallback(x as Any, callback)],
    ["verifyCallback(signer, body, x)", (x) => verifyCallback(signer, callback, x as Any)],
    ["verifyCallback(body, config): old order", () => verifyCallback(callback as Any, config as Any)],
    ...each(
      "verifyCallback",
      [
        "toleranceSeconds",
        "now",
        "clock",
        "replayGuard",
        "maxBodyBytes",
        "confirm",
        "reader",
        "signal",
        "rememberSeconds",
      ],
      (o) => verifyCallback(signer, callback, { replayGuard: false, ...o } as Any),
    ),
    ["client.verifyCallback(x)", (x) => client.verifyCallback(x as Any)],
    ["client.verifyCallback(body, x)", (x) => client.verifyCallback(callback, x as Any)],
    ...each(
      "client.verifyCallback",
      ["toleranceSeconds", "clock", "replayGuard", "maxBodyBytes", "confirm", "signal", "rememberSeconds"],
      (o) => client.verifyCallback(callback, { replayGuard: false, ...o } as Any),
    ),
    ["createMemoryReplayGuard(x)", (x) => createMemoryReplayGuard(x as Any)],
    ...each("createMemoryReplayGuard", ["maxEntries", "now", "clock"], (o) => createMemoryReplayGuard(o as Any)),
    ["guard.begin(x, seconds)", (x) => guard.begin(x as Any, 60)],
    ["guard.begin(key, x)", (x) => guard.begin("sweep", x as Any)],
    ["guard.finish(key, x, seconds)", (x) => guard.finish("sweep", x as Any, 60)],
    ["guard.finish(key, token, x)", (x) => guard.finish("sweep", "1", x as Any)],
    ["guard.abandon(x, token)", (x) => guard.abandon(x as Any, "1")],
    ["guard.abandon(key, x)", (x) => guard.abandon("sweep", x as Any)],
    ["createCallbackHandler(x)", (x) => createCallbackHandler(x as Any)],
    ...each(
      "createCallbackHandler",
      [
        "client",
        "onCallback",
        "replayGuard",
        "confirm",
        "toleranceSeconds",
        "maxBodyBytes",
        "onRejected",
        "onDuplicate",
        "maxJobsPerPair",
        "leaseSeconds",
        "rememberSeconds",
        "clock",
      ],
      (o) => createCallbackHandler({ ...handlerOptions, ...o } as Any),
    ),
    ["callback handler(x)", (x) => createCallbackHandler(handlerOptions)(x as Any)],
    ["classifyCallbackError(x)", (x) => classifyCallbackError(x)],
    ["describeResult(x)", (x) => describeResult(x as Any)],
    ["createRedisReplayGuard(x)", (x) => createRedisReplayGuard(x as Any)],
    [
      "createRedisReplayGuard prefix",
      (x) => createRedisReplayGuard({ sendCommand: () => Promise.resolve("OK") }, { prefix: x } as Any),
    ],
    ["createKvReplayGuard(x)", (x) => createKvReplayGuard(x as Any)],
    ["createDurableObjectReplayGuard(x)", (x) => createDurableObjectReplayGuard(x as Any)],
    [
      "createDurableObjectReplayGuard name",
      (x) => createDurableObjectReplayGuard({ idFromName: () => ({}), get: () => ({}) } as Any, { name: x } as Any),
    ],
    ["toNodeHandler(x)", (x) => toNodeHandler(x as Any)],
    ["createFakeSmileId(x)", (x) => createFakeSmileId(x as Any)],
    ["fake.addJob(x)", (x) => fake.addJob(x as Any)],
    ...each(
      "fake.addJob",
      ["result", "jobSuccess", "code", "completesAfterMs", "appearsAfterMs", "missingZip", "history", "imageLinks"],
      (o) => createFakeSmileId({ partnerId, apiKey: API_KEY }).addJob({ ...query, ...o } as Any),
    ),
    ["fake.injectFault(x)", (x) => fake.injectFault(x as Any)],
    ["createTestClock(x)", (x) => createTestClock(x as Any)],
    ["clock.advance(x)", (x) => createTestClock(0).advance(x as Any)],
    // A port it refuses, so that a function in the handler's place never starts a server.
    ["serveFetch(x)", (x) => serveFetch(x as Any, { port: -1 })],
    ...each(
      "createFakeSmileId",
      ["partnerId", "apiKey", "clock", "basePath"],
      (o) => createFakeSmileId({ partnerId, apiKey: API_KEY, ...o } as Any),
    ),
  ];
}

test("sweep: the key planted in every argument and option of the public API reaches no error or result", {
  timeout: 120_000,
}, async () => {
  const positions = await sweepPositions();
  const before = collected.length;
  const foreign: string[] = [];
  let refusals = 0;
  for (const [carrier, value] of CARRIERS) {
    for (const [where, call] of positions) {
      if (carrier === PLAIN && (AS_GIVEN.includes(where) || UNCHECKED.includes(where))) continue;
      const name = `sweep: ${where} = ${carrier}`;
      let outcome = await collectCall(name, () => call(value));
      if (outcome instanceof Response) collected.push({ where: `${name} (response body)`, text: await outcome.text() });
      if (outcome instanceof SmileIdError) refusals++;
      else if (outcome instanceof Error) foreign.push(`${name}: ${outcome.name}`);
      outcome = undefined;
    }
  }
  const texts = collected.slice(before);
  assert(refusals > positions.length * 4, `only ${refusals} SmileIdErrors among ${texts.length} texts`);
  assertNoSecret(texts);
  // Wrong input is refused with a SmileIdError, not with whatever the runtime throws.
  assertEquals(foreign, []);
  // Every exception names a position that exists.
  const names = positions.map(([where]) => where);
  assertEquals([...AS_GIVEN, ...UNCHECKED].filter((where) => !names.includes(where)), []);
  assert(
    positions.length - AS_GIVEN.length > 100,
    `the plain-string key went into ${positions.length - AS_GIVEN.length} positions`,
  );
});

/** Runs the CLI in-process and returns what it wrote, which is also collected. */
async function cli(
  where: string,
  argv: string[],
  io: {
    env?: Record<string, string>;
    fetch?: typeof fetch;
    stdin?: string;
    signal?: AbortSignal;
    /** Called with everything written to stdout so far, after each write. */
    onStdout?: (stdout: string) => void;
  } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    env: io.env ?? { SMILE_PARTNER_ID: partnerId, SMILE_API_KEY: API_KEY },
    stdout: { write: (text: string) => void io.onStdout?.(stdout += text), isTTY: false },
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
  // Stopped once it says it serves: a trigger from its own output, not a timer.
  const serving = cli("fake-server with --api-key", ["fake-server", "--port", "0", "--api-key", API_KEY], {
    signal: stop.signal,
    onStdout: (stdout) => void (/Press Ctrl-C to stop/.test(stdout) && stop.abort()),
  });
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
  const proc = spawnCapture(process.execPath, args, {
    cwd: fileURLToPath(new URL("../../", import.meta.url)),
    env: { ...process.env, SECRET_UNDER_TEST: API_KEY, NO_COLOR: "1" },
    timeoutMs: 60_000,
  });
  const code = await proc.exited;
  const stdout = proc.stdout();
  const stderr = proc.stderr();
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
