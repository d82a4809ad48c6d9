// The callbacks the fake Smile ID builds and posts (`fake.buildCallback`, `fake.sendCallback`):
// a job's result, signed as Smile ID signs a callback, as a bare result or a job-status-shaped
// body. The option types are public through ./mod.ts; the functions are internal to the fake.

import { SmileIdError } from "../errors.ts";
import type { SignedTimestamp } from "../signature.ts";
import type { FetchLike } from "../transport.ts";
import type { JsonObject } from "../types.ts";
import { quote } from "../_validate.ts";
import { clone } from "./_protocol.ts";

/**
 * Options of {@linkcode FakeSmileId.buildCallback}. Without options the callback is exactly
 * what Smile ID posts: the job's result object plus top-level `signature` and `timestamp`
 * (signed now, by the fake's clock).
 *
 * @example A stale callback
 * ```ts
 * import { assertEquals, assertRejects } from "@std/assert";
 * import { createSigner, SmileIdError, verifyCallback } from "@smile-id-kit/job-status";
 * import { type BuildCallbackOptions, createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 * const options: BuildCallbackOptions = { timestamp: new Date(Date.now() - 3_600_000).toISOString() };
 * const body = await fake.buildCallback("job-1", options);
 * const signer = createSigner({ partnerId: "085", apiKey: "test-key" });
 * const error = await assertRejects(() => verifyCallback(signer, body), SmileIdError);
 * assertEquals(error.code, "stale_timestamp");
 * ```
 */
export interface BuildCallbackOptions {
  /**
   * Sign this timestamp instead of now (for stale or future callbacks).
   *
   * @default now, on the fake's clock
   */
  readonly timestamp?: string;
  /** Send this signature instead of the right one (a forgery). */
  readonly signature?: string;
  /**
   * Sign with another key (a forgery that looks well formed).
   *
   * @default {false}
   */
  readonly badSignature?: boolean;
  /**
   * `"result"`: the result object with `signature`/`timestamp`; `"job_status"`: a
   * job-status-shaped body.
   *
   * @default {"result"}
   */
  readonly envelope?: "result" | "job_status";
  /** Fields merged into the body after signing, to forge a body under a genuine signature. */
  readonly overrides?: JsonObject;
}

/**
 * Options of {@linkcode FakeSmileId.sendCallback}: those of `buildCallback`, and the `fetch`
 * that posts to a URL.
 *
 * @example Post a forged body to a handler
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createFakeSmileId, type SendCallbackOptions } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 * const options: SendCallbackOptions = { overrides: { ResultCode: "1012" } };
 * const response = await fake.sendCallback("job-1", async (request) => Response.json(await request.json()), options);
 * assertEquals((await response.json()).ResultCode, "1012");
 * ```
 */
export interface SendCallbackOptions extends BuildCallbackOptions {
  /**
   * The `fetch` used when the target is a URL.
   *
   * @default the global `fetch`
   */
  readonly fetch?: FetchLike;
}

/**
 * A callback receiver the fake can call in-process: a fetch handler such as the one a
 * `Deno.serve`, `Bun.serve` or Worker application exports.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { type CallbackHandler, createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 * const received: string[] = [];
 * const handler: CallbackHandler = async (request) => {
 *   received.push((await request.json()).PartnerParams.job_id);
 *   return new Response(null, { status: 204 });
 * };
 * assertEquals((await fake.sendCallback("job-1", handler)).status, 204);
 * assertEquals(received, ["job-1"]);
 * ```
 */
export type CallbackHandler = (request: Request) => Response | Promise<Response>;

/** What a callback is built from: the job as the fake holds it. */
export interface CallbackSource {
  readonly jobId: string;
  readonly result: JsonObject | string;
  readonly jobSuccess: boolean;
  readonly code: string;
}

/** A callback body for `job`, signed with `signed` (a signature in `options` replaces it), with `overrides` merged last. */
export function callbackBody(job: CallbackSource, signed: SignedTimestamp, options: BuildCallbackOptions): JsonObject {
  const pair: { signature: string; timestamp: string } = { ...signed };
  if (options.signature !== undefined) pair.signature = options.signature;
  let body: JsonObject;
  if (options.envelope === "job_status") {
    body = { job_complete: true, job_success: job.jobSuccess, code: job.code, result: clone(job.result), ...pair };
  } else if (typeof job.result === "string") {
    throw new SmileIdError(
      "invalid_argument",
      `Job ${quote(job.jobId)} has a string result, which cannot be sent as a bare result callback; ` +
        'use envelope: "job_status"',
    );
  } else {
    body = { ...clone(job.result), ...pair };
  }
  return { ...body, ...(options.overrides ?? {}) };
}

/** Posts a callback body as Smile ID would: to a URL through `fetch`, or in-process to a handler. */
export async function postCallback(
  body: JsonObject,
  target: string | URL | CallbackHandler,
  options: SendCallbackOptions,
): Promise<Response> {
  const init: RequestInit = {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "fake-smile-id" },
    body: JSON.stringify(body),
    redirect: "manual",
  };
  if (typeof target === "function") {
    return await target(new Request("http://localhost/smile-id/callback", init));
  }
  const fetchFn = options.fetch ?? globalThis.fetch;
  return await fetchFn(new Request(target, init));
}
