import { test } from "node:test";
import assert from "node:assert/strict";
import { buildJobStatusRequest, SmileIdError } from "../mod.ts";
import { VERSION } from "../src/_version.ts";
import denoJson from "../deno.json" with { type: "json" };

const signed = { signature: "XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=", timestamp: "2023-02-13T15:07:42.214Z" };
const base = { server: "sandbox", partnerId: "085", userId: "user-1", jobId: "job-1", signed } as const;

test("buildJobStatusRequest() builds the documented POST with JSON headers", async () => {
  const request = buildJobStatusRequest(base);
  assert.equal(request.method, "POST");
  assert.equal(request.url, "https://testapi.smileidentity.com/v1/job_status");
  assert.equal(request.headers.get("content-type"), "application/json");
  assert.equal(request.headers.get("accept"), "application/json");
  assert.equal(request.redirect, "manual");
  assert.equal(
    await request.text(),
    JSON.stringify({
      user_id: "user-1",
      job_id: "job-1",
      partner_id: "085",
      image_links: false,
      history: false,
      source_sdk: "rest_api",
      source_sdk_version: VERSION,
      signature: signed.signature,
      timestamp: signed.timestamp,
    }),
  );
});

test("buildJobStatusRequest() sends history and image_links as JSON booleans", async () => {
  const body = await buildJobStatusRequest({ ...base, includeHistory: true, includeImageLinks: true }).json();
  assert.equal(body.history, true);
  assert.equal(body.image_links, true);
});

test("buildJobStatusRequest() appends /job_status to a custom base URL", () => {
  assert.equal(
    buildJobStatusRequest({ ...base, server: "http://127.0.0.1:8787/v1/" }).url,
    "http://127.0.0.1:8787/v1/job_status",
  );
});

test("buildJobStatusRequest() refuses empty or non-string ids", () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ userId: "" }, /User id must be a non-empty string, got ""/],
    [{ userId: 42 }, /User id must be a non-empty string, got 42/],
    [{ jobId: undefined }, /Job id must be a non-empty string, got undefined/],
    [{ partnerId: 85 }, /Partner id must be a non-empty string, got 85/],
    [{ includeHistory: "true" }, /Option includeHistory must be a boolean, got "true"/],
    [{ signed: { signature: "", timestamp: "t" } }, /Signature must be a non-empty string/],
    [{ signed: undefined }, /Signature must be a non-empty string/],
    [{ server: "http://example.com" }, /plain http on a host that is not loopback/],
  ];
  for (const [override, message] of cases) {
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => buildJobStatusRequest({ ...base, ...override } as any),
      (error: unknown) =>
        error instanceof SmileIdError && error.code === "invalid_argument" && message.test(error.message),
      JSON.stringify(override),
    );
  }
});

test("buildJobStatusRequest() is pure: the same input gives the same bytes", async () => {
  const a = await buildJobStatusRequest(base).text();
  const b = await buildJobStatusRequest(base).text();
  assert.equal(a, b);
});

test("source_sdk_version is the package version from deno.json", async () => {
  assert.equal(VERSION, denoJson.version);
  const body = await buildJobStatusRequest(base).json();
  assert.equal(body.source_sdk, "rest_api");
  assert.equal(body.source_sdk_version, denoJson.version);
});
