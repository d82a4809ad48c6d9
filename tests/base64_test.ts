import { test } from "node:test";
import { assertEquals, assertStrictEquals } from "@std/assert";
import { encodeBase64 } from "@std/encoding/base64";
import { decodeDigest } from "../src/signature.ts";

function viaBtoa(bytes: Uint8Array): string {
  return btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(""));
}

test("encodeBase64() matches btoa for every length and padding", () => {
  for (let length = 0; length <= 67; length++) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    assertStrictEquals(encodeBase64(bytes), viaBtoa(bytes), `length ${length}`);
  }
  assertStrictEquals(encodeBase64(new Uint8Array([255, 255, 255, 0, 0])), "////AAA=");
});

test("decodeDigest() inverts encodeBase64 for 32-byte digests", () => {
  for (let round = 0; round < 200; round++) {
    const digest = crypto.getRandomValues(new Uint8Array(32));
    assertEquals(decodeDigest(encodeBase64(digest)), digest);
  }
  assertEquals(decodeDigest("/".repeat(42) + "8="), new Uint8Array(32).fill(255));
});

test("decodeDigest() refuses text that is not a canonical 32-byte digest", () => {
  const canonical = encodeBase64(new Uint8Array(32).fill(7));
  for (const text of [canonical.slice(1), `${canonical}=`, canonical.replace(/=$/, "A"), "A".repeat(42) + "B="]) {
    assertStrictEquals(decodeDigest(text), undefined, text);
  }
});
