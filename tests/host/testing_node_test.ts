// serveFetch (./testing/node): the fake Smile ID over real HTTP on 127.0.0.1.
import { test } from "node:test";
import { assert, assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import { createClient } from "../../mod.ts";
import { createFakeSmileId } from "../../src/testing/mod.ts";
import { serveFetch } from "../../src/testing/node.ts";
import { assertRejectsWithCode, assertThrowsWithCode } from "../_helpers.ts";

const partnerId = "085";
const apiKey = "serve-fetch-test-key";

test("serveFetch() serves the fake on 127.0.0.1 by default and a client reaches it over HTTP", async () => {
  const fake = createFakeSmileId({ partnerId, apiKey });
  fake.addJob({ userId: "user-1", jobId: "job-1" });
  const server = await serveFetch(fake.fetch);
  try {
    assertMatch(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assertStrictEquals(server.url, `http://127.0.0.1:${server.port}`);
    const client = createClient({ partnerId, apiKey, server: `${server.url}/v1` });
    const status = await client.getJobStatus({ userId: "user-1", jobId: "job-1", includeHistory: true });
    assertStrictEquals(status.jobComplete, true);
    assertStrictEquals(fake.requests[0]?.history, true);
  } finally {
    await server.close();
  }
});

test("serveFetch() drops the connection for a network fault and aborts the request when the client leaves", async () => {
  const fake = createFakeSmileId({ partnerId, apiKey });
  fake.addJob({ userId: "user-1", jobId: "job-1" });
  // The third request's signal, as the server hands it to the fake, once it has arrived.
  let arrive!: (signal: AbortSignal) => void;
  const third = new Promise<AbortSignal>((resolve) => (arrive = resolve));
  const server = await serveFetch((request) => {
    if (fake.requests.length === 2) arrive(request.signal);
    return fake.fetch(request);
  }, { hostname: "127.0.0.1", port: 0 });
  try {
    const client = createClient({ partnerId, apiKey, server: `${server.url}/v1` });
    // First, on a fresh connection: Deno's fetch silently re-sends a request once when a reused
    // keep-alive connection closes without an answer, which would hide the fault.
    fake.injectFault({ networkError: true });
    await assertRejectsWithCode(() => client.getJobStatus({ userId: "user-1", jobId: "job-1" }), "transport");
    assertStrictEquals((await client.getJobStatus({ userId: "user-1", jobId: "job-1" })).jobComplete, true);
    assertEquals(fake.requests.map((r) => r.status), [0, 200]);
    // An hour of latency: only the client leaving can end this request. It leaves once the
    // server has the request (a deterministic trigger, not a timer).
    fake.injectFault({ latencyMs: 3_600_000 });
    const leave = new AbortController();
    const pending = client.getJobStatus({ userId: "user-1", jobId: "job-1" }, { signal: leave.signal });
    const signal = await third;
    leave.abort(new Error("the client left"));
    await assertRejectsWithCode(() => pending, "aborted");
    // The server notices the closed connection and aborts the request's signal, which cuts the
    // fake's latency short (a generous bound turns a server that never notices into a failure).
    const noticed = await new Promise<boolean>((resolve) => {
      if (signal.aborted) return resolve(true);
      const timer = setTimeout(() => resolve(false), 30_000);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve(true);
      }, { once: true });
    });
    assert(noticed, "the server aborts the request's signal when the client leaves");
    assertStrictEquals(fake.requests.length, 2, "the abandoned request was cut short, never answered");
  } finally {
    await server.close();
  }
});

test("serveFetch() answers 413 to a body over 4 MiB without calling the handler", async () => {
  let called = false;
  const server = await serveFetch(() => {
    called = true;
    return new Response("ok");
  });
  try {
    const response = await fetch(server.url, { method: "POST", body: new Uint8Array(4 * 1024 * 1024 + 1) });
    assertStrictEquals(response.status, 413);
    assertEquals(await response.json(), { error: "Request body too large" });
    assertStrictEquals(called, false);
  } finally {
    await server.close();
  }
});

test("serveFetch() refuses a handler that is not a function and a bad port with invalid_argument", () => {
  assertThrowsWithCode(
    () => serveFetch("fake.fetch" as never),
    "invalid_argument",
    /^The handler must be a function, got a string of 10 characters/,
  );
  assertThrowsWithCode(() => serveFetch(() => new Response(), { port: 70000 }), "invalid_argument", /Option port/);
  assertThrowsWithCode(() => serveFetch(() => new Response(), { hostname: "" }), "invalid_argument", /hostname/);
});
