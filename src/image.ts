/**
 * The images of an answer: {@linkcode decodeImage} for the base64 photos of the ID response,
 * {@linkcode imageLinkExpiry} and {@linkcode downloadImage} for the expiring links of
 * `image_links`. Kept apart from parsing: a photo can be hundreds of kilobytes, so nothing is
 * decoded or downloaded until asked for.
 *
 * @module
 */

import { decodeBase64 } from "@std/encoding/base64";
import { readBytes } from "./_body.ts";
import { clockOption, readNow } from "./_clock.ts";
import { SmileIdError } from "./errors.ts";
import { isLoopback } from "./server.ts";
import { type FetchLike, send } from "./transport.ts";
import type { Clock } from "./types.ts";
import { functionOption, invalidArgument, isPlaceholder, positiveOption, quote } from "./_validate.ts";

/** Default limit of {@linkcode downloadImage}: 10 MiB. */
const DEFAULT_MAX_IMAGE_BYTES = 10_485_760;
/** Default deadline of {@linkcode downloadImage}, the client's default too. */
const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Decodes a base64 image of the ID response (`photo`, `document`, or `FullData.ImageBase64`)
 * into its bytes. Smile ID sends plain base64 (a JPEG starts `/9j/`); a `data:…;base64,` prefix
 * and line breaks are accepted too. A placeholder (`"Not Available"`) or any other text that
 * is not base64 throws a `SmileIdError` with code `invalid_argument` whose message names only
 * the text's length, never its content.
 *
 * @example Decode a photo and check it is a JPEG
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { decodeImage, SmileIdError } from "@smile-id-kit/job-status";
 *
 * const bytes = decodeImage("/9j/4AAQ"); // the start of a JPEG, as an ID response sends it
 * assertEquals([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff]);
 * assertEquals(assertThrows(() => decodeImage("Not Available"), SmileIdError).code, "invalid_argument");
 * ```
 */
export function decodeImage(base64: string): Uint8Array<ArrayBuffer> {
  if (typeof base64 !== "string") {
    throw new SmileIdError("invalid_argument", `An image must be base64 text, got ${describeType(base64)}`);
  }
  const text = base64.trim().replace(/^data:[^,]*;base64,/i, "").replace(/\r?\n/g, "");
  if (isPlaceholder(text)) {
    throw new SmileIdError(
      "invalid_argument",
      "An image must be base64 text, got a placeholder that means no image was sent",
    );
  }
  const data = text.replace(/={1,2}$/, "");
  // Standard alphabet; padding optional, but when present the length is a multiple of 4.
  if (!/^[A-Za-z0-9+/]+$/.test(data) || data.length % 4 === 1 || (data !== text && text.length % 4 !== 0)) {
    throw new SmileIdError(
      "invalid_argument",
      `An image must be base64 text (optionally a data: URI), got ${base64.length} characters that are not base64`,
    );
  }
  return decodeBase64(text);
}

/**
 * When an image link stops working, read from the link itself: an S3 presigned URL carries its
 * expiry in its query. Signature version 4 (`X-Amz-Date`, the signing time, plus
 * `X-Amz-Expires`, a lifetime in seconds) and version 2 (`Expires`, Unix seconds) are read;
 * a link without them (or that is not a URL) gives `undefined`. Smile ID documents no lifetime
 * for its links. A link signed with temporary credentials (an `X-Amz-Security-Token`
 * parameter) can stop working earlier, when those credentials expire; the link does not say
 * when that is.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { imageLinkExpiry } from "@smile-id-kit/job-status";
 *
 * const v4 = "https://bucket.s3.amazonaws.com/selfie.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
 *   "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=900&X-Amz-Signature=abc";
 * assertEquals(imageLinkExpiry(v4)?.toISOString(), "2024-01-01T00:15:00.000Z");
 * const v2 = "https://bucket.s3.amazonaws.com/selfie.jpg?AWSAccessKeyId=AKIA&Expires=1704067200&Signature=abc";
 * assertEquals(imageLinkExpiry(v2)?.toISOString(), "2024-01-01T00:00:00.000Z");
 * assertEquals(imageLinkExpiry("https://example.com/selfie.jpg"), undefined);
 * ```
 */
export function imageLinkExpiry(url: string | URL): Date | undefined {
  if (typeof url !== "string" && !(url instanceof URL)) {
    throw new SmileIdError("invalid_argument", `An image link must be a string or a URL, got ${describeType(url)}`);
  }
  let params: URLSearchParams;
  try {
    params = new URL(url).searchParams;
  } catch {
    return undefined;
  }
  // Parameter names as S3 writes them, read without regard to case.
  const get = (name: string): string | undefined => {
    for (const [key, value] of params) if (key.toLowerCase() === name) return value;
    return undefined;
  };
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(get("x-amz-date") ?? "");
  const lifetime = get("x-amz-expires");
  let at = NaN;
  if (date && lifetime !== undefined && /^\d{1,9}$/.test(lifetime)) {
    const [, y, mo, d, h, mi, s] = date;
    at = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`) + Number(lifetime) * 1000;
  } else {
    const expires = get("expires");
    if (expires !== undefined && /^\d{1,12}$/.test(expires)) at = Number(expires) * 1000;
  }
  return Number.isFinite(at) ? new Date(at) : undefined;
}

/**
 * How {@linkcode downloadImage} fetches an image.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { DownloadImageOptions } from "@smile-id-kit/job-status";
 *
 * const options: DownloadImageOptions = { maxBytes: 2 * 1024 * 1024, timeoutMs: 10_000 };
 * assertEquals(options.maxBytes, 2_097_152);
 * ```
 */
export interface DownloadImageOptions {
  /**
   * The `fetch` to call (it is called unbound, with `redirect: "manual"`).
   *
   * @default the global `fetch`
   */
  readonly fetch?: FetchLike;
  /**
   * Deadline for the whole download, body included, in milliseconds; passing it rejects with
   * code `timeout`.
   *
   * @default {30000}
   */
  readonly timeoutMs?: number;
  /** Aborts the download: rejects with code `aborted`. */
  readonly signal?: AbortSignal;
  /**
   * Largest image accepted, in bytes: a larger `Content-Length` is refused before reading, and
   * a body without one is cut off as soon as it passes the limit (code `payload_too_large`).
   *
   * @default {10485760} (10 MiB)
   */
  readonly maxBytes?: number;
  /**
   * The clock a link's expiry is compared with; only its `now` is used.
   *
   * @default the system clock (`Date.now`)
   */
  readonly clock?: Pick<Clock, "now">;
}

/**
 * An image {@linkcode downloadImage} fetched.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { DownloadedImage } from "@smile-id-kit/job-status";
 *
 * function extension(image: DownloadedImage): string {
 *   return image.contentType.startsWith("image/png") ? "png" : "jpg";
 * }
 * assertEquals(extension({ bytes: new Uint8Array([0xff, 0xd8, 0xff]), contentType: "image/jpeg" }), "jpg");
 * ```
 */
export interface DownloadedImage {
  /** The image's bytes. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** The `Content-Type` the server sent (an `image/…` type). */
  readonly contentType: string;
}

/**
 * Downloads an image from an image link (`status.imageLinks.selfieImage`, …), for example to
 * archive it before the link expires. Every refusal is a `SmileIdError`, and no error's
 * message, `String()` or `JSON.stringify()` holds the link's query (its signature), which is
 * a bearer credential for a biometric image; messages name the link by origin and path only.
 *
 * Refused before any request is made:
 * - a link that is not `https:` (plain `http:` only on a loopback host, for tests), has
 *   credentials, or is not a URL: `invalid_argument`;
 * - a link whose signed expiry ({@linkcode imageLinkExpiry}) has passed: `image_link_expired`.
 *
 * Refused after the request:
 * - a redirect (3xx, or a `fetch` that followed one anyway): `http`; redirects are never
 *   followed, so the signed link is never sent on to another address;
 * - any other non-2xx status: `http`, with `status` (S3 answers 403 to an expired link);
 * - a `Content-Type` that is not `image/*`: `unexpected_response`;
 * - more than `maxBytes` (declared or sent): `payload_too_large`;
 * - the deadline (`timeoutMs`) or an abort (`signal`): `timeout` or `aborted`, as for
 *   `getJobStatus`; a network failure: `transport` (its `cause` is the runtime's own error,
 *   which may repeat the whole link).
 *
 * @example Archive a selfie (here from a stand-in fetch)
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { downloadImage } from "@smile-id-kit/job-status";
 *
 * const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0xff, 0xd9]);
 * const fetch = () => Promise.resolve(new Response(jpeg, { headers: { "content-type": "image/jpeg" } }));
 * const image = await downloadImage("https://bucket.s3.amazonaws.com/job-1/selfie.jpg", { fetch });
 * assertEquals([image.contentType, image.bytes.length], ["image/jpeg", 6]);
 * ```
 *
 * @example An expired link is refused without a request
 * ```ts
 * import { assertEquals, assertRejects } from "@std/assert";
 * import { downloadImage, SmileIdError } from "@smile-id-kit/job-status";
 *
 * let requests = 0;
 * const fetch = () => (requests++, Promise.resolve(new Response(null, { status: 500 })));
 * const link = "https://bucket.s3.amazonaws.com/selfie.jpg?X-Amz-Date=20240101T000000Z&X-Amz-Expires=900";
 * const error = await assertRejects(() => downloadImage(link, { fetch }), SmileIdError);
 * assertEquals([error.code, requests], ["image_link_expired", 0]);
 * ```
 */
export async function downloadImage(url: string | URL, options: DownloadImageOptions = {}): Promise<DownloadedImage> {
  if (typeof options !== "object" || options === null) throw invalidArgument("Options", "an object", options);
  const link = readLink(url);
  const shown = quote(`${link.origin}${link.pathname}`, 200);
  const maxBytes = positiveOption(options.maxBytes, "maxBytes") ?? DEFAULT_MAX_IMAGE_BYTES;
  const timeoutMs = positiveOption(options.timeoutMs, "timeoutMs") ?? DEFAULT_TIMEOUT_MS;
  const fetchFn = functionOption(options.fetch, "fetch");
  const now = readNow(clockOption(options.clock, false));
  const expiry = imageLinkExpiry(link);
  if (expiry !== undefined && expiry.getTime() <= now) {
    throw new SmileIdError(
      "image_link_expired",
      `The image link ${shown} expired at ${expiry.toISOString()}; nothing was sent. Ask for the job status ` +
        "again with includeImageLinks for a fresh link",
    );
  }
  const request = new Request(link.href, { redirect: "manual", headers: { accept: "image/*" } });
  try {
    return await send(
      request,
      { fetch: fetchFn, timeoutMs, signal: options.signal },
      (response) => readImage(response, maxBytes, shown),
    );
  } catch (error) {
    // send names the request by its URL; say it again without the query.
    if (!(error instanceof SmileIdError) || !error.message.includes(request.url)) throw error;
    const message = error.message.replaceAll(request.url, shown);
    throw new SmileIdError(error.code, message, error.cause === undefined ? {} : { cause: error.cause });
  }
}

/** Checks an image link: an https URL (http on loopback) without credentials. */
function readLink(url: unknown): URL {
  if (typeof url !== "string" && !(url instanceof URL)) {
    throw new SmileIdError("invalid_argument", `An image link must be a string or a URL, got ${describeType(url)}`);
  }
  let link: URL;
  try {
    link = new URL(url);
  } catch {
    throw new SmileIdError(
      "invalid_argument",
      `An image link must be an absolute URL, got ${String(url).length} characters that are not one`,
    );
  }
  const shown = quote(`${link.protocol}//${link.host}`);
  if (link.username !== "" || link.password !== "") {
    throw new SmileIdError("invalid_argument", `The image link for ${shown} must not contain credentials`);
  }
  if (link.protocol !== "https:" && !(link.protocol === "http:" && isLoopback(link.hostname))) {
    throw new SmileIdError(
      "invalid_argument",
      `The image link for ${shown} must use https (plain http only on a loopback host); nothing was sent`,
    );
  }
  return link;
}

/** The checks after the answer: no redirect, a 2xx, an image type, at most `maxBytes`. */
async function readImage(response: Response, maxBytes: number, shown: string): Promise<DownloadedImage> {
  const refuse = async (code: "http" | "unexpected_response", message: string, status?: number) => {
    await response.body?.cancel().catch(() => {});
    return new SmileIdError(code, message, status ? { status } : {});
  };
  const { status } = response;
  if (response.redirected || response.type === "opaqueredirect" || (status >= 300 && status < 400)) {
    throw await refuse(
      "http",
      `The image server answered ${shown} with a redirect${status ? ` (HTTP ${status})` : ""}, which is not ` +
        "followed: the signed link must not be sent on to another address",
      status,
    );
  }
  if (!response.ok) {
    throw await refuse(
      "http",
      `The image server answered HTTP ${status} for ${shown}; expected 200 with the image ` +
        "(S3 answers 403 to a link that has expired)",
      status,
    );
  }
  const contentType = response.headers.get("content-type") ?? "";
  if (!/^image\/[\w.+-]+\s*(;|$)/i.test(contentType)) {
    throw await refuse(
      "unexpected_response",
      `The image server answered ${shown} with ${
        contentType ? `Content-Type ${quote(contentType)}` : "no Content-Type"
      }; expected an image/* type`,
    );
  }
  return { bytes: await readBytes(response, maxBytes, `The image at ${shown}`), contentType };
}

/** The type of a value that should have been a string, never its content. */
function describeType(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
}
