import { test } from "node:test";
import { assertStrictEquals } from "@std/assert";
import { buildJobStatusRequest } from "../mod.ts";
import { VERSION } from "../src/_version.ts";
import denoJson from "../deno.json" with { type: "json" };
import { assertThrowsWithCode } from "./_helpers.ts";

const signed = { signature: "XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=", timestamp: "2023-02-13T15:07:42.214Z" };
const base = { server: "sandbox", partnerId: "085", userId: "user-1", jobId: "job-1", signed } as const;

/** Asserts that `base` with each override is refused with code invalid_argument and a matching message. */
function assertRefused(cases: ReadonlyArray<readonly [Record<string, unknown>, RegExp]>): void {
  for (const [override, message] of cases) {
    assertThrowsWithCode(
      // deno-lint-ignore no-explicit-any
      () => buildJobStatusRequest({ ...base, ...override } as any),
      "invalid_argument",
      message,
      JSON.stringify(override),
    );
  }
}

test("buildJobStatusRequest() builds the documented POST with JSON headers", async () => {
  const request = buildJobStatusRequest(base);
  assertStrictEquals(request.method, "POST");
  assertStrictEquals(request.url, "https://testapi.smileidentity.com/v1/job_status");
  assertStrictEquals(request.headers.get("content-type"), "application/json");
  assertStrictEquals(request.headers.get("accept"), "application/json");
  assertStrictEquals(request.redirect, "manual");
  assertStrictEquals(
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
  assertStrictEquals(body.history, true);
  assertStrictEquals(body.image_links, true);
});

test("buildJobStatusRequest() appends /job_status to a custom base URL", () => {
  assertStrictEquals(
    buildJobStatusRequest({ ...base, server: "http://127.0.0.1:8787/v1/" }).url,
    "http://127.0.0.1:8787/v1/job_status",
  );
});

test("buildJobStatusRequest() refuses empty or non-string ids", () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ userId: "" }, /User id must be a non-empty string or a non-negative integer, got ""/],
    [{ userId: 4.5 }, /User id must be a non-empty string or a non-negative integer, got 4.5/],
    [{ userId: -1 }, /User id must be a non-empty string or a non-negative integer, got -1/],
    [{ userId: 2 ** 53 }, /User id must be a non-empty string or a non-negative integer, got 9007199254740992/],
    [{ jobId: undefined }, /Job id must be a non-empty string or a non-negative integer, got undefined/],
    [{ jobId: Number.NaN }, /Job id must be a non-empty string or a non-negative integer, got NaN/],
    [{ partnerId: 85 }, /Partner id must be a non-empty string, got 85/],
    [{ includeHistory: "true" }, /Option includeHistory must be a boolean, got a string of 4 characters/],
    [{ signed: { signature: "", timestamp: "t" } }, /Signature must be a non-empty string/],
    [{ signed: undefined }, /Signature must be a non-empty string/],
    [{ server: "http://example.com" }, /plain http on a host that is not loopback/],
  ];
  assertRefused(cases);
});

test("buildJobStatusRequest() is pure: the same input gives the same bytes", async () => {
  const a = await buildJobStatusRequest(base).text();
  const b = await buildJobStatusRequest(base).text();
  assertStrictEquals(a, b);
});

test("source_sdk_version is the package version from deno.json", async () => {
  assertStrictEquals(VERSION, denoJson.version);
  const body = await buildJobStatusRequest(base).json();
  assertStrictEquals(body.source_sdk, "rest_api");
  assertStrictEquals(body.source_sdk_version, denoJson.version);
});

test("buildJobStatusRequest() sends numeric ids, as the Node and Ruby SDKs forward them, as decimal strings", async () => {
  const body = await buildJobStatusRequest({ ...base, userId: 42, jobId: 0 }).json();
  assertStrictEquals(body.user_id, "42");
  assertStrictEquals(body.job_id, "0");
});

test("buildJobStatusRequest() names our field for each of the official SDKs' input names", () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ userId: undefined, user_id: "user-1" }, /must use userId, not the official SDKs' user_id$/],
    [{ jobId: undefined, job_id: "job-1" }, /must use jobId, not the official SDKs' job_id$/],
    [{ return_history: true }, /must use includeHistory, not the official SDKs' return_history$/],
    [{ return_image_links: true }, /must use includeImageLinks, not the official SDKs' return_image_links$/],
    [{ return_images: true }, /must use includeImageLinks, not the official SDKs' return_images$/],
    [{ history: true }, /must use includeHistory, not the official SDKs' history$/],
    [{ image_links: false }, /must use includeImageLinks, not the official SDKs' image_links$/],
    [
      { user_id: 1, job_id: 2, return_history: false },
      /must use userId and jobId and includeHistory, not the official SDKs' user_id and job_id and return_history$/,
    ],
  ];
  assertRefused(cases);
});
