/**
 * {@linkcode ReplayGuard}: where a callback endpoint records, in one key per result, that the
 * result is being processed or has been, so that it runs once however many times and on
 * however many instances it is delivered; and {@linkcode createMemoryReplayGuard}, an
 * implementation for one process or isolate. Guards on shared stores (Redis, Deno KV, a
 * Durable Object) have their own subpath exports.
 *
 * @module
 */

import { BUSY, checkKey, checkSeconds, checkToken, claimed, DONE, ExpiringKeys } from "./_claims.ts";
import { clockOption, readNow } from "./_clock.ts";
import type { Clock } from "./types.ts";
import { invalidArgument, positiveIntegerOption } from "./_validate.ts";

/**
 * What {@linkcode ReplayGuard.begin} found under a key: `claimed` (the caller now holds its
 * lease, and `token` proves it), `busy` (another delivery holds a live lease) or `done` (the
 * key was marked done and is still remembered).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createMemoryReplayGuard, type ReplayKeyState } from "@smile-id-kit/job-status";
 *
 * const guard = createMemoryReplayGuard();
 * const state: ReplayKeyState = await guard.begin("result:1", 60);
 * assertEquals(state.state, "claimed");
 * ```
 */
export type ReplayKeyState =
  | { readonly state: "claimed"; readonly token: string }
  | { readonly state: "busy" }
  | { readonly state: "done" };

/**
 * Where callbacks are recorded so that each result is processed once, however many times and on
 * however many instances it is delivered. Each key has one state, kept in one entry of the
 * store: absent, leased (a delivery is processing it; the entry holds that delivery's random
 * token) or done.
 *
 * - `begin` takes the lease on an absent (or expired) key for `leaseSeconds` **in one atomic
 *   step of the store** and answers `claimed` with the lease's token, or reports the key `busy`
 *   or `done`. A `get` followed by a `set` is not enough: two instances can both read "absent"
 *   before either writes, and both process the same result. A `begin` that the store runs twice
 *   (a client library re-sending a command whose reply was lost) must recognise the lease it
 *   finds as its own by its token, never answer `busy` or `done` for it.
 * - `finish` marks the key done for `rememberSeconds` (a plain write: it replaces the lease).
 * - `abandon` gives the lease up after a failure that a redelivery should retry, deleting the
 *   key only while it still holds `token` (a lease that lapsed and was taken by another
 *   delivery is left alone).
 *
 * The handler makes two calls for a first delivery (`begin`, `finish`) and one for a duplicate
 * (`begin`); `abandon` runs only after a failure.
 *
 * @example A guard on a store with atomic single-key operations (a Map stands in for it here)
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { ReplayGuard, ReplayKeyState } from "@smile-id-kit/job-status";
 *
 * // Each method's body is one synchronous step: atomic, as one store command would be.
 * const store = new Map<string, { value: string; expiresAt: number }>();
 * const live = (key: string) => {
 *   const entry = store.get(key);
 *   return entry !== undefined && entry.expiresAt > Date.now() ? entry.value : undefined;
 * };
 * const guard: ReplayGuard = {
 *   begin(key, leaseSeconds): Promise<ReplayKeyState> {
 *     const held = live(key);
 *     if (held === "done") return Promise.resolve({ state: "done" });
 *     if (held !== undefined) return Promise.resolve({ state: "busy" });
 *     const token = crypto.randomUUID();
 *     store.set(key, { value: token, expiresAt: Date.now() + leaseSeconds * 1000 });
 *     return Promise.resolve({ state: "claimed", token });
 *   },
 *   finish: async (key, _token, rememberSeconds) =>
 *     void store.set(key, { value: "done", expiresAt: Date.now() + rememberSeconds * 1000 }),
 *   abandon: async (key, token) => void (live(key) === token && store.delete(key)),
 * };
 *
 * const first = await guard.begin("result:1", 60);
 * assertEquals((await guard.begin("result:1", 60)).state, "busy");
 * if (first.state === "claimed") await guard.finish("result:1", first.token, 3600);
 * assertEquals((await guard.begin("result:1", 60)).state, "done");
 * ```
 */
export interface ReplayGuard {
  /**
   * Takes the lease on `key` for `leaseSeconds` if the key is absent or expired, in one atomic
   * step, and resolves `claimed` with its token; otherwise `busy` (a live lease) or `done`.
   */
  begin(key: string, leaseSeconds: number): Promise<ReplayKeyState>;
  /** Marks `key` done for `rememberSeconds`, replacing the lease `token` names. */
  finish(key: string, token: string, rememberSeconds: number): Promise<void>;
  /** Gives up the lease on `key` if it still holds `token`, so that a redelivery can take it. */
  abandon(key: string, token: string): Promise<void>;
}

/**
 * Options of {@linkcode createMemoryReplayGuard}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { CreateMemoryReplayGuardOptions } from "@smile-id-kit/job-status";
 *
 * let time = 0;
 * const options: CreateMemoryReplayGuardOptions = { maxEntries: 1000, clock: { now: () => time } };
 * time += 1000;
 * assertEquals(options.clock?.now(), 1000);
 * ```
 */
export interface CreateMemoryReplayGuardOptions {
  /**
   * Most keys held; when full, expired keys are dropped first, then the oldest live ones (a
   * result whose key was dropped that way is processed again if it is delivered again).
   *
   * @default {10000}
   */
  readonly maxEntries?: number;
  /**
   * The clock expiries are read on; only its `now` is used, so any `Clock` fits.
   *
   * @default the system clock (`Date.now`)
   */
  readonly clock?: Pick<Clock, "now">;
}

/** Stands for "done" where a token would be: tokens of this guard are decimal numbers. */
const DONE_MARK = "done";

/**
 * Creates an in-memory {@linkcode ReplayGuard}. Each call is atomic within one process or
 * isolate (it checks and records in one synchronous step), but the memory is not shared: a
 * delivery that reaches another instance is not caught, so several instances need a guard on a
 * shared store. An expired key (lease or done) counts as absent. Each call costs O(1): entries
 * are dropped oldest first, expired ones as they are met, live ones only while the guard is
 * full.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createMemoryReplayGuard } from "@smile-id-kit/job-status";
 *
 * let time = 0;
 * const guard = createMemoryReplayGuard({ maxEntries: 1000, clock: { now: () => time } });
 * const first = await guard.begin("result:1", 300);
 * assertEquals((await guard.begin("result:1", 300)).state, "busy");
 * if (first.state === "claimed") await guard.abandon("result:1", first.token); // onCallback failed
 * const second = await guard.begin("result:1", 300);
 * if (second.state === "claimed") await guard.finish("result:1", second.token, 3600);
 * assertEquals((await guard.begin("result:1", 300)).state, "done");
 * time += 3600_000; // forgotten after rememberSeconds
 * assertEquals((await guard.begin("result:1", 300)).state, "claimed");
 * ```
 */
export function createMemoryReplayGuard(options: CreateMemoryReplayGuardOptions = {}): ReplayGuard {
  if (typeof options !== "object" || options === null) throw invalidArgument("Guard options", "an object", options);
  const maxEntries = positiveIntegerOption(options.maxEntries, "maxEntries") ?? 10_000;
  const clock = clockOption(options.clock, false);
  const entries = new ExpiringKeys<string>();
  let tokens = 0;
  // Writes `key` as the newest entry. Oldest first: drop expired entries, and the oldest live
  // ones while the guard is full; stop at the first live entry once there is room. Each entry is
  // dropped once, so a full guard costs O(1) per write, not a walk over every key.
  const write = (key: string, time: number, seconds: number, value: string) => {
    entries.delete(key);
    entries.trim(time, maxEntries);
    entries.set(key, time + seconds * 1000, value);
  };
  // Every method below is synchronous up to its returned promise: nothing runs in between.
  return {
    begin(key, leaseSeconds) {
      let time: number;
      try {
        checkSeconds(key, leaseSeconds, "leaseSeconds");
        time = readNow(clock);
      } catch (error) {
        return Promise.reject(error);
      }
      const held = entries.get(key);
      if (held !== undefined && held.expiresAt > time) return Promise.resolve(held.value === DONE_MARK ? DONE : BUSY);
      const token = String(++tokens);
      write(key, time, leaseSeconds, token);
      return Promise.resolve(claimed(token));
    },
    finish(key, token, rememberSeconds) {
      try {
        checkSeconds(key, rememberSeconds, "rememberSeconds");
        checkToken(token);
        write(key, readNow(clock), rememberSeconds, DONE_MARK);
      } catch (error) {
        return Promise.reject(error);
      }
      return Promise.resolve();
    },
    abandon(key, token) {
      try {
        checkKey(key);
        checkToken(token);
      } catch (error) {
        return Promise.reject(error);
      }
      if (entries.get(key)?.value === token) entries.delete(key);
      return Promise.resolve();
    },
  };
}
