// Conformance tests that only make sense inside workerd and Chromium: the runtime has no Node
// globals, and a full getJobStatus / waitForJobStatus round trip goes over real HTTP, through
// the runtime's own global fetch, to the fake Smile ID the runner serves on 127.0.0.1.
import { test } from "node:test";
import { assert, assertEquals, assertMatch, assertRejects, assertStrictEquals } from "@std/assert";
import { createClient, downloadImage, SmileIdError } from "../../mod.ts";
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

// ---- downloadImage over real HTTP, through the runtime's global fetch ------------------------------

const imagesAt = () => conformanceEnv.fakeServer.replace(/\/v1$/, "/images");

async function imageRequests(): Promise<string[]> {
  return await (await fetch(`${imagesAt()}/requests`)).json();
}

test("downloadImage() downloads an image over real HTTP", async () => {
  const image = await downloadImage(`${imagesAt()}/selfie.jpg?X-Amz-Signature=abc`, { timeoutMs: 10_000 });
  assertStrictEquals(image.contentType, "image/jpeg");
  assertEquals([...image.bytes.subarray(0, 3), ...image.bytes.subarray(-2)], [0xff, 0xd8, 0xff, 0xff, 0xd9]);
});

test("downloadImage() refuses more than maxBytes, with and without Content-Length", async () => {
  for (const name of ["declared-large.jpg", "streamed-large.jpg"]) {
    const error = await assertRejects(
      () => downloadImage(`${imagesAt()}/${name}`, { maxBytes: 100_000, timeoutMs: 10_000 }),
      SmileIdError,
    );
    assertStrictEquals(error.code, "payload_too_large", name);
  }
});

test("downloadImage() refuses an answer that is not an image", async () => {
  const error = await assertRejects(() => downloadImage(`${imagesAt()}/page.html`), SmileIdError);
  assertStrictEquals(error.code, "unexpected_response");
});

test("downloadImage() refuses a redirect and does not follow it", async () => {
  const error = await assertRejects(() => downloadImage(`${imagesAt()}/moved.jpg?X-Amz-Signature=abc`), SmileIdError);
  assertStrictEquals(error.code, "http");
  assertMatch(error.message, /with a redirect/);
  assert(!(await imageRequests()).includes("/images/selfie.jpg?moved"), "the redirect target was never asked");
});

test("downloadImage() refuses an expired link without a request", async () => {
  const link =
    `${imagesAt()}/selfie.jpg?expired-${conformanceEnv.runtime}&X-Amz-Date=20240101T000000Z&X-Amz-Expires=900`;
  const error = await assertRejects(() => downloadImage(link), SmileIdError);
  assertStrictEquals(error.code, "image_link_expired");
  assert(!(await imageRequests()).some((path) => path.includes("expired-")), "no request was made");
});
