import { test } from "node:test";
import { assertEquals, assertStrictEquals } from "@std/assert";
import { ExpiringKeys } from "../src/_claims.ts";

/** Which of the candidates are held. */
function keysOf(keys: ExpiringKeys<number>, candidates: string[]): string[] {
  return candidates.filter((key) => keys.get(key) !== undefined);
}

test("ExpiringKeys trims from the oldest end: expired keys, then live ones while full", () => {
  const keys = new ExpiringKeys<number>();
  keys.set("a", 100, 1);
  keys.set("b", 300, 2);
  keys.set("c", 200, 3);
  keys.trim(150, Infinity); // "a" expired; "b" is live, so trimming stops there although "c" expires first
  assertEquals(keysOf(keys, ["a", "b", "c"]), ["b", "c"]);
  keys.trim(0, 2); // full at 2: the oldest live key goes
  assertEquals(keysOf(keys, ["a", "b", "c"]), ["c"]);
  assertStrictEquals(keys.get("c")?.value, 3);
  assertStrictEquals(keys.size, 1);
});

test("ExpiringKeys: a key set again becomes the newest, and a deleted key is skipped, not trimmed in its place", () => {
  const keys = new ExpiringKeys<number>();
  keys.set("a", 1000, 1);
  keys.set("b", 1000, 2);
  keys.set("a", 1000, 3); // now newer than "b"
  keys.trim(0, 2);
  assertEquals(keysOf(keys, ["a", "b"]), ["a"]);
  assertStrictEquals(keys.get("a")?.value, 3);
  keys.set("c", 1000, 4);
  keys.delete("a");
  keys.set("d", 1000, 5);
  keys.trim(0, 2); // "a"'s old slot is dead: the oldest live key is "c"
  assertEquals(keysOf(keys, ["a", "c", "d"]), ["d"]);
});

test("ExpiringKeys keeps every live key, in order, through compaction of many dead slots", () => {
  const keys = new ExpiringKeys<number>();
  for (let i = 0; i < 10; i++) keys.set(`live-${i}`, 1000, i);
  for (let i = 0; i < 5000; i++) {
    keys.set(`gone-${i}`, 1000, i);
    keys.delete(`gone-${i}`);
  }
  assertStrictEquals(keys.size, 10);
  for (let n = 10; n > 0; n--) {
    keys.trim(0, n); // drops exactly the oldest live key each time
    assertEquals(keys.get(`live-${10 - n}`), undefined);
    assertStrictEquals(keys.get(`live-${9}`)?.value, n > 1 ? 9 : undefined);
  }
  assertStrictEquals(keys.size, 0);
});
