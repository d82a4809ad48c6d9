/**
 * A {@linkcode ReplayGuard} on Deno KV, shared by every process that opens the same database
 * (one SQLite file on one machine, or a Deno Deploy database): {@linkcode createKvReplayGuard}
 * takes the application's own `Deno.Kv`. The module uses no `Deno` global; it type-checks and
 * loads in any runtime, and needs only the methods of {@linkcode KvLike}.
 *
 * - **claim** is one atomic commit, `kv.atomic().check({ key, versionstamp: null }).set(key,
 *   claim, { expireIn }).commit()`: of any number of concurrent claims of one key, exactly one
 *   commit succeeds. The claim is `{ token, expiresAt }`, stored as JSON bytes, which Deno and
 *   npm `@deno/kv` read back alike. Deno KV deletes an expired key only at some time after its
 *   `expireIn` ("the key may still be visible for some additional time"), so the claim carries
 *   its own `expiresAt`: an entry whose `expiresAt` has passed counts as absent and is claimed
 *   again by a commit that checks its versionstamp, which is just as atomic.
 * - **contention**: on a local SQLite file, a commit that meets another process's write can
 *   fail with "database is locked" before writing anything; the guard retries that for up to
 *   5 seconds (an attempt that did commit is recognised by its token). Other failures reject
 *   at once with a {@linkcode SmileIdError} whose code is `replay_guard` and whose `cause` is
 *   the store's error.
 * - **release** reads the entry and deletes it only if it still holds the random token this
 *   guard wrote, with a commit that checks the versionstamp it read: a claim that expired and
 *   was then taken by another instance is never deleted by the first one.
 * - **ttl**: `ttlSeconds` is rounded up to whole seconds (at least 1), like the other store
 *   guards. `expiresAt` is read from the clock of the instance that claims, so instances
 *   should keep their clocks in step (NTP): a clock that runs ahead sees claims expire early.
 *
 * `Deno.openKv(path)` needs `--unstable-kv` (or `"unstable": ["kv"]` in `deno.json`).
 *
 * In Node, npm `@deno/kv` works too: checked with `@deno/kv` 0.14.0's `openKv(path)` in Node
 * 20.20, 22.23 and 24.21 (claim, a second claim, release, claim again, expiry), and with a Node
 * process on `@deno/kv` and a Deno process each making 100 concurrent claims of the same 10
 * keys at the same moment on one SQLite file: exactly one claim of each key succeeded, in 9 of
 * 9 runs. That check is not part of this project's automated suite, which runs Deno KV in Deno.
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

import { escapeText, invalidArgument, SmileIdError } from "./errors.ts";
import { checkKey, type Claim, ClaimTokens, wholeSeconds } from "./_claims.ts";
import type { ReplayGuard } from "./replay_guard.ts";

export type { ReplayGuard };

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
 * await createKvReplayGuard(kv, { prefix }).claim("pair", 300);
 * const keys = await Array.fromAsync(kv.list({ prefix }), (entry) => entry.key);
 * assertEquals(keys, [["tenant", 7, "smile-replay", "pair"]]);
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
 * assertEquals([await guard.claim("pair", 300), await guard.claim("pair", 300)], [true, false]);
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

/** How many commits in a row a claim may lose to other writers of its key before giving up. */
const MAX_LOST_COMMITS = 8;
/** How long a claim or release keeps retrying while SQLite reports the database locked. */
const LOCKED_RETRY_MS = 5000;

/**
 * Creates a {@linkcode ReplayGuard} on Deno KV (see the module documentation for the commits it
 * makes). The guard keeps, for each key it claimed, the random token it wrote, so that
 * `release` deletes only its own claim.
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
 * assertEquals(await guard.claim("pair", 300), true);
 * assertEquals(await guard.claim("pair", 300), false);
 * await guard.release("pair");
 * assertEquals(await guard.claim("pair", 300), true);
 * assertEquals([...data.keys()], ['["test","pair"]']);
 * ```
 */
export function createKvReplayGuard(kv: KvLike, options: CreateKvReplayGuardOptions = {}): ReplayGuard {
  if (typeof kv?.get !== "function" || typeof kv.atomic !== "function") {
    throw invalidArgument("The Deno KV store", "a Deno.Kv (with get and atomic)", kv);
  }
  const prefix = options?.prefix ?? ["smile-id", "replay"];
  if (!Array.isArray(prefix)) throw invalidArgument("Option prefix", "an array of Deno KV key parts", prefix);
  const tokens = new ClaimTokens();

  return {
    async claim(key, ttlSeconds) {
      const ttl = wholeSeconds(key, ttlSeconds);
      const kvKey = [...prefix, key];
      const token = crypto.randomUUID();
      return await guarded("claim", async () => {
        // Expect the key absent; after a lost commit, expect what is there if it has expired.
        let expected: string | null = null;
        for (let lost = 0; lost < MAX_LOST_COMMITS; lost++) {
          const expiresAt = Date.now() + ttl * 1000;
          const result = await kv.atomic()
            .check({ key: kvKey, versionstamp: expected })
            .set(kvKey, encodeClaim({ token, expiresAt }), { expireIn: ttl * 1000 })
            .commit();
          if (result.ok) {
            tokens.set(key, token, expiresAt);
            return true;
          }
          const entry = await kv.get(kvKey);
          const held = decodeClaim(entry.value);
          if (held?.token === token) {
            // This claim's own commit, applied although an earlier attempt reported an error.
            tokens.set(key, token, held.expiresAt);
            return true;
          }
          // Anything under the key that is not an expired claim counts as held.
          if (entry.versionstamp !== null && !(held !== undefined && held.expiresAt <= Date.now())) return false;
          expected = entry.versionstamp;
        }
        throw new SmileIdError(
          "replay_guard",
          `The Deno KV replay guard lost ${MAX_LOST_COMMITS} commits in a row on one key; giving up`,
        );
      });
    },
    async release(key) {
      checkKey(key);
      const token = tokens.take(key);
      if (token === undefined) return;
      const kvKey = [...prefix, key];
      await guarded("release", async () => {
        const entry = await kv.get(kvKey);
        if (entry.versionstamp === null || decodeClaim(entry.value)?.token !== token) return;
        // If the commit fails, the entry changed since the read: it is no longer this claim.
        await kv.atomic().check({ key: kvKey, versionstamp: entry.versionstamp }).delete(kvKey).commit();
      });
    },
  };
}

/**
 * A claim as stored: the JSON of `{ token, expiresAt }` as bytes. Deno KV stores a `Uint8Array`
 * as raw bytes, where any other value is V8-serialized, and a V8 serialization written by one
 * V8 version cannot always be read by an older one (npm `@deno/kv` in Node 20 fails on
 * objects Deno 2.9 wrote), so bytes keep Deno and Node instances readable to each other.
 */
function encodeClaim(claim: Claim): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(claim));
}

/** The claim a stored value holds, or undefined for anything else. */
function decodeClaim(value: unknown): Claim | undefined {
  if (!(value instanceof Uint8Array)) return undefined;
  try {
    const claim = JSON.parse(new TextDecoder().decode(value)) as Partial<Claim> | null;
    return typeof claim?.token === "string" && typeof claim.expiresAt === "number"
      ? { token: claim.token, expiresAt: claim.expiresAt }
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
 * claim is safe even if a failed attempt did commit: its entry carries this claim's token,
 * which the next attempt recognises.
 */
async function guarded<T>(what: "claim" | "release", work: () => Promise<T>): Promise<T> {
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
