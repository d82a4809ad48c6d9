/**
 * Smile ID's request signature: HMAC-SHA256 keyed with the UTF-8 bytes of the API key over
 * `timestamp + partnerId + "sid_request"`, as standard padded base64. Byte-identical with the
 * official PHP, Node, Python, Ruby and Java SDKs, on WebCrypto only.
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "@std/encoding/base64";
import { timestampToSign } from "./_time.ts";
import { SmileIdError } from "./errors.ts";

/**
 * A signature and the exact timestamp string it was computed over; both go into a request.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { generateSignature, type SignedTimestamp } from "@smile-id-kit/job-status";
 *
 * const signed: SignedTimestamp = await generateSignature({ partnerId: "085", apiKey: "key" });
 * assertEquals(signed.signature.length, 44);
 * ```
 */
export interface SignedTimestamp {
  /** Standard padded base64 of the 32-byte HMAC: 44 characters ending in `=`. */
  readonly signature: string;
  /** The timestamp exactly as signed; send it unchanged. */
  readonly timestamp: string;
}

/**
 * A timestamp to sign: a string is signed verbatim, a `Date` as `toISOString()`. Numbers are
 * not accepted, because the official SDKs sign them differently.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { generateSignature, type TimestampInput } from "@smile-id-kit/job-status";
 *
 * const fromText: TimestampInput = "1970-01-01T00:00:00.000Z";
 * const fromDate: TimestampInput = new Date(0);
 * const sign = (timestamp: TimestampInput) => generateSignature({ partnerId: "085", apiKey: "key", timestamp });
 * assertEquals((await sign(fromText)).signature, (await sign(fromDate)).signature);
 * ```
 */
export type TimestampInput = string | Date;

/**
 * The partner's credentials. `partnerId` is used verbatim (`"085"` and `"85"` sign
 * differently); `apiKey` is the "API key for signature" as text, or an HMAC-SHA256 `CryptoKey`
 * with `sign` and `verify` usages.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createSigner, type SignerCredentials } from "@smile-id-kit/job-status";
 *
 * const credentials: SignerCredentials = { partnerId: "085", apiKey: "my-api-key" };
 * assertEquals(createSigner(credentials).partnerId, "085");
 * ```
 */
export interface SignerCredentials {
  /** Partner id exactly as shown on the Smile ID portal, leading zeros included. */
  readonly partnerId: string;
  /**
   * API key for signature (never base64-decoded), or a ready HMAC `CryptoKey`. The type names
   * `CryptoKey` through `crypto.subtle`, so that it resolves in a Node-only TypeScript project
   * (no DOM library) as well.
   */
  readonly apiKey: string | Awaited<ReturnType<typeof crypto.subtle.importKey>>;
}

/**
 * Signs and verifies with one partner's key, imported into WebCrypto once and reused.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createSigner } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "085", apiKey: "my-api-key" });
 * const { signature, timestamp } = await signer.sign();
 * assertEquals(await signer.verify(timestamp, signature), true);
 * ```
 */
export interface Signer {
  /** The partner id this signer signs for. */
  readonly partnerId: string;
  /** Signs a timestamp (default: now, as ISO 8601 with milliseconds and `Z`). */
  sign(timestamp?: TimestampInput): Promise<SignedTimestamp>;
  /**
   * Checks a received timestamp and signature in constant time. Resolves `false`, never
   * rejects, for any value: missing, non-string, empty, non-canonical base64, absurd timestamps.
   */
  verify(timestamp: unknown, signature: unknown): Promise<boolean>;
}

const SUFFIX = "sid_request";
const MAX_TIMESTAMP_LENGTH = 256;
// Longer messages (a signed timestamp may be any length) are encoded on their own.
const MAX_SCRATCH = 4096;
const encoder = new TextEncoder();
const FALSE = Promise.resolve(false);

// Messages are written into one scratch buffer, shared by every signer: each one is filled and
// handed to WebCrypto in a single synchronous step, and WebCrypto copies its input before
// `sign` or `verify` returns, so calls in flight never see each other's bytes. Only the
// timestamp is encoded per call; the UTF-8 of `partnerId + "sid_request"` is encoded once.
let scratch = new Uint8Array(1024);

/** The per-partner state shared by signing and verifying: the key, imported once, and the message. */
interface Keyed {
  readonly partnerId: string;
  key(): CryptoKey | Promise<CryptoKey>;
  message(timestamp: string): Uint8Array<ArrayBuffer>;
}

function keyed(credentials: unknown): Keyed {
  const { partnerId, apiKey } = validateCredentials(credentials);
  let key: CryptoKey | undefined = typeof apiKey === "string" ? undefined : apiKey;
  let pending: Promise<CryptoKey> | undefined;
  const tail = encoder.encode(partnerId + SUFFIX);
  // A timestamp ending in a high surrogate joins a partner id starting with a low one into one
  // code point when the two are concatenated; encode such a message whole, as it always was.
  const joins = /^[\uDC00-\uDFFF]/.test(partnerId);
  return {
    partnerId,
    key: () =>
      key ?? (pending ??= crypto.subtle.importKey(
        "raw",
        encoder.encode(apiKey as string),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign", "verify"],
      ).then((imported) => (key = imported))),
    message(timestamp) {
      const size = timestamp.length * 3 + tail.length;
      if (size > MAX_SCRATCH || (joins && /[\uD800-\uDBFF]$/.test(timestamp))) {
        return encoder.encode(timestamp + partnerId + SUFFIX);
      }
      if (size > scratch.length) scratch = new Uint8Array(MAX_SCRATCH);
      const { written } = encoder.encodeInto(timestamp, scratch);
      scratch.set(tail, written);
      return scratch.subarray(0, written + tail.length);
    },
  };
}

function verifier({ key, message }: Keyed): Signer["verify"] {
  return (timestamp, signature) => {
    if (typeof timestamp !== "string" || timestamp.length === 0 || timestamp.length > MAX_TIMESTAMP_LENGTH) {
      return FALSE;
    }
    const digest = decodeDigest(signature);
    if (digest === undefined) return FALSE;
    try {
      // crypto.subtle.verify compares the MACs in constant time.
      const ready = key();
      const verified = ready instanceof Promise
        ? ready.then((k) => crypto.subtle.verify("HMAC", k, digest, message(timestamp)))
        : crypto.subtle.verify("HMAC", ready, digest, message(timestamp));
      return verified.then(undefined, () => false);
    } catch {
      return FALSE;
    }
  };
}

/**
 * Creates a {@linkcode Signer} that imports the API key once. Bad configuration (an empty or
 * non-string partner id, an empty API key, a `CryptoKey` of the wrong kind) throws a
 * `SmileIdError` with code `invalid_argument` at once.
 *
 * @example Sign a request and check a response
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createSigner } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "partner", apiKey: "apiKey" });
 * const signed = await signer.sign("2023-02-13T15:07:42.214Z");
 * assertEquals(signed.signature, "XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=");
 * assertEquals(await signer.verify(signed.timestamp, signed.signature), true);
 * ```
 */
export function createSigner(credentials: SignerCredentials): Signer {
  const state = keyed(credentials);
  const { key, message } = state;
  return {
    partnerId: state.partnerId,
    sign(timestamp?: TimestampInput): Promise<SignedTimestamp> {
      try {
        const signed = timestampToSign(timestamp);
        const ready = key();
        const mac = ready instanceof Promise
          ? ready.then((k) => crypto.subtle.sign("HMAC", k, message(signed)))
          : crypto.subtle.sign("HMAC", ready, message(signed));
        return mac.then((bytes) => ({ signature: encodeBase64(bytes), timestamp: signed }));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    verify: verifier(state),
  };
}

/**
 * Computes Smile ID's signature for a timestamp (default: now). For many signatures with one
 * key, {@linkcode createSigner} avoids importing the key each time.
 *
 * @example Reproduce the official Java SDK's test vector
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { generateSignature } from "@smile-id-kit/job-status";
 *
 * const { signature, timestamp } = await generateSignature({
 *   partnerId: "partner",
 *   apiKey: "apiKey",
 *   timestamp: "2023-02-13T15:07:42.214Z",
 * });
 * assertEquals(signature, "XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=");
 * assertEquals(timestamp, "2023-02-13T15:07:42.214Z");
 * ```
 */
export async function generateSignature(
  options: SignerCredentials & { readonly timestamp?: TimestampInput },
): Promise<SignedTimestamp> {
  return await createSigner(options).sign(options.timestamp);
}

/**
 * Confirms a signature Smile ID sent (on a job-status response or a callback) in constant
 * time. Resolves `false`, never rejects, whatever the received `timestamp` and `signature`
 * are; only bad credentials throw.
 *
 * @example Check a callback's signature
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { verifySignature } from "@smile-id-kit/job-status";
 *
 * const ok = await verifySignature({
 *   partnerId: "partner",
 *   apiKey: "apiKey",
 *   timestamp: "2023-02-13T15:07:42.214Z",
 *   signature: "XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=",
 * });
 * assertEquals(ok, true);
 * ```
 */
export async function verifySignature(
  options: SignerCredentials & { readonly timestamp: unknown; readonly signature: unknown },
): Promise<boolean> {
  return await verifier(keyed(options))(options.timestamp, options.signature);
}

function validateCredentials(credentials: unknown): SignerCredentials {
  if (typeof credentials !== "object" || credentials === null) {
    throw new SmileIdError("invalid_argument", "Credentials must be an object with partnerId and apiKey");
  }
  const { partnerId, apiKey } = credentials as Record<string, unknown>;
  if (typeof partnerId === "number") {
    throw new SmileIdError(
      "invalid_argument",
      `Partner id must be a string, got the number ${partnerId}; ` +
        `write it exactly as the portal shows it, leading zeros included (for example "085")`,
    );
  }
  if (typeof partnerId !== "string" || partnerId.length === 0) {
    // Described by its type rather than with quote(), which would add ~500 B gzip to the
    // verifySignature bundle: the only string that reaches here is "".
    throw new SmileIdError(
      "invalid_argument",
      `Partner id must be a non-empty string, got ${
        partnerId === ""
          ? '""'
          : typeof partnerId === "object" && partnerId !== null
          ? (Array.isArray(partnerId) ? "an array" : "an object")
          : typeof partnerId === "function" || typeof partnerId === "symbol"
          ? `a ${typeof partnerId}`
          : String(partnerId)
      }`,
    );
  }
  if (typeof apiKey === "string") {
    if (apiKey.length === 0) {
      throw new SmileIdError("invalid_argument", "API key must be a non-empty string, got an empty string");
    }
    return { partnerId, apiKey };
  }
  if (isHmacSha256Key(apiKey)) return { partnerId, apiKey };
  // The value itself is not quoted: it may be a secret in an unexpected form.
  throw new SmileIdError(
    "invalid_argument",
    `API key must be a non-empty string or an HMAC SHA-256 CryptoKey with sign and verify usages, got ${
      apiKey === null ? "null" : typeof apiKey
    }`,
  );
}

function isHmacSha256Key(value: unknown): value is CryptoKey {
  if (typeof value !== "object" || value === null || !("algorithm" in value) || !("usages" in value)) {
    return false;
  }
  const { algorithm, usages } = value as { algorithm: { name?: unknown; hash?: { name?: unknown } }; usages: unknown };
  return algorithm?.name === "HMAC" && algorithm.hash?.name === "SHA-256" && Array.isArray(usages) &&
    usages.includes("sign") && usages.includes("verify");
}

// A canonical encoding of a 32-byte HMAC-SHA256 digest: 43 characters, then "=". The 43rd
// character carries only 4 bits of data, so its 2 low bits must be zero (one of 16 letters).
const CANONICAL_DIGEST = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/**
 * Decodes a canonical base64 HMAC-SHA256 digest, or returns `undefined` for anything else:
 * wrong length, other alphabets, whitespace, missing or extra padding, non-zero spare bits.
 * Only canonical text is accepted so that exactly one string verifies for each digest, as in
 * the official SDKs that compare strings; text that passes the pattern cannot make
 * `decodeBase64` throw. Internal (tested directly), not part of the public API.
 */
export function decodeDigest(text: unknown): Uint8Array<ArrayBuffer> | undefined {
  if (typeof text !== "string" || !CANONICAL_DIGEST.test(text)) return undefined;
  return decodeBase64(text);
}
