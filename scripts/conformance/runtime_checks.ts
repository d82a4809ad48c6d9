// Conformance tests that only make sense inside workerd and Chromium: the runtime has no Node
// globals, and a full getJobStatus / waitForJobStatus round trip goes over real HTTP, through
// the runtime's own global fetch, to the fake Smile ID the runner serves on 127.0.0.1.
import { test } from "node:test";
import { assert, assertMatch, assertRejects, assertStrictEquals } from "@std/assert";
import { createClient, SmileIdError } from "../../mod.ts";
import { conformanceEnv, FAKE_API_KEY, FAKE_PARTNER_ID } from "./env.ts";

test("the runtime has no Node globals (no Buffer, no process)", () => {
  const globals = globalThis as Record<string, unknown>;
  assertStrictEquals(typeof globals.Buffer, "undefined");
  assertStrictEquals(typeof globals.process, "undefined");
  assertStrictEquals(typeof globals.Deno, "undefined");
});

test("getJobStatus() completes a round trip over real HTTP with the runtime's global fetch", async () => {
  assertMatch(conformanceEnv.fakeServer, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  const client = createClient({ partnerId: FAKE_PARTNER_ID, apiKey: FAKE_API_KEY, server: conformanceEnv.fakeServer });
  const jobId = `${conformanceEnv.runtime}-round-trip`;
  const status = await client.getJobStatus({ userId: "conformance-user", jobId }, { timeoutMs: 10_000 });
  assertStrictEquals(typeof status.jobComplete, "boolean");
  assertStrictEquals(status.code, "2302");
  assertStrictEquals(typeof status.signature, "string");
});

test("waitForJobStatus() polls over real HTTP until the job completes", async () => {
  const client = createClient({ partnerId: FAKE_PARTNER_ID, apiKey: FAKE_API_KEY, server: conformanceEnv.fakeServer });
  const jobId = `${conformanceEnv.runtime}-slow`;
  let attempts = 0;
  const status = await client.waitForJobStatus(
    { userId: "conformance-user", jobId },
    { intervalMs: 100, maxIntervalMs: 200, timeoutMs: 15_000, onProgress: () => attempts++ },
  );
  assertStrictEquals(status.jobComplete, true);
  assert(attempts >= 2, `expected at least 2 polls, saw ${attempts}`);
});

test("getJobStatus() with the wrong API key is refused by the server over real HTTP", async () => {
  const client = createClient({ partnerId: FAKE_PARTNER_ID, apiKey: "not-the-key", server: conformanceEnv.fakeServer });
  const error = await assertRejects(
    () => client.getJobStatus({ userId: "conformance-user", jobId: `${conformanceEnv.runtime}-round-trip` }),
    SmileIdError,
  );
  assertStrictEquals(error.code, "http");
  assertStrictEquals(error.status, 401);
});
