// createKvReplayGuard against real Deno KV: a SQLite file in a temporary folder, opened with
// Deno.openKv (the test runs with --unstable-kv), and shared by two Deno processes for the
// proofs. Deno KV exists only in Deno, so in Node and Bun these tests are skipped (the guard's
// argument checks still run everywhere).

import { test } from "node:test";
import { assert, assertEquals, assertInstanceOf, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SmileIdError } from "../../src/errors.ts";
import { createKvReplayGuard, type KvLike } from "../../src/deno_kv.ts";
import { assertStoreFailure, claimProof, handlerProof } from "./_guard_proof.ts";
import { sleep } from "../_helpers.ts";

interface Kv extends KvLike {
  set(key: readonly unknown[], value: unknown, options?: { expireIn?: number }): Promise<unknown>;
  delete(key: readonly unknown[]): Promise<void>;
  close(): void;
}

const deno = (globalThis as { Deno?: { openKv?: (path: string) => Promise<Kv> } }).Deno;
const skip = deno === undefined ? "Deno KV exists only in Deno" : false;

/** Runs `body` with a fresh KV database file; closes every handle and removes the folder after. */
async function withKv(body: (open: () => Promise<Kv>, path: string) => Promise<void>): Promise<void> {
  if (typeof deno?.openKv !== "function") {
    throw new Error("Deno.openKv is missing: run this test with --unstable-kv (deno test -A --unstable-kv)");
  }
  const dir = mkdtempSync(join(tmpdir(), "smile-kv-"));
  const path = join(dir, "replay.sqlite");
  const handles: Kv[] = [];
  try {
    await body(async () => {
      const kv = await deno.openKv!(path);
      handles.push(kv);
      return kv;
    }, path);
  } finally {
    for (const kv of handles) {
      try {
        kv.close();
      } catch {
        // already closed by the test
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A stored claim, as the guard writes it: JSON bytes of `{ token, expiresAt }`. */
function storedClaim(value: unknown): { token: string; expiresAt: number } {
  assertInstanceOf(value, Uint8Array, "a claim is stored as bytes");
  return JSON.parse(new TextDecoder().decode(value));
}
const claimBytes = (token: string, expiresAt: number) => new TextEncoder().encode(JSON.stringify({ token, expiresAt }));

test("deno-kv: claim records the key once; release lets it be claimed again", { skip }, async () => {
  await withKv(async (open) => {
    const kv = await open();
    const guard = createKvReplayGuard(kv);
    assertStrictEquals(await guard.claim("pair-1", 300), true);
    assertStrictEquals(await guard.claim("pair-1", 300), false);
    assertStrictEquals(await guard.claim("pair-2", 300), true, "another key is independent");
    const entry = await kv.get(["smile-id", "replay", "pair-1"]);
    const value = storedClaim(entry.value);
    assert(typeof value.token === "string" && value.token.length >= 32, "a random token is stored");
    const left = value.expiresAt - Date.now();
    assert(left > 298_000 && left <= 300_000, `expiresAt is 300 s ahead, is ${left} ms`);
    await guard.release("pair-1");
    assertStrictEquals((await kv.get(["smile-id", "replay", "pair-1"])).versionstamp, null);
    assertStrictEquals(await guard.claim("pair-1", 300), true);
    await guard.release("never-claimed"); // a no-op
  });
});

test("deno-kv: concurrent claims of one key through two handles: exactly one wins", { skip }, async () => {
  await withKv(async (open) => {
    const guards = [createKvReplayGuard(await open()), createKvReplayGuard(await open())];
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => guards[i % 2]!.claim("contended", 60)));
    assertEquals(results.filter(Boolean).length, 1);
  });
});

test("deno-kv: the prefix option namespaces the keys", { skip }, async () => {
  await withKv(async (open) => {
    const kv = await open();
    const a = createKvReplayGuard(kv, { prefix: ["shop-a"] });
    const b = createKvReplayGuard(kv, { prefix: ["shop-b"] });
    assertStrictEquals(await a.claim("pair", 60), true);
    assertStrictEquals(await b.claim("pair", 60), true, "other prefix, other key");
    assert((await kv.get(["shop-a", "pair"])).versionstamp !== null);
    assert((await kv.get(["shop-b", "pair"])).versionstamp !== null);
  });
});

test("deno-kv: ttl is rounded up to whole seconds; an expired entry counts as absent even while still visible", {
  skip,
}, async () => {
  await withKv(async (open) => {
    const kv = await open();
    const guard = createKvReplayGuard(kv, { prefix: [] });
    assertStrictEquals(await guard.claim("short", 0.2), true);
    const { expiresAt } = storedClaim((await kv.get(["short"])).value);
    const left = expiresAt - Date.now();
    assert(left > 500 && left <= 1000, `rounded up to 1 s, expires in ${left} ms`);
    assertStrictEquals(await guard.claim("short", 0.2), false);
    await sleep(1100);
    assertStrictEquals(await guard.claim("short", 1), true, "an expired claim can be taken again");

    // Deno KV may keep an expired key visible for a while: a claim whose expiresAt passed is
    // taken again (here written with no expireIn at all, so KV never deletes it).
    await kv.set(["stale"], claimBytes("someone-else", Date.now() - 1));
    assertStrictEquals(await guard.claim("stale", 60), true);
    assertStrictEquals(await guard.claim("stale", 60), false);

    // Anything else under the key is held, never overwritten.
    await kv.set(["foreign"], "not a claim");
    assertStrictEquals(await guard.claim("foreign", 60), false);
    assertStrictEquals((await kv.get(["foreign"])).value, "not a claim");
    await kv.set(["live"], claimBytes("someone-else", Date.now() + 60_000));
    assertStrictEquals(await guard.claim("live", 60), false, "a live claim written by another instance holds");

    for (const ttl of [0, -1, Number.NaN, Infinity]) {
      const error = await assertRejects(() => guard.claim("bad-ttl", ttl), SmileIdError);
      assertStrictEquals(error.code, "invalid_argument");
    }
  });
});

test("deno-kv: release never deletes a claim another instance took after expiry", { skip }, async () => {
  await withKv(async (open) => {
    const kv = await open();
    const first = createKvReplayGuard(kv, { prefix: [] });
    const second = createKvReplayGuard(await open(), { prefix: [] });

    // The key vanished (expired) before the first instance's own clock says so.
    assertStrictEquals(await first.claim("pair", 60), true);
    await kv.delete(["pair"]);
    assertStrictEquals(await second.claim("pair", 60), true);
    const secondEntry = await kv.get(["pair"]);
    await first.release("pair"); // the token is not the first's any more
    assertEquals(await kv.get(["pair"]), secondEntry, "the second instance's claim survived");
    assertStrictEquals(await first.claim("pair", 60), false);

    // Real expiry: the first's claim lapses, the second takes it, the first releases late.
    assertStrictEquals(await first.claim("lapsing", 1), true);
    await sleep(1100);
    assertStrictEquals(await second.claim("lapsing", 60), true);
    await first.release("lapsing");
    assert((await kv.get(["lapsing"])).versionstamp !== null, "the late release deleted nothing");
    await second.release("lapsing");
    assertStrictEquals((await kv.get(["lapsing"])).versionstamp, null, "the owner's release deletes it");
  });
});

test("deno-kv: a store failure rejects with a SmileIdError (code replay_guard) and its cause", { skip }, async () => {
  await withKv(async (open) => {
    const kv = await open();
    const guard = createKvReplayGuard(kv);
    assertStrictEquals(await guard.claim("held", 60), true);
    kv.close();
    await assertStoreFailure(guard, "held");
  });
});

test("createKvReplayGuard refuses what is not a Deno.Kv, and bad options", () => {
  for (const kv of [null, undefined, {}, { get: () => {} }]) {
    const error = assertThrows(() => createKvReplayGuard(kv as unknown as KvLike), SmileIdError);
    assertStrictEquals(error.code, "invalid_argument");
  }
  const kv = { get: () => Promise.reject(new Error("unused")), atomic: () => ({}) } as unknown as KvLike;
  assertThrows(() => createKvReplayGuard(kv, { prefix: "smile" as unknown as string[] }), SmileIdError);
});

test("two Deno processes × 100 concurrent claims of 10 keys on one SQLite file: one claim of each key wins", {
  skip,
}, async () => {
  await withKv(async (_open, path) => {
    await claimProof({ store: "deno-kv", path }, { store: "deno-kv", path });
  });
});

test("two Deno processes with their own handle, guard and handler: 200 concurrent deliveries, onCallback runs once", {
  skip,
}, async () => {
  await withKv(async (_open, path) => {
    const result = await handlerProof({ store: "deno-kv", path }, { store: "deno-kv", path });
    console.log(
      `deliveries answered: ${JSON.stringify(result.statuses)}; onCallback runs per process: ${result.counts}`,
    );
  });
});
