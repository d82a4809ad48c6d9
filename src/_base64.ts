// Standard (RFC 4648 §4) base64 with padding, on btoa/atob so it runs in every target runtime.

/** Encodes bytes as standard padded base64. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary);
}

// A canonical encoding of a 32-byte HMAC-SHA256 digest: 43 characters, then "=". The 43rd
// character carries only 4 bits of data, so its 2 low bits must be zero (one of 16 letters).
const CANONICAL_DIGEST = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/**
 * Decodes a canonical base64 HMAC-SHA256 digest, or returns `undefined` for anything else:
 * wrong length, other alphabets, whitespace, missing or extra padding, non-zero spare bits.
 * Only canonical text is accepted so that exactly one string verifies for each digest, as in
 * the official SDKs that compare strings.
 */
export function decodeDigest(text: unknown): Uint8Array<ArrayBuffer> | undefined {
  if (typeof text !== "string" || !CANONICAL_DIGEST.test(text)) return undefined;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
