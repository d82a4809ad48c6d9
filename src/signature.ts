/**
 * Smile ID's request signature: HMAC-SHA256 keyed with the UTF-8 bytes of the API key over
 * `timestamp + partnerId + "sid_request"`, as standard padded base64. Byte-identical with the
 * official PHP, Node, Python, Ruby and Java SDKs, on WebCrypto only.
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "@std/encoding/base64";
import { timestampToSign } from "./_time.ts";
import { invalidArgument, quote, SmileIdError } from "./errors.ts";

/**
 * A signature and the exact timestamp string it was computed over; both go into a request.
 *
 * @example
 * ```ts
 * import { generateSignature, type SignedTimestamp } from "@smile-id-kit/job-status";
 *
 * const signed: SignedTimestamp = await generateSignature({ partnerId: "085", apiKey: "key" });
 * console.log(signed.signature.length); // 44
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
 * import type { TimestampInput } from "@smile-id-kit/job-status";
 *
 * const fromText: TimestampInput = "2024-01-01T00:00:00.000Z";
 * const fromDate: TimestampInput = new Date(0);
 * console.log(fromText, fromDate.toISOString());
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
 * import type { SignerCredentials } from "@smile-id-kit/job-status";
 *
 * const credentials: SignerCredentials = { partnerId: "085", apiKey: "my-api-key" };
 * console.log(credentials.partnerId);
 * ```
 */
export interface SignerCredentials {
  /** Partner id exactly as shown on the Smile ID portal, leading zeros included. */
  readonly partnerId: string;
  /** API key for signature (never base64-decoded), or a ready HMAC `CryptoKey`. */
  readonly apiKey: string | CryptoKey;
}

/**
 * Signs and verifies with one partner's key, imported into WebCrypto once and reused.
 *
 * @example
 * ```ts
 * import { createSigner } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "085", apiKey: "my-api-key" });
 * const { signature, timestamp } = await signer.sign();
 * console.log(await signer.verify(timestamp, signature)); // true
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
const encoder = new TextEncoder();

/**
 * Creates a {@linkcode Signer} that imports the API key once. Bad configuration (an empty or
 * non-string partner id, an empty API key, a `CryptoKey` of the wrong kind) throws a
 * `SmileIdError` with code `invalid_argument` at once.
 *
 * @example Sign a request and check a response
 * ```ts
 * import { createSigner } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "partner", apiKey: "apiKey" });
 * const signed = await signer.sign("2023-02-13T15:07:42.214Z");
 * console.log(signed.signature); // XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=
 * console.log(await signer.verify(signed.timestamp, signed.signature)); // true
 * ```
 */
export function createSigner(credentials: SignerCredentials): Signer {
  const { partnerId, apiKey } = validateCredentials(credentials);
  let key: CryptoKey | undefined = typeof apiKey === "string" ? undefined : apiKey;
  let pending: Promise<CryptoKey> | undefined;
  const getKey = (): CryptoKey | Promise<CryptoKey> =>
    key ?? (pending ??= crypto.subtle.importKey(
      "raw",
      encoder.encode(apiKey as string),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    ).then((imported) => (key = imported)));
  const message = (timestamp: string) => encoder.encode(timestamp + partnerId + SUFFIX);

  return {
    partnerId,
    async sign(timestamp?: TimestampInput): Promise<SignedTimestamp> {
      const signedTimestamp = timestampToSign(timestamp);
      const mac = await crypto.subtle.sign("HMAC", key ?? await getKey(), message(signedTimestamp));
      return { signature: encodeBase64(mac), timestamp: signedTimestamp };
    },
    async verify(timestamp: unknown, signature: unknown): Promise<boolean> {
      if (
        typeof timestamp !== "string" || timestamp.length === 0 ||
        timestamp.length > MAX_TIMESTAMP_LENGTH
      ) return false;
      const digest = decodeDigest(signature);
      if (digest === undefined) return false;
      try {
        // crypto.subtle.verify compares the MACs in constant time.
        return await crypto.subtle.verify("HMAC", key ?? await getKey(), digest, message(timestamp));
      } catch {
        return false;
      }
    },
  };
}

/**
 * Computes Smile ID's signature for a timestamp (default: now). For many signatures with one
 * key, {@linkcode createSigner} avoids importing the key each time.
 *
 * @example Reproduce the official Java SDK's test vector
 * ```ts
 * import { generateSignature } from "@smile-id-kit/job-status";
 *
 * const { signature, timestamp } = await generateSignature({
 *   partnerId: "partner",
 *   apiKey: "apiKey",
 *   timestamp: "2023-02-13T15:07:42.214Z",
 * });
 * console.log(signature); // XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=
 * console.log(timestamp); // 2023-02-13T15:07:42.214Z
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
 * import { verifySignature } from "@smile-id-kit/job-status";
 *
 * const ok = await verifySignature({
 *   partnerId: "partner",
 *   apiKey: "apiKey",
 *   timestamp: "2023-02-13T15:07:42.214Z",
 *   signature: "XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=",
 * });
 * console.log(ok); // true
 * ```
 */
export async function verifySignature(
  options: SignerCredentials & { readonly timestamp: unknown; readonly signature: unknown },
): Promise<boolean> {
  return await createSigner(options).verify(options.timestamp, options.signature);
}

function validateCredentials(credentials: unknown): SignerCredentials {
  if (typeof credentials !== "object" || credentials === null) {
    throw new SmileIdError("invalid_argument", "Credentials must be an object with partnerId and apiKey");
  }
  const { partnerId, apiKey } = credentials as Record<string, unknown>;
  if (typeof partnerId === "number") {
    throw new SmileIdError(
      "invalid_argument",
      `Partner id must be a string, got the number ${quote(partnerId)}; ` +
        `write it exactly as the portal shows it, leading zeros included (for example "085")`,
    );
  }
  if (typeof partnerId !== "string" || partnerId.length === 0) {
    throw invalidArgument("Partner id", "a non-empty string", partnerId);
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
