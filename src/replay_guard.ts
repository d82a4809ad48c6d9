/**
 * {@linkcode ReplayGuard}: the atomic claim a callback endpoint needs so that each callback is
 * processed once, and {@linkcode createMemoryReplayGuard}, an implementation for one process or
 * isolate. Guards on shared stores (Redis, Deno KV, a Durable Object) have their own subpath
 * exports.
 *
 * @module
 */

import { checkClaim } from "./_claims.ts";
import { invalidArgument } from "./errors.ts";

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
 * import type { MemoryReplayGuardOptions } from "@smile-id-kit/job-status";
 *
 * let clock = 0;
 * const options: MemoryReplayGuardOptions = { maxEntries: 1000, now: () => clock };
 * clock += 1000;
 * assertEquals(options.now?.(), 1000);
 * ```
 */
export interface MemoryReplayGuardOptions {
  /**
   * Most keys held; when full, expired keys are dropped first, then the oldest live ones
   * (which can then be claimed again).
   *
   * @default {10000}
   */
  readonly maxEntries?: number;
  /**
   * Current time in milliseconds.
   *
   * @default {Date.now}
   */
  readonly now?: () => number;
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
 * let clock = 0;
 * const guard = createMemoryReplayGuard({ maxEntries: 1000, now: () => clock });
 * assertEquals(await guard.claim("pair", 300), true);
 * assertEquals(await guard.claim("pair", 300), false);
 * clock += 300_000; // expired: it can be claimed again
 * assertEquals(await guard.claim("pair", 300), true);
 * await guard.release("pair");
 * assertEquals(await guard.claim("pair", 300), true);
 * ```
 */
export function createMemoryReplayGuard(options: MemoryReplayGuardOptions = {}): ReplayGuard {
  if (typeof options !== "object" || options === null) throw invalidArgument("Guard options", "an object", options);
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw invalidArgument("Option maxEntries", "a positive integer", maxEntries);
  }
  const now = options.now ?? Date.now;
  if (typeof now !== "function") throw invalidArgument("Option now", "a function", now);
  const expiries = new Map<string, number>();
  return {
    claim(key, ttlSeconds) {
      try {
        checkClaim(key, ttlSeconds);
      } catch (error) {
        return Promise.reject(error);
      }
      // Everything below is synchronous: no other claim can run between the check and the set.
      const time = now();
      const expiry = expiries.get(key);
      if (expiry !== undefined && expiry > time) return Promise.resolve(false);
      expiries.delete(key);
      // Oldest first (a Map keeps insertion order): drop expired entries, and the oldest live
      // ones while the map is full; stop at the first live entry once there is room. Each entry
      // is dropped once, so a full guard costs O(1) per claim, not a walk over every key.
      for (const [k, e] of expiries) {
        if (expiries.size < maxEntries && e > time) break;
        expiries.delete(k);
      }
      expiries.set(key, time + ttlSeconds * 1000);
      return Promise.resolve(true);
    },
    release(key) {
      if (typeof key !== "string") return Promise.reject(invalidArgument("A replay key", "a string", key));
      expiries.delete(key);
      return Promise.resolve();
    },
  };
}
