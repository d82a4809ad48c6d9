/**
 * {@linkcode ReplayGuard}: the atomic claim a callback endpoint needs so that each callback is
 * processed once, and {@linkcode createMemoryReplayGuard}, an implementation for one process or
 * isolate. Guards on shared stores (Redis, Deno KV, a Durable Object) have their own subpath
 * exports.
 *
 * @module
 */

import { checkClaim, ExpiringKeys } from "./_claims.ts";
import { clockOption, readNow } from "./_clock.ts";
import { invalidArgument } from "./errors.ts";
import type { Clock } from "./types.ts";

/**
 * Where callback keys are claimed, so that a callback is accepted once however many times, and
 * on however many instances, it is delivered.
 *
 * `claim` must record the key if it is absent and report whether it did, in one atomic step of
 * the store (Redis `SET key 1 NX EX ttl`, a Deno KV `atomic().check({ key, versionstamp: null })`,
 * a Durable Object, a database insert on a unique key). A store read with a `get` followed by a
 * `set` is not enough: two instances can both read "absent" before either writes, and both
 * accept the same callback.
 *
 * @example A guard on a store with an atomic "set if absent"
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { ReplayGuard } from "@smile-id-kit/job-status";
 *
 * // Stands for a shared store; `setIfAbsent` is one atomic operation there (like SET NX EX).
 * const store = new Map<string, number>();
 * const setIfAbsent = async (key: string, ttlSeconds: number) => {
 *   const expiry = store.get(key);
 *   if (expiry !== undefined && expiry > Date.now()) return false;
 *   store.set(key, Date.now() + ttlSeconds * 1000);
 *   return true;
 * };
 * const guard: ReplayGuard = {
 *   claim: (key, ttlSeconds) => setIfAbsent(`smile-callback:${key}`, ttlSeconds),
 *   release: async (key) => void store.delete(`smile-callback:${key}`),
 * };
 *
 * assertEquals(await Promise.all([guard.claim("k", 60), guard.claim("k", 60)]), [true, false]);
 * await guard.release("k");
 * assertEquals(await guard.claim("k", 60), true);
 * ```
 */
export interface ReplayGuard {
  /**
   * Records `key` for `ttlSeconds` if it is absent (or expired), in one atomic step, and
   * resolves `true` only for the caller that recorded it; `false` when it was already there.
   */
  claim(key: string, ttlSeconds: number): Promise<boolean>;
  /** Forgets `key`, after a failure that should let a redelivery be processed. */
  release(key: string): Promise<void>;
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
   * Most keys held; when full, expired keys are dropped first, then the oldest live ones
   * (which can then be claimed again).
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

/**
 * Creates an in-memory {@linkcode ReplayGuard}. A claim is atomic within one process or
 * isolate (it checks and records in one synchronous step), but the memory is not shared: a
 * delivery that reaches another instance is not caught, so several instances need a guard on a
 * shared store. An expired key can be claimed again. Each claim costs O(1): entries are dropped
 * oldest first, expired ones as they are met, live ones only while the guard is full.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createMemoryReplayGuard } from "@smile-id-kit/job-status";
 *
 * let time = 0;
 * const guard = createMemoryReplayGuard({ maxEntries: 1000, clock: { now: () => time } });
 * assertEquals(await guard.claim("pair", 300), true);
 * assertEquals(await guard.claim("pair", 300), false);
 * time += 300_000; // expired: it can be claimed again
 * assertEquals(await guard.claim("pair", 300), true);
 * await guard.release("pair");
 * assertEquals(await guard.claim("pair", 300), true);
 * ```
 */
export function createMemoryReplayGuard(options: CreateMemoryReplayGuardOptions = {}): ReplayGuard {
  if (typeof options !== "object" || options === null) throw invalidArgument("Guard options", "an object", options);
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw invalidArgument("Option maxEntries", "a positive integer", maxEntries);
  }
  const clock = clockOption(options.clock, false);
  const expiries = new ExpiringKeys<undefined>();
  return {
    claim(key, ttlSeconds) {
      // Everything below is synchronous: no other claim can run between the check and the set.
      let time: number;
      try {
        checkClaim(key, ttlSeconds);
        time = readNow(clock);
      } catch (error) {
        return Promise.reject(error);
      }
      const held = expiries.get(key);
      if (held !== undefined && held.expiresAt > time) return Promise.resolve(false);
      expiries.delete(key);
      // Oldest first: drop expired entries, and the oldest live ones while the guard is full;
      // stop at the first live entry once there is room. Each entry is dropped once, so a full
      // guard costs O(1) per claim, not a walk over every key.
      expiries.trim(time, maxEntries);
      expiries.set(key, time + ttlSeconds * 1000, undefined);
      return Promise.resolve(true);
    },
    release(key) {
      if (typeof key !== "string") return Promise.reject(invalidArgument("A replay key", "a string", key));
      expiries.delete(key);
      return Promise.resolve();
    },
  };
}
