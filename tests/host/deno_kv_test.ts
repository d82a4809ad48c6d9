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
import {
  assertCjkOnce,
  assertGuardBasics,
  assertOperationCounts,
  assertReconcileShares,
  assertStoreFailure,
  interceptKv,
  type OperationCounter,
} from "./_guard_checks.ts";
import { beginProof, handlerProof } from "./_guard_proof.ts";
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

/** A stored entry, as the guard writes it: JSON bytes of `{ state, token?, expiresAt }`. */
function storedEntry(value: unknown): { state: string; token?: string; expiresAt: number } {
  assertInstanceOf(value, Uint8Array, "an entry is stored as bytes");
  return JSON.parse(new TextDecoder().decode(value));
}
const entryBytes = (entry: Record<string, unknown>) => new TextEncoder().encode(JSON.stringify(entry));

/** A wrapper of a real Deno.Kv that counts its reads and commits (plain sets count as commits). */
function counting(kv: Kv): { kv: KvLike; counter: OperationCounter } {
  let reads = 0;
  let commits = 0;
  const counter = { writes: () => commits, all: () => reads + commits, reset: () => void (reads = commits = 0) };
  const wrapped = interceptKv(kv, (operation, kind) => (kind === "read" ? reads++ : commits++, operation()));
  return { kv: wrapped, counter };
}

test("deno-kv: begin takes a key once, reports it busy or done; abandon needs the token", { skip }, async () => {
  await withKv(async (open) => {
    const kv = await open();
    await assertGuardBasics(createKvReplayGuard(kv), createKvReplayGuard(await open()));
    const guard = createKvReplayGuard(kv);
    const lease = await guard.begin("result:3", 300);
    assert(lease.state === "claimed");
    const leased = storedEntry((await kv.get(["smile-id", "replay", "result:3"])).value);
    assertStrictEquals(leased.state, "lease");
    assertStrictEquals(leased.token, lease.token);
    const left = leased.expiresAt - Date.now();
    assert(left > 298_000 && left <= 300_000, `expiresAt is 300 s ahead, is ${left} ms`);
    await guard.finish("result:3", lease.token, 3600);
    const done = storedEntry((await kv.get(["smile-id", "replay", "result:3"])).value);
    assertStrictEquals(done.state, "done");
    assert(done.expiresAt - Date.now() > 3_598_000, "remembered for 3600 s");
  });
});

test("deno-kv: concurrent begins of one key through two handles: exactly one is claimed", { skip }, async () => {
  await withKv(async (open) => {
    const guards = [createKvReplayGuard(await open()), createKvReplayGuard(await open())];
    const states = await Promise.all(Array.from({ length: 50 }, (_, i) => guards[i % 2]!.begin("contended", 60)));
    assertEquals(states.filter((s) => s.state === "claimed").length, 1);
  });
});

test("deno-kv: the prefix option namespaces the keys", { skip }, async () => {
  await withKv(async (open) => {
    const kv = await open();
    const a = createKvReplayGuard(kv, { prefix: ["shop-a"] });
    const b = createKvReplayGuard(kv, { prefix: ["shop-b"] });
    assertStrictEquals((await a.begin("result:1", 60)).state, "claimed");
    assertStrictEquals((await b.begin("result:1", 60)).state, "claimed", "other prefix, other key");
    assert((await kv.get(["shop-a", "result:1"])).versionstamp !== null);
    assert((await kv.get(["shop-b", "result:1"])).versionstamp !== null);
  });
});

test("deno-kv: seconds are rounded up to whole seconds; an expired entry counts as absent even while still visible", {
  skip,
}, async () => {
  await withKv(async (open) => {
    const kv = await open();
    const guard = createKvReplayGuard(kv, { prefix: [] });
    assertStrictEquals((await guard.begin("short", 0.2)).state, "claimed");
    const { expiresAt } = storedEntry((await kv.get(["short"])).value);
    const left = expiresAt - Date.now();
    assert(left > 500 && left <= 1000, `rounded up to 1 s, expires in ${left} ms`);
    assertStrictEquals((await guard.begin("short", 0.2)).state, "busy");
    await sleep(1100); // the entry's own expiresAt, 1 s ahead; the guard reads it against this clock
    assertStrictEquals((await guard.begin("short", 1)).state, "claimed", "a lapsed lease can be taken again");

    // Deno KV may keep an expired key visible for a while: an entry whose expiresAt passed is
    // taken again (here written with no expireIn at all, so KV never deletes it).
    await kv.set(["stale"], entryBytes({ state: "lease", token: "someone-else", expiresAt: Date.now() - 1 }));
    assertStrictEquals((await guard.begin("stale", 60)).state, "claimed");
    assertStrictEquals((await guard.begin("stale", 60)).state, "busy");
    await kv.set(["old-done"], entryBytes({ state: "done", expiresAt: Date.now() - 1 }));
    assertStrictEquals((await guard.begin("old-done", 60)).state, "claimed", "a forgotten done key is absent");
    await kv.set(["live"], entryBytes({ state: "lease", token: "someone-else", expiresAt: Date.now() + 60_000 }));
    assertStrictEquals((await guard.begin("live", 60)).state, "busy", "a live lease written by another instance holds");

    // Anything else under the key is refused, never overwritten.
    await kv.set(["foreign"], "not an entry");
    const error = await assertRejects(() => guard.begin("foreign", 60), SmileIdError);
    assertStrictEquals(error.code, "replay_guard");
    assertStrictEquals((await kv.get(["foreign"])).value, "not an entry");
  });
});

test("deno-kv: abandon never deletes a lease another instance took after the first lapsed", { skip }, async () => {
  await withKv(async (open) => {
    const kv = await open();
    const first = createKvReplayGuard(kv, { prefix: [] });
    const second = createKvReplayGuard(await open(), { prefix: [] });
    const mine = await first.begin("result:1", 60);
    assert(mine.state === "claimed");
    await kv.delete(["result:1"]); // lapsed
    const theirs = await second.begin("result:1", 60);
    assert(theirs.state === "claimed");
    const entry = await kv.get(["result:1"]);
    await first.abandon("result:1", mine.token); // the token is not the first's any more
    assertEquals(await kv.get(["result:1"]), entry, "the second instance's lease survived");
    await second.abandon("result:1", theirs.token);
    assertStrictEquals((await kv.get(["result:1"])).versionstamp, null, "the owner's abandon deletes it");
  });
});

test("deno-kv: a store failure rejects with a SmileIdError (code replay_guard) and its cause", { skip }, async () => {
  await withKv(async (open) => {
    const kv = await open();
    const guard = createKvReplayGuard(kv);
    assertStrictEquals((await guard.begin("held", 60)).state, "claimed");
    kv.close();
    await assertStoreFailure(guard);
  });
});

test("deno-kv: through a counting handle, a first delivery makes 2 commits, a duplicate 1 read", { skip }, async () => {
  await withKv(async (open) => {
    const { kv, counter } = counting(await open());
    await assertOperationCounts(createKvReplayGuard(kv), counter);
  });
});

test("deno-kv: 120-character CJK ids are processed once", { skip }, async () => {
  await withKv(async (open) => {
    await assertCjkOnce(createKvReplayGuard(await open()));
  });
});

test("deno-kv: reconcileJobs and a handler on another instance run a result that arrives both ways once", {
  skip,
}, async () => {
  await withKv(async (open) => {
    await assertReconcileShares(createKvReplayGuard(await open()), createKvReplayGuard(await open()));
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

test("two Deno processes × 100 concurrent begins of 10 keys on one SQLite file: one begin of each key is claimed", {
  skip,
}, async () => {
  await withKv(async (_open, path) => {
    await beginProof({ store: "deno-kv", path }, { store: "deno-kv", path });
  });
});

test(
  "two Deno processes with their own handle, guard and handler: 200 concurrent deliveries, onCallback once, redeliveries 200",
  {
    skip,
  },
  async () => {
    await withKv(async (_open, path) => {
      const result = await handlerProof({ store: "deno-kv", path }, { store: "deno-kv", path });
      console.log(
        `deliveries answered: ${JSON.stringify(result.statuses)}; onCallback runs per process: ${result.counts}`,
      );
    });
  },
);
