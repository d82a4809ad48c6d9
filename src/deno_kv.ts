/**
 * A {@linkcode ReplayGuard} on Deno KV, shared by every process that opens the same database
 * (one SQLite file on one machine, or a Deno Deploy database): {@linkcode createKvReplayGuard}
 * takes the application's own `Deno.Kv`. The module uses no `Deno` global; it type-checks and
 * loads in any runtime, and needs only the methods of {@linkcode KvLike}.
 *
 * Each key holds one entry, the JSON of `{ state: "lease", token, expiresAt }` while a delivery
 * processes it and `{ state: "done", expiresAt }` once it is processed, stored as bytes (which
 * Deno and npm `@deno/kv` read back alike).
 *
 * - **begin** reads the entry (`kv.get`): a live `done` or lease answers at once, with no
 *   commit. An absent or expired entry is taken with one atomic commit,
 *   `kv.atomic().check({ key, versionstamp }).set(key, lease, { expireIn }).commit()`, where
 *   `versionstamp` is what the read saw (`null`: absent): of any number of concurrent `begin`s
 *   of one key, exactly one commit succeeds; the others read again and report what they find.
 *   Deno KV deletes an expired key only some time after its `expireIn` ("the key may still be
 *   visible for some additional time"), so each entry carries its own `expiresAt`, and one whose
 *   `expiresAt` has passed counts as absent.
 * - **finish** is one commit that writes `done` with `expireIn: rememberSeconds`.
 * - **abandon** reads the entry and deletes it only if it still holds this lease's token, with a
 *   commit that checks the versionstamp it read: a lease that lapsed and was then taken by
 *   another instance is never deleted.
 * - So a first delivery makes 2 commits (and one read), a duplicate one read.
 * - **contention and lost answers**: on a local SQLite file, a commit that meets another
 *   process's write can fail with "database is locked"; the guard retries that for up to 5
 *   seconds. A commit that failed but was applied anyway is recognised by its token: by the
 *   retry, or by this guard's next `begin` of the key, which likewise takes back a lease whose
 *   `abandon` failed. Other failures reject at once with a
 *   {@linkcode SmileIdError} whose code is `replay_guard` and whose `cause` is the store's error.
 * - **time**: seconds are rounded up to whole seconds (at least 1), like the other store guards.
 *   `expiresAt` is read from the clock of the instance that writes it and compared with the
 *   clock of the instance that reads it, so instances must keep their clocks in step (NTP): a
 *   clock that runs ahead by more than the lease sees other instances' leases as lapsed.
 *
 * `Deno.openKv(path)` needs `--unstable-kv` (or `"unstable": ["kv"]` in `deno.json`).
 *
 * In Node, npm `@deno/kv` offers the same methods (`get`, `atomic`); this project's automated
 * suite runs Deno KV in Deno only.
 *
 * @example
 * ```ts ignore
 * import { createKvReplayGuard } from "@smile-id-kit/job-status/deno-kv";
 *
 * const kv = await Deno.openKv(); // deno run --unstable-kv
 * const replayGuard = createKvReplayGuard(kv);
 * ```
 *
 * @module
 */

import { SmileIdError } from "./errors.ts";
import { BUSY, checkKey, checkToken, claimed, DONE, foreignValue, UncertainLeases, wholeSeconds } from "./_claims.ts";
import type { ReplayGuard, ReplayKeyState } from "./replay_guard.ts";
import { escapeText, invalidArgument } from "./_validate.ts";

export type { ReplayGuard, ReplayKeyState };

/**
 * One part of a Deno KV key, as `Deno.KvKeyPart`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createKvReplayGuard, type KvKeyPart } from "@smile-id-kit/job-status/deno-kv";
 *
 * const kv = await Deno.openKv(":memory:");
 * const prefix: KvKeyPart[] = ["tenant", 7, "smile-replay"];
 * await createKvReplayGuard(kv, { prefix }).begin("result:1", 300);
 * const keys = await Array.fromAsync(kv.list({ prefix }), (entry) => entry.key);
 * assertEquals(keys, [["tenant", 7, "smile-replay", "result:1"]]);
 * kv.close();
 * ```
 */
export type KvKeyPart = Uint8Array | string | number | bigint | boolean;

/**
 * The part of `Deno.AtomicOperation` the guard uses.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { KvAtomicLike } from "@smile-id-kit/job-status/deno-kv";
 *
 * const atomic: KvAtomicLike = {
 *   check: () => atomic,
 *   set: () => atomic,
 *   delete: () => atomic,
 *   commit: () => Promise.resolve({ ok: false }),
 * };
 * assertEquals(await atomic.check().commit(), { ok: false });
 * ```
 */
export interface KvAtomicLike {
  /** Adds versionstamp checks: the commit fails unless each key has that versionstamp (`null`: absent). */
  check(...checks: { readonly key: readonly KvKeyPart[]; readonly versionstamp: string | null }[]): KvAtomicLike;
  /** Adds a set, expiring after `expireIn` milliseconds. */
  set(key: readonly KvKeyPart[], value: unknown, options?: { expireIn?: number }): KvAtomicLike;
  /** Adds a delete. */
  delete(key: readonly KvKeyPart[]): KvAtomicLike;
  /** Commits all of it or nothing; `ok` tells which. */
  commit(): Promise<{ readonly ok: boolean }>;
}

/**
 * The part of `Deno.Kv` (or npm `@deno/kv`'s `Kv`) the guard uses.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { KvLike } from "@smile-id-kit/job-status/deno-kv";
 *
 * const empty: Pick<KvLike, "get"> = { get: () => Promise.resolve({ value: null, versionstamp: null }) };
 * assertEquals((await empty.get(["k"])).versionstamp, null);
 * ```
 */
export interface KvLike {
  /** Reads one entry; `versionstamp` is `null` when the key is absent. */
  get(key: readonly KvKeyPart[]): Promise<{ readonly value: unknown; readonly versionstamp: string | null }>;
  /** Starts an atomic operation. */
  atomic(): KvAtomicLike;
}

/**
 * Options of {@linkcode createKvReplayGuard}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createKvReplayGuard, type CreateKvReplayGuardOptions } from "@smile-id-kit/job-status/deno-kv";
 *
 * const kv = await Deno.openKv(":memory:");
 * const options: CreateKvReplayGuardOptions = { prefix: ["shop-a", "smile-replay"] };
 * const guard = createKvReplayGuard(kv, options);
 * assertEquals((await guard.begin("result:1", 300)).state, "claimed");
 * assertEquals((await guard.begin("result:1", 300)).state, "busy");
 * kv.close();
 * ```
 */
export interface CreateKvReplayGuardOptions {
  /**
   * Key parts put before every claimed key (the key is `[...prefix, key]`), so the guard's
   * entries stay apart from the application's.
   *
   * @default {["smile-id", "replay"]}
   */
  readonly prefix?: readonly KvKeyPart[];
}

/** How many commits in a row a `begin` may lose to other writers of its key before giving up. */
const MAX_LOST_COMMITS = 8;
/** How long an operation keeps retrying while SQLite reports the database locked. */
const LOCKED_RETRY_MS = 5000;

/**
 * Creates a {@linkcode ReplayGuard} on Deno KV (see the module documentation for the reads and
 * commits it makes).
 *
 * @example With a tiny in-memory stand-in for `Deno.Kv`
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createKvReplayGuard, type KvAtomicLike, type KvLike } from "@smile-id-kit/job-status/deno-kv";
 *
 * // Just enough of Deno KV: versionstamp checks, set and delete, committed all at once.
 * const data = new Map<string, { value: unknown; versionstamp: string }>();
 * let version = 0;
 * const kv: KvLike = {
 *   get: (key) => Promise.resolve(data.get(JSON.stringify(key)) ?? { value: null, versionstamp: null }),
 *   atomic() {
 *     const checks: [string, string | null][] = [];
 *     const writes: [string, unknown][] = [];
 *     const op: KvAtomicLike = {
 *       check: (...list) => (list.forEach((c) => checks.push([JSON.stringify(c.key), c.versionstamp])), op),
 *       set: (key, value) => (writes.push([JSON.stringify(key), value]), op),
 *       delete: (key) => (writes.push([JSON.stringify(key), undefined]), op),
 *       commit() {
 *         if (checks.some(([key, stamp]) => (data.get(key)?.versionstamp ?? null) !== stamp)) {
 *           return Promise.resolve({ ok: false });
 *         }
 *         const versionstamp = String(++version);
 *         for (const [key, value] of writes) value === undefined ? data.delete(key) : data.set(key, { value, versionstamp });
 *         return Promise.resolve({ ok: true });
 *       },
 *     };
 *     return op;
 *   },
 * };
 *
 * const guard = createKvReplayGuard(kv, { prefix: ["test"] });
 * const first = await guard.begin("result:1", 300);
 * assertEquals((await guard.begin("result:1", 300)).state, "busy");
 * if (first.state === "claimed") await guard.finish("result:1", first.token, 3600);
 * assertEquals((await guard.begin("result:1", 300)).state, "done");
 * assertEquals([...data.keys()], ['["test","result:1"]']);
 * ```
 */
export function createKvReplayGuard(kv: KvLike, options: CreateKvReplayGuardOptions = {}): ReplayGuard {
  if (typeof kv?.get !== "function" || typeof kv.atomic !== "function") {
    throw invalidArgument("The Deno KV store", "a Deno.Kv (with get and atomic)", kv);
  }
  const prefix = options?.prefix ?? ["smile-id", "replay"];
  if (!Array.isArray(prefix)) throw invalidArgument("Option prefix", "an array of Deno KV key parts", prefix);
  const uncertain = new UncertainLeases();

  return {
    async begin(key, leaseSeconds): Promise<ReplayKeyState> {
      const seconds = wholeSeconds(key, leaseSeconds, "leaseSeconds");
      const kvKey = [...prefix, key];
      const token = crypto.randomUUID();
      return await guarded("begin", async () => {
        let entry = await kv.get(kvKey);
        for (let lost = 0; lost < MAX_LOST_COMMITS; lost++) {
          if (entry.versionstamp !== null) {
            const held = decodeEntry(entry.value);
            if (held === undefined) throw foreignValue("Deno KV", entry.value);
            if (held.expiresAt > Date.now()) {
              if (held.state === "done") return DONE;
              // This begin's own commit, applied although it reported an error, or an earlier
              // begin of this guard that failed without an answer.
              if (held.token === token || uncertain.take(key, held.token)) return claimed(held.token);
              return BUSY;
            }
          }
          const expiresAt = Date.now() + seconds * 1000;
          let result: { readonly ok: boolean };
          try {
            result = await kv.atomic()
              .check({ key: kvKey, versionstamp: entry.versionstamp })
              .set(kvKey, encodeEntry({ state: "lease", token, expiresAt }), { expireIn: seconds * 1000 })
              .commit();
          } catch (error) {
            uncertain.add(key, token, expiresAt);
            throw error;
          }
          if (result.ok) return claimed(token);
          entry = await kv.get(kvKey);
        }
        throw new SmileIdError(
          "replay_guard",
          `The Deno KV replay guard lost ${MAX_LOST_COMMITS} commits in a row on one key; giving up`,
        );
      });
    },
    async finish(key, token, rememberSeconds) {
      const seconds = wholeSeconds(key, rememberSeconds, "rememberSeconds");
      checkToken(token);
      uncertain.forget(key);
      const kvKey = [...prefix, key];
      await guarded("finish", async () => {
        const value = encodeEntry({ state: "done", expiresAt: Date.now() + seconds * 1000 });
        await kv.atomic().set(kvKey, value, { expireIn: seconds * 1000 }).commit();
      });
    },
    async abandon(key, token) {
      checkKey(key);
      checkToken(token);
      uncertain.forget(key);
      const kvKey = [...prefix, key];
      try {
        await guarded("abandon", async () => {
          const entry = await kv.get(kvKey);
          const held = decodeEntry(entry.value);
          if (entry.versionstamp === null || held?.state !== "lease" || held.token !== token) return;
          // If the commit fails, the entry changed since the read: it is no longer this lease.
          await kv.atomic().check({ key: kvKey, versionstamp: entry.versionstamp }).delete(kvKey).commit();
        });
      } catch (error) {
        // The lease may still be there: this guard's next begin of the key takes it back.
        uncertain.add(key, token);
        throw error;
      }
    },
  };
}

/** What a key holds: a lease with its token, or the mark that it is done; both expire. */
type Entry =
  | { readonly state: "lease"; readonly token: string; readonly expiresAt: number }
  | { readonly state: "done"; readonly expiresAt: number };

/**
 * An entry as stored: its JSON as bytes. Deno KV stores a `Uint8Array` as raw bytes, where any
 * other value is V8-serialized, and a V8 serialization written by one V8 version cannot always
 * be read by an older one (npm `@deno/kv` in Node 20 fails on objects Deno 2.9 wrote), so bytes
 * keep Deno and Node instances readable to each other.
 */
function encodeEntry(entry: Entry): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(entry));
}

/** The entry a stored value holds, or undefined for anything else. */
function decodeEntry(value: unknown): Entry | undefined {
  if (!(value instanceof Uint8Array)) return undefined;
  try {
    const entry = JSON.parse(new TextDecoder().decode(value)) as Partial<Record<string, unknown>> | null;
    if (typeof entry?.expiresAt !== "number") return undefined;
    if (entry.state === "done") return { state: "done", expiresAt: entry.expiresAt };
    return entry.state === "lease" && typeof entry.token === "string" && entry.token !== ""
      ? { state: "lease", token: entry.token, expiresAt: entry.expiresAt }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs store work; whatever the store throws becomes a `replay_guard` error with it as `cause`.
 *
 * A local database is one SQLite file: under concurrent writers, from other processes or other
 * handles, a commit can fail with "database is locked" (SQLITE_BUSY) before anything is written.
 * That is retried, with a short random pause, for up to {@linkcode LOCKED_RETRY_MS}. Retrying a
 * `begin` is safe even if a failed attempt did commit: its entry carries this `begin`'s token,
 * which the next attempt recognises.
 */
async function guarded<T>(what: "begin" | "finish" | "abandon", work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCKED_RETRY_MS;
  for (let attempt = 1;; attempt++) {
    try {
      return await work();
    } catch (cause) {
      if (cause instanceof SmileIdError) throw cause;
      const reason = cause instanceof Error ? escapeText(`${cause.name}: ${cause.message}`) : "the store failed";
      if (/database is locked|SQLITE_BUSY/i.test(reason) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 5 * attempt)));
        continue;
      }
      throw new SmileIdError("replay_guard", `The Deno KV replay guard could not ${what} a key (${reason})`, { cause });
    }
  }
}
