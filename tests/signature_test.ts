import { test } from "node:test";
import {
  assert,
  assertEquals,
  assertFalse,
  assertMatch,
  assertNotStrictEquals,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { createSigner, generateSignature, SmileIdError, verifySignature } from "../mod.ts";
import vectors from "./testdata/signature-vectors.json" with { type: "json" };
import { assertRejectsWithCode, assertThrowsWithCode } from "./_helpers.ts";

const partnerId = "partner";
const apiKey = "apiKey";
const javaVector = {
  timestamp: "2023-02-13T15:07:42.214Z",
  signature: "XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=",
};

test("generateSignature() matches every known-answer vector of the official SDKs", async () => {
  assert(vectors.length >= 11);
  for (const vector of vectors) {
    const signed = await generateSignature({
      partnerId: vector.partner_id,
      apiKey: vector.api_key,
      timestamp: vector.timestamp,
    });
    assertStrictEquals(signed.signature, vector.signature, `vector ${vector.partner_id}/${vector.timestamp}`);
    assertStrictEquals(signed.timestamp, vector.timestamp);
  }
});

test("verifySignature() accepts every known-answer vector", async () => {
  for (const vector of vectors) {
    assertStrictEquals(
      await verifySignature({
        partnerId: vector.partner_id,
        apiKey: vector.api_key,
        timestamp: vector.timestamp,
        signature: vector.signature,
      }),
      true,
    );
  }
});

test("generateSignature() signs now as ISO 8601 with milliseconds and Z by default", async () => {
  const before = Date.now();
  const { signature, timestamp } = await generateSignature({ partnerId, apiKey });
  assertMatch(timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  assert(Date.parse(timestamp) >= before - 1 && Date.parse(timestamp) <= Date.now());
  assertStrictEquals(signature.length, 44);
  assertStrictEquals(await verifySignature({ partnerId, apiKey, timestamp, signature }), true);
});

test("generateSignature() signs a Date as its toISOString()", async () => {
  const signed = await generateSignature({ partnerId, apiKey, timestamp: new Date(javaVector.timestamp) });
  assertEquals(signed, javaVector);
});

test("partner ids are signed verbatim: 085 and 85 differ", async () => {
  const a = await generateSignature({ partnerId: "085", apiKey, timestamp: javaVector.timestamp });
  const b = await generateSignature({ partnerId: "85", apiKey, timestamp: javaVector.timestamp });
  assertNotStrictEquals(a.signature, b.signature);
});

test("generateSignature() refuses a numeric timestamp with an explanation", async () => {
  const error = await assertRejectsWithCode(
    // deno-lint-ignore no-explicit-any
    () => generateSignature({ partnerId, apiKey, timestamp: 1700000000000 as any }),
    "invalid_argument",
    /number 1700000000000/,
  );
  assertMatch(error.message, /new Date\(ms\)/);
});

test("generateSignature() refuses an invalid Date and an empty timestamp", async () => {
  for (const timestamp of [new Date("nope"), ""]) {
    await assertRejectsWithCode(() => generateSignature({ partnerId, apiKey, timestamp }), "invalid_argument");
  }
});

test("createSigner() refuses bad configuration before any crypto runs", () => {
  const bad: Array<[unknown, unknown, RegExp]> = [
    [85, apiKey, /must be a string, got the number 85.*leading zeros/],
    ["", apiKey, /Partner id must be a non-empty string, got ""/],
    [undefined, apiKey, /Partner id must be a non-empty string, got undefined/],
    [partnerId, "", /API key must be a non-empty string/],
    [partnerId, 42, /API key must be a non-empty string or an HMAC SHA-256 CryptoKey.*got number/],
    [partnerId, null, /got null/],
  ];
  for (const [p, k, message] of bad) {
    assertThrowsWithCode(
      // deno-lint-ignore no-explicit-any
      () => createSigner({ partnerId: p as any, apiKey: k as any }),
      "invalid_argument",
      message,
    );
  }
});

test("createSigner() never quotes the API key in its errors", () => {
  const secret = { toString: () => "super-secret-value" };
  // deno-lint-ignore no-explicit-any
  const error = assertThrows(() => createSigner({ partnerId, apiKey: secret as any }), SmileIdError);
  assertFalse(error.message.includes("super-secret"), "the error quotes the API key");
});

test("createSigner() accepts a ready HMAC CryptoKey", async () => {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(apiKey),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  const signer = createSigner({ partnerId, apiKey: key });
  assertEquals(await signer.sign(javaVector.timestamp), javaVector);
  assertStrictEquals(await signer.verify(javaVector.timestamp, javaVector.signature), true);
});

test("createSigner() refuses a CryptoKey of the wrong kind", async () => {
  const key = await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "HMAC", hash: "SHA-1" }, false, [
    "sign",
    "verify",
  ]);
  assertThrowsWithCode(() => createSigner({ partnerId, apiKey: key }), "invalid_argument");
});

test("createSigner() imports the key once for many signatures", async () => {
  const original = crypto.subtle.importKey;
  let imports = 0;
  // deno-lint-ignore no-explicit-any
  (crypto.subtle as any).importKey = function (...args: unknown[]) {
    imports++;
    // deno-lint-ignore no-explicit-any
    return (original as any).apply(crypto.subtle, args);
  };
  try {
    const signer = createSigner({ partnerId, apiKey });
    await Promise.all([signer.sign(), signer.sign(), signer.verify("t", javaVector.signature)]);
    await signer.sign();
    assertStrictEquals(imports, 1);
  } finally {
    // deno-lint-ignore no-explicit-any
    (crypto.subtle as any).importKey = original;
  }
});

test("verifySignature() resolves false, never rejects, for hostile signatures", async () => {
  const { timestamp, signature } = javaVector;
  const hostile: unknown[] = [
    undefined,
    null,
    "",
    42,
    {},
    [signature],
    signature.slice(0, -1), // padding missing
    signature + "=", // extra padding
    ` ${signature}`, // leading space
    `${signature} `,
    `${signature.slice(0, 20)}\n${signature.slice(20)}`,
    signature.toLowerCase(),
    "A".repeat(44),
    "A".repeat(43) + "=",
    signature.slice(0, 42) + "5=", // same prefix, non-zero spare bits
    "x".repeat(1_000_000),
  ];
  for (const candidate of hostile) {
    assertStrictEquals(await verifySignature({ partnerId, apiKey, timestamp, signature: candidate }), false);
  }
});

test("verifySignature() resolves false for the URL-safe alphabet", async () => {
  const timestamp = "2023-03-09T21:35:00.279Z";
  const signature = "+S/hVtmFwynoroXQQbjOQ3/l+a5zshNldrQh/iBdxRQ=";
  assertStrictEquals(await verifySignature({ partnerId, apiKey: "apikey", timestamp, signature }), true);
  const urlSafe = signature.replaceAll("+", "-").replaceAll("/", "_");
  assertStrictEquals(await verifySignature({ partnerId, apiKey: "apikey", timestamp, signature: urlSafe }), false);
});

test("verifySignature() resolves false for empty, non-string and absurd timestamps", async () => {
  const { signature } = javaVector;
  for (const timestamp of [undefined, null, "", 1676300862214, new Date(), "x".repeat(100_000), "not-a-date"]) {
    assertStrictEquals(await verifySignature({ partnerId, apiKey, timestamp, signature }), false);
  }
});

test("verifySignature() rejects a changed timestamp, partner or key", async () => {
  const { timestamp, signature } = javaVector;
  assertStrictEquals(
    await verifySignature({ partnerId, apiKey, timestamp: timestamp.replace("214", "215"), signature }),
    false,
  );
  assertStrictEquals(await verifySignature({ partnerId: "partneR", apiKey, timestamp, signature }), false);
  assertStrictEquals(await verifySignature({ partnerId, apiKey: "apikey", timestamp, signature }), false);
});

test("generateSignature() works without Buffer", async () => {
  const globals = globalThis as { Buffer?: unknown };
  const saved = globals.Buffer;
  delete globals.Buffer;
  try {
    assertStrictEquals(globals.Buffer, undefined);
    const signed = await generateSignature({ partnerId, apiKey, timestamp: javaVector.timestamp });
    assertEquals(signed, javaVector);
    assertStrictEquals(await verifySignature({ partnerId, apiKey, ...javaVector }), true);
  } finally {
    if (saved !== undefined) globals.Buffer = saved;
  }
});

test("generateSignature() and verifySignature() reject, not throw, on bad credentials", async () => {
  // deno-lint-ignore no-explicit-any
  const bad = { partnerId: 85 as any, apiKey, timestamp: javaVector.timestamp, signature: javaVector.signature };
  // A synchronous throw would escape these two lines and fail the test.
  const generated = generateSignature(bad);
  const verified = verifySignature(bad);
  await assertRejectsWithCode(() => generated, "invalid_argument");
  await assertRejectsWithCode(() => verified, "invalid_argument");
});

/** The signature computed the plain way: the whole message encoded at once, its own key import. */
async function reference(partner: string, key: string, timestamp: string): Promise<string> {
  const encoder = new TextEncoder();
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    encoder.encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(timestamp + partner + "sid_request")),
  );
  return btoa(String.fromCharCode(...mac));
}

test("createSigner(): 64 signatures and verifications in flight, across signers, each over its own message", async () => {
  // Messages share one scratch buffer; each must be handed to WebCrypto before the next is written.
  const signers = [
    createSigner({ partnerId, apiKey }),
    createSigner({ partnerId: "a-much-longer-partner-id", apiKey }),
  ];
  const timestamps = Array.from({ length: 64 }, (_, i) => new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString());
  const signed = await Promise.all(timestamps.map((t, i) => signers[i % 2]!.sign(t)));
  for (const [i, { signature, timestamp }] of signed.entries()) {
    assertStrictEquals(timestamp, timestamps[i]);
    assertStrictEquals(signature, await reference(signers[i % 2]!.partnerId, apiKey, timestamp), `signature ${i}`);
  }
  const verdicts = await Promise.all(
    signed.flatMap(({ signature, timestamp }, i) => [
      signers[i % 2]!.verify(timestamp, signature),
      signers[(i + 1) % 2]!.verify(timestamp, signature), // the other partner: must not verify
    ]),
  );
  assertEquals(verdicts, signed.flatMap(() => [true, false]));
});

test("createSigner() signs long and non-ASCII timestamps, and surrogates split across timestamp and partner, exactly", async () => {
  const cases: [string, string][] = [
    [partnerId, "x".repeat(5000)], // longer than the scratch buffer
    [partnerId, "2024-01-01T00:00:00.000+01:00 \u00e9\u4e2d\u{1F600}"],
    ["\uDE00partner", "2024-01-01T00:00:00.000Z\uD83D"], // joined, they are one code point: U+1F600
    [partnerId, "lone \uD800 surrogate"],
  ];
  for (const [partner, timestamp] of cases) {
    const signer = createSigner({ partnerId: partner, apiKey });
    const { signature } = await signer.sign(timestamp);
    assertStrictEquals(
      signature,
      await reference(partner, apiKey, timestamp),
      `${partner} / ${timestamp.slice(0, 40)}`,
    );
    if (timestamp.length <= 256) assert(await signer.verify(timestamp, signature));
  }
});
