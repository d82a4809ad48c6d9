// Reading HTTP bodies with a byte limit, and JSON objects out of them. Shared by responses and
// callbacks; web APIs only.

import { SmileIdError } from "./errors.ts";
import type { JsonObject } from "./types.ts";
import { quote } from "./_validate.ts";

/** Reads a body as UTF-8 text, refusing more than `maxBytes` (see {@linkcode readBytes}). */
export async function readText(message: Request | Response, maxBytes: number, what: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(message, maxBytes, what));
}

/**
 * Reads a body's bytes, refusing more than `maxBytes`: a `Content-Length` above the limit is
 * refused before reading, and a stream is cancelled as soon as it passes the limit, so an
 * oversized body is never held whole.
 */
export async function readBytes(
  message: Request | Response,
  maxBytes: number,
  what: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(message.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await message.body?.cancel().catch(() => {});
    throw tooLarge(what, maxBytes, `declares ${declared} bytes`);
  }
  if (message.body === null) return new Uint8Array();
  const reader = message.body.getReader();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(what, maxBytes, `sent more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : concatBytes(chunks);
}

/** Decodes bytes as UTF-8 (invalid sequences become U+FFFD), refusing more than `maxBytes`. */
export function bytesToText(bytes: Uint8Array, maxBytes: number, what: string): string {
  if (bytes.byteLength > maxBytes) throw tooLarge(what, maxBytes, `has ${bytes.byteLength} bytes`);
  return new TextDecoder().decode(bytes);
}

/** The bytes of `chunks`, one after another, in one new array. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const all = new Uint8Array(chunks.reduce((size, chunk) => size + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

function tooLarge(what: string, maxBytes: number, detail: string): SmileIdError {
  return new SmileIdError("payload_too_large", `${what} is larger than the limit of ${maxBytes} bytes: it ${detail}`);
}

/**
 * Parses text that must hold a JSON object; anything else is an `unexpected_response`. With
 * `quoteBody` the error keeps the text as `body` and quotes its start (for answers to the
 * caller's own query, where an HTML error page is worth seeing), unless it starts like JSON: a
 * job-status answer cut short can carry the ID response. Without `quoteBody` neither is done,
 * since a callback body carries personal data that must not reach logs.
 */
export function parseJsonObject(text: string, what: string, quoteBody: boolean): JsonObject {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const got = text.length === 0
      ? "an empty body"
      : quoteBody && !/^\s*[[{]/.test(text)
      ? quote(text)
      : `${text.length} characters`;
    throw new SmileIdError(
      "unexpected_response",
      `${what} is not JSON: expected a JSON object, got ${got}`,
      quoteBody ? { body: text } : {},
    );
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    const got = Array.isArray(json)
      ? "an array"
      : json === null
      ? "null"
      : quoteBody
      ? quote(json)
      : `a ${typeof json}`;
    throw new SmileIdError(
      "unexpected_response",
      `${what} is not a JSON object: got ${got}`,
      quoteBody ? { body: text } : {},
    );
  }
  return json as JsonObject;
}
