// decodeImage, imageLinkExpiry and downloadImage through stand-in fetches (portable). The same
// downloads against a real HTTP server on 127.0.0.1 are in tests/host/image_download_test.ts
// (Deno, Bun, Node) and in the conformance runtime checks (workerd, Chromium).

import { test } from "node:test";
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { encodeBase64 } from "@std/encoding/base64";
import { decodeImage, downloadImage, type FetchLike, imageLinkExpiry, type SmileIdError } from "../mod.ts";
import { assertRejectsWithCode, assertThrowsWithCode } from "./_helpers.ts";

const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0xff, 0xd9]);
const SECRET_QUERY = "X-Amz-Signature=5ecret0f1a2b3c";
const LINK = `https://bucket.s3.us-west-2.amazonaws.com/085/job-1/SID_Preview_FULL.jpg?${SECRET_QUERY}`;

/** Every text an error shows: none may hold the link's query. */
function assertNoQuery(error: SmileIdError, secret = "5ecret"): void {
  for (const text of [error.message, String(error), JSON.stringify(error)]) {
    assert(!text.includes(secret), `the query leaked: ${text}`);
  }
}

/** A fetch that answers `response` and counts its calls; `seen` holds the requests. */
function standIn(response: () => Response | Promise<Response>) {
  const seen: Request[] = [];
  const fetch: FetchLike = (request) => {
    seen.push(request);
    return Promise.resolve(response());
  };
  return { fetch, seen };
}

// ---- decodeImage -------------------------------------------------------------------------------

test("decodeImage() decodes plain base64, a data: URI, line breaks and unpadded text", () => {
  const base64 = encodeBase64(JPEG); // "/9j/4AAQSkZJRgD/2Q=="
  assert(base64.startsWith("/9j/"));
  for (
    const text of [
      base64,
      `data:image/jpeg;base64,${base64}`,
      `DATA:image/jpeg;base64,${base64}`,
      `  ${base64}\n`,
      `${base64.slice(0, 8)}\r\n${base64.slice(8)}`,
      base64.replace(/=+$/, ""),
    ]
  ) {
    assertEquals(decodeImage(text), JPEG, JSON.stringify(text));
  }
});

test("decodeImage() round-trips bytes of every length from 1 to 64", () => {
  for (let length = 1; length <= 64; length++) {
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + length) % 256);
    assertEquals(decodeImage(encodeBase64(bytes)), bytes, String(length));
  }
});

test("decodeImage() refuses placeholders and non-base64 text without quoting it", () => {
  const refused = [
    "Not Available",
    "not available",
    "NaN-NaN-NaN",
    "",
    "   ",
    "data:image/jpeg;base64,",
    "<BASE64 STRING>",
    "----base64 encoded string----",
    "Jane Doe 1990-01-01",
    "abcde", // a length no base64 text has
    "ab=c",
    "abc==", // padding that does not make a multiple of 4
    "/9j/_-", // the URL-safe alphabet
    "data:image/jpeg,/9j/4AAQ", // a data: URI that is not base64
  ];
  for (const text of refused) {
    const error = assertThrowsWithCode(() => decodeImage(text), "invalid_argument", /^An image must be base64 text/);
    if (text.trim().length > 3) assert(!error.message.includes(text.trim()), `quoted: ${error.message}`);
  }
  for (const value of [undefined, null, 42, JPEG, ["/9j/"]]) {
    assertThrowsWithCode(() => decodeImage(value as unknown as string), "invalid_argument", /got (null|an? \w+)$/);
  }
});

// ---- imageLinkExpiry ---------------------------------------------------------------------------

test("imageLinkExpiry() reads SigV4 X-Amz-Date plus X-Amz-Expires", () => {
  const v4 = "https://smile-fr-results.s3.us-west-2.amazonaws.com/test/SID_Preview_FULL.jpg" +
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20221027%2Fus-west-2%2Fs3%2Faws4_request" +
    "&X-Amz-Date=20221027T132548Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=abc";
  assertStrictEquals(imageLinkExpiry(v4)?.toISOString(), "2022-10-27T13:40:48.000Z");
  assertStrictEquals(imageLinkExpiry(new URL(v4))?.toISOString(), "2022-10-27T13:40:48.000Z");
  // The longest lifetime S3 allows, 7 days, and parameter names in any case.
  const week = "https://b.s3.amazonaws.com/x.jpg?x-amz-date=20240229T235959Z&X-AMZ-EXPIRES=604800";
  assertStrictEquals(imageLinkExpiry(week)?.toISOString(), "2024-03-07T23:59:59.000Z");
  // Both versions' parameters: SigV4 is read.
  const both = "https://b.s3.amazonaws.com/x.jpg?X-Amz-Date=20240101T000000Z&X-Amz-Expires=60&Expires=1";
  assertStrictEquals(imageLinkExpiry(both)?.toISOString(), "2024-01-01T00:01:00.000Z");
});

test("imageLinkExpiry() reads SigV2 Expires", () => {
  // The one Smile-issued presigned URL on record (an upload URL, 2022-10-27): Expires=1666878048.
  const v2 = "https://smile-uploads-test.s3.us-west-2.amazonaws.com/085-0000000261.zip" +
    "?AWSAccessKeyId=ASIAEXAMPLE&Expires=1666878048&Signature=a%2Bb%3D&x-amz-security-token=token";
  assertStrictEquals(imageLinkExpiry(v2)?.toISOString(), "2022-10-27T13:40:48.000Z");
  assertStrictEquals(imageLinkExpiry("https://b.s3.amazonaws.com/x.jpg?expires=0")?.getTime(), 0);
});

test("imageLinkExpiry() is undefined for links that do not state an expiry", () => {
  for (
    const link of [
      "https://smile-fr-results.s3.us-west-2.amazonaws.com/test/SID_Preview_FULL.jpg",
      "image_link", // the docs example's value: not a URL
      "",
      "https://b.s3.amazonaws.com/x.jpg?X-Amz-Date=20240101T000000Z", // no lifetime
      "https://b.s3.amazonaws.com/x.jpg?X-Amz-Expires=900", // no date
      "https://b.s3.amazonaws.com/x.jpg?X-Amz-Date=20241301T000000Z&X-Amz-Expires=900", // month 13
      "https://b.s3.amazonaws.com/x.jpg?X-Amz-Date=2024-01-01T00:00:00Z&X-Amz-Expires=900",
      "https://b.s3.amazonaws.com/x.jpg?X-Amz-Date=20240101T000000Z&X-Amz-Expires=-5",
      "https://b.s3.amazonaws.com/x.jpg?X-Amz-Date=20240101T000000Z&X-Amz-Expires=1e3",
      "https://b.s3.amazonaws.com/x.jpg?Expires=soon",
      "https://b.s3.amazonaws.com/x.jpg?Expires=",
    ]
  ) {
    assertStrictEquals(imageLinkExpiry(link), undefined, link);
  }
  for (const value of [undefined, null, 5, { href: LINK }]) {
    const error = assertThrowsWithCode(() => imageLinkExpiry(value as unknown as string), "invalid_argument");
    assertNoQuery(error);
  }
});

// ---- downloadImage: before any request ----------------------------------------------------------

test("downloadImage() refuses links that are not https (http only on loopback) before any request", async () => {
  const { fetch, seen } = standIn(() => new Response(JPEG, { headers: { "content-type": "image/jpeg" } }));
  const refused = [
    `http://bucket.s3.amazonaws.com/selfie.jpg?${SECRET_QUERY}`,
    `ftp://bucket.s3.amazonaws.com/selfie.jpg?${SECRET_QUERY}`,
    `data:image/jpeg;base64,/9j/?${SECRET_QUERY}`,
    `https://user:5ecret@bucket.s3.amazonaws.com/selfie.jpg`,
    `http://10.0.0.1/selfie.jpg?${SECRET_QUERY}`,
    `not a link ${SECRET_QUERY}`,
    "",
  ];
  for (const link of refused) {
    const error = await assertRejectsWithCode(
      () => downloadImage(link, { fetch }),
      "invalid_argument",
      undefined,
      link,
    );
    assertNoQuery(error);
  }
  for (const value of [undefined, null, 7, [LINK]]) {
    await assertRejectsWithCode(() => downloadImage(value as unknown as string, { fetch }), "invalid_argument");
  }
  assertStrictEquals(seen.length, 0, "no request was made");
  // Loopback hosts may use plain http.
  for (const link of ["http://127.0.0.1:8080/a.jpg", "http://localhost/a.jpg", "http://[::1]:9/a.jpg"]) {
    assertEquals((await downloadImage(link, { fetch })).bytes, JPEG, link);
  }
  assertStrictEquals(seen.length, 3);
});

test("downloadImage() refuses an expired link with image_link_expired and sends nothing", async () => {
  const { fetch, seen } = standIn(() => new Response(JPEG, { headers: { "content-type": "image/jpeg" } }));
  const v4 = `https://b.s3.amazonaws.com/x.jpg?X-Amz-Date=20240101T000000Z&X-Amz-Expires=900&${SECRET_QUERY}`;
  const expiry = Date.parse("2024-01-01T00:15:00.000Z");
  for (const now of [expiry, expiry + 1, expiry + 86_400_000]) {
    const error = await assertRejectsWithCode(
      () => downloadImage(v4, { fetch, clock: { now: () => now } }),
      "image_link_expired",
      /expired at 2024-01-01T00:15:00\.000Z; nothing was sent/,
    );
    assertNoQuery(error);
  }
  const v2 = `https://b.s3.amazonaws.com/x.jpg?Expires=1704067200&${SECRET_QUERY}`;
  await assertRejectsWithCode(
    () => downloadImage(v2, { fetch, clock: { now: () => 1704067200_000 } }),
    "image_link_expired",
  );
  // On the system clock, a link that expired in 2024 is refused too.
  await assertRejectsWithCode(() => downloadImage(v4, { fetch }), "image_link_expired");
  assertStrictEquals(seen.length, 0, "no request was made");
  // One millisecond before expiry the request is made.
  await downloadImage(v4, { fetch, clock: { now: () => expiry - 1 } });
  assertStrictEquals(seen.length, 1);
});

test("downloadImage() checks its options", async () => {
  const { fetch, seen } = standIn(() => new Response(JPEG, { headers: { "content-type": "image/jpeg" } }));
  const cases: unknown[] = [
    { fetch, maxBytes: 0 },
    { fetch, maxBytes: -1 },
    { fetch, timeoutMs: Number.NaN },
    { fetch: "fetch" },
    { fetch, clock: { now: "soon" } },
    null,
  ];
  for (const options of cases) {
    await assertRejectsWithCode(() => downloadImage(LINK, options as never), "invalid_argument");
  }
  assertStrictEquals(seen.length, 0);
});

// ---- downloadImage: the request and the answer ---------------------------------------------------

test("downloadImage() asks for an image without following redirects and returns bytes and type", async () => {
  const { fetch, seen } = standIn(() => new Response(JPEG, { headers: { "content-type": "image/jpeg; q=1" } }));
  const image = await downloadImage(LINK, { fetch });
  assertEquals(image, { bytes: JPEG, contentType: "image/jpeg; q=1" });
  const [request] = seen;
  assertStrictEquals(request?.method, "GET");
  assertStrictEquals(request?.url, LINK, "the link is requested exactly, query included");
  assertStrictEquals(request?.redirect, "manual");
  assertStrictEquals(request?.headers.get("accept"), "image/*");
});

test("downloadImage() refuses redirects, followed or not, without quoting the link's query", async () => {
  for (const status of [301, 302, 303, 307, 308]) {
    const { fetch } = standIn(() =>
      new Response(null, { status, headers: { location: `https://elsewhere.example/x.jpg?${SECRET_QUERY}` } })
    );
    const error = await assertRejectsWithCode(() => downloadImage(LINK, { fetch }), "http", /with a redirect/);
    assertStrictEquals(error.status, status);
    assertNoQuery(error);
  }
  // A fetch that followed a redirect anyway.
  const followed = new Response(JPEG, { headers: { "content-type": "image/jpeg" } });
  Object.defineProperty(followed, "redirected", { value: true });
  const { fetch } = standIn(() => followed);
  const error = await assertRejectsWithCode(() => downloadImage(LINK, { fetch }), "http", /redirect/);
  assertNoQuery(error);
});

test("downloadImage() refuses a non-2xx answer with http and its status", async () => {
  for (const status of [400, 403, 404, 500, 503]) {
    const { fetch } = standIn(() =>
      new Response("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", {
        status,
        headers: { "content-type": "application/xml" },
      })
    );
    const error = await assertRejectsWithCode(
      () => downloadImage(LINK, { fetch }),
      "http",
      new RegExp(`HTTP ${status}`),
    );
    assertStrictEquals(error.status, status);
    assertStrictEquals(error.body, undefined, "the body is not read");
    assertNoQuery(error);
  }
});

test("downloadImage() refuses a Content-Type that is not image/*", async () => {
  for (const type of ["text/html", "application/json", "application/octet-stream", "imagery/jpeg", "", "image/"]) {
    const { fetch } = standIn(() => {
      const response = new Response("<html>login</html>");
      response.headers.delete("content-type");
      if (type) response.headers.set("content-type", type);
      return response;
    });
    const error = await assertRejectsWithCode(
      () => downloadImage(LINK, { fetch }),
      "unexpected_response",
      /expected an image\/\* type$/,
      type,
    );
    assertNoQuery(error);
  }
  for (const type of ["image/jpeg", "image/png", "IMAGE/JPEG", "image/svg+xml", "image/jpeg;charset=binary"]) {
    const { fetch } = standIn(() => new Response(JPEG, { headers: { "content-type": type } }));
    assertStrictEquals((await downloadImage(LINK, { fetch })).contentType, type);
  }
});

test("downloadImage() enforces maxBytes with and without Content-Length, before buffering", async () => {
  // Declared too large: refused before reading, and the body is cancelled.
  let cancelled = false;
  const declared = standIn(() =>
    new Response(new ReadableStream({ cancel: () => void (cancelled = true) }), {
      headers: { "content-type": "image/jpeg", "content-length": "11" },
    })
  );
  const error = await assertRejectsWithCode(
    () => downloadImage(LINK, { fetch: declared.fetch, maxBytes: 10 }),
    "payload_too_large",
    /declares 11 bytes/,
  );
  assertNoQuery(error);
  assert(cancelled, "the body was cancelled unread");
  // No Content-Length: read until the limit is passed, then cancelled; later chunks never pulled.
  let pulled = 0;
  let streamCancelled = false;
  const chunked = standIn(() =>
    new Response(
      new ReadableStream({
        pull(controller) {
          pulled++;
          controller.enqueue(new Uint8Array(4));
        },
        cancel: () => void (streamCancelled = true),
      }, { highWaterMark: 0 }),
      { headers: { "content-type": "image/jpeg" } },
    )
  );
  await assertRejectsWithCode(
    () => downloadImage(LINK, { fetch: chunked.fetch, maxBytes: 10 }),
    "payload_too_large",
    /sent more than 10 bytes/,
  );
  assert(streamCancelled, "the stream was cancelled");
  assertStrictEquals(pulled, 3, "read 12 bytes, one chunk past the limit, and no more");
  // Exactly maxBytes is accepted.
  const exact = standIn(() => new Response(JPEG, { headers: { "content-type": "image/jpeg" } }));
  assertEquals((await downloadImage(LINK, { fetch: exact.fetch, maxBytes: JPEG.length })).bytes, JPEG);
});

test("downloadImage() gives timeout and aborted as getJobStatus does, without the link's query", async () => {
  // A fetch that never answers: only the deadline can end it.
  const never: FetchLike = () => new Promise(() => {});
  const timeout = await assertRejectsWithCode(
    () => downloadImage(LINK, { fetch: never, timeoutMs: 1 }),
    "timeout",
    /timed out after 1 ms/,
  );
  assertNoQuery(timeout);
  assert(timeout.message.includes("bucket.s3.us-west-2.amazonaws.com/085/job-1/SID_Preview_FULL.jpg"));
  // Aborted from inside the fetch, deterministically.
  const controller = new AbortController();
  const aborting: FetchLike = (_request, init) => {
    controller.abort(new Error("user left"));
    // Like a real fetch: a signal aborted by now rejects at once with its reason.
    return init?.signal?.aborted ? Promise.reject(init.signal.reason) : new Promise(() => {});
  };
  const aborted = await assertRejectsWithCode(
    () => downloadImage(LINK, { fetch: aborting, signal: controller.signal }),
    "aborted",
  );
  assertNoQuery(aborted);
  // Already aborted: nothing is sent.
  const { fetch, seen } = standIn(() => new Response(JPEG, { headers: { "content-type": "image/jpeg" } }));
  await assertRejectsWithCode(() => downloadImage(LINK, { fetch, signal: AbortSignal.abort() }), "aborted");
  assertStrictEquals(seen.length, 0);
});

test("downloadImage() reports a network failure as transport without the link's query", async () => {
  // Deno's fetch repeats the whole URL in its message; the error must not.
  const failing: FetchLike = (request) =>
    Promise.reject(new TypeError(`error sending request for url (${request.url}): connection refused`));
  const error = await assertRejectsWithCode(
    () => downloadImage(LINK, { fetch: failing }),
    "transport",
    /connection refused/,
  );
  assertNoQuery(error);
  assert(error.cause instanceof TypeError, "the runtime's error is kept as cause");
});
