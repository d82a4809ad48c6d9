/**
 * A fake Smile ID for offline tests: {@linkcode createFakeSmileId} answers `POST /v1/job_status`
 * the way Smile ID's v1 API does (partner id and signature checked, answers signed with a fresh
 * timestamp, history and image links honoured), posts signed callbacks, and injects faults. It
 * is a plain fetch handler on web APIs only, so it runs as a client's `fetch`, behind
 * `Deno.serve` or `Bun.serve`, inside a Worker, in a browser, or behind Node's `http` server
 * (`serveFetch` from `./testing/node`; the CLI's `fake-server` command uses it). Jobs can change
 * after they are added (`updateJob`), can take the shape of a Smile ID product (`product`: Biometric KYC,
 * Document Verification, …, with ID response, image links and receipt), and `requests` records what each request asked for.
 * {@linkcode createTestClock} gives virtual time: pass the same `TestClock` as `clock` to the fake,
 * `createClient` and the callback handler, and one object drives them all.
 *
 * Where Smile ID's documentation is silent, the fake makes a choice and says so:
 *
 * | request | HTTP | body |
 * |---|---|---|
 * | path other than `{basePath}/job_status` | 404 | `{"error":"Not found"}` |
 * | method other than POST | 405 (`Allow: POST`) | `{"error":"Method not allowed"}` |
 * | a Content-Type that is not JSON (none, or an empty one, is accepted) | 415 | `{"code":"2203","error":…}` |
 * | body not a JSON object | 400 | `{"code":"2203","error":…}` |
 * | body over 1 MiB | 413 | `{"error":…}` |
 * | `user_id`, `job_id`, `partner_id`, `timestamp` or `signature` missing or empty | 400 | `{"code":"2213","error":…}` |
 * | a field of the wrong type | 400 | `{"code":"2204","error":…}` |
 * | another partner id, or a signature that does not match the body's timestamp | 401 | `{"code":"2205","error":"You are not authorized to do that"}` |
 * | unknown `user_id`/`job_id` pair, or a job before its `appearsAfterMs` | 404 | `{"code":"2210","error":…}` |
 * | a `missingZip` job before it completes | 200 | `{"job_complete":false,"job_success":false,"code":"2314","result":"No zip file received"}` |
 *
 * The codes 2203, 2204, 2205, 2210, 2213 and 2314 are Smile ID's documented error codes; which
 * HTTP status goes with each, and the code for an unknown job (the fake borrows 2210, "no
 * enrolled user found"), are the fake's choices. Request timestamps are not checked for
 * freshness. A request without `Content-Type`, or with an empty one, is read as JSON: the
 * official PHP SDK sends such requests and Smile ID accepts them.
 *
 * Stricter than Smile ID on purpose, or where its behaviour is unknown: a declared
 * `Content-Type` that is not JSON (`text/plain`, form data) is refused with 415, so that a
 * client sending form data notices; `history` and `image_links` must be booleans or
 * `"true"`/`"false"` (2204); and every field the official SDKs send is required (2213).
 *
 * @example Use the fake as the client's fetch
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient, describeResult } from "@smile-id-kit/job-status";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 *
 * const client = createClient({ partnerId: "085", apiKey: "test-key", fetch: fake.fetch });
 * const status = await client.getJobStatus({ userId: "user-1", jobId: "job-1" });
 * assertEquals(describeResult(status).decision, "approved"); // the default result: code 1012
 * ```
 *
 * @module
 */

export { createFakeSmileId } from "./fake.ts";
export type { CreateFakeSmileIdOptions, FakeJob, FakeJobUpdate, FakeRequestRecord, FakeSmileId } from "./fake.ts";
export type { FakeFault } from "./_faults.ts";
export type { BuildCallbackOptions, CallbackHandler, SendCallbackOptions } from "./_callbacks.ts";
export { createTestClock, type TestClock } from "./clock.ts";
export type { FakeProduct } from "./_products.ts";
