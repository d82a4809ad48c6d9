// What the replay guards share: the checks of a claim's arguments, and the tokens a store
// guard keeps so that `release` deletes only a claim it made itself.

import { invalidArgument } from "./errors.ts";

/** A claim a guard made: its random token and when it expires (milliseconds). */
export interface Claim {
  readonly token: string;
  readonly expiresAt: number;
}

/** Checks the arguments of a claim: a non-empty string key, a positive finite TTL in seconds. */
export function checkClaim(key: unknown, ttlSeconds: unknown): void {
  checkKey(key);
  if (typeof ttlSeconds !== "number" || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw invalidArgument("A replay claim's ttlSeconds", "a positive number of seconds", ttlSeconds);
  }
}

/** Checks a replay key: a non-empty string, at most `maxLength` characters when given. */
export function checkKey(key: unknown, maxLength = Infinity): asserts key is string {
  if (typeof key !== "string" || key === "" || key.length > maxLength) {
    const limit = Number.isFinite(maxLength) ? ` of at most ${maxLength} characters` : "";
    throw invalidArgument("A replay key", `a non-empty string${limit}`, key);
  }
}

/** A claim's `ttlSeconds`, checked, rounded up to whole seconds (at least 1) as stores keep them. */
export function wholeSeconds(key: unknown, ttlSeconds: unknown): number {
  checkClaim(key, ttlSeconds);
  return Math.max(1, Math.ceil(ttlSeconds as number));
}

/** One key of an {@linkcode ExpiringKeys}: when it expires (milliseconds) and what it holds. */
export interface Slot<V> {
  readonly key: string;
  readonly expiresAt: number;
  readonly value: V;
}

/**
 * Keys with expiry times, oldest claim first (setting a key again makes it the newest), with
 * O(1) lookups and O(1) amortised trimming from the oldest end. A `Map` alone keeps that order,
 * but every delete leaves a hole that iteration from the front walks over until the map is
 * rehashed: trimming a full map of 10,000 keys that way cost 7–11 µs per claim in Node 22. Here
 * the order is a queue of slots with a moving head; a slot whose key was deleted or set again
 * is skipped, and the queue is compacted once such dead slots outnumber the live ones.
 */
export class ExpiringKeys<V> {
  readonly #slots = new Map<string, Slot<V>>();
  #queue: Slot<V>[] = [];
  #head = 0;

  /** Number of keys held, expired ones not yet trimmed included. */
  get size(): number {
    return this.#slots.size;
  }

  /** The slot of `key`, expired or not. */
  get(key: string): Slot<V> | undefined {
    return this.#slots.get(key);
  }

  /** Forgets `key`. */
  delete(key: string): void {
    if (this.#slots.delete(key)) this.#compact();
  }

  /** Holds `key` until `expiresAt`, as the newest key. */
  set(key: string, expiresAt: number, value: V): void {
    const slot = { key, expiresAt, value };
    this.#slots.set(key, slot);
    this.#queue.push(slot);
    this.#compact();
  }

  /**
   * Drops keys from the oldest end: expired ones, and live ones while at least `max` keys are
   * held; stops at the first live key once fewer than `max` are held.
   */
  trim(now: number, max: number): void {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const oldest = queue[this.#head]!;
      if (this.#slots.get(oldest.key) === oldest) {
        if (this.#slots.size < max && oldest.expiresAt > now) return;
        this.#slots.delete(oldest.key);
      }
      this.#head++;
    }
  }

  #compact(): void {
    // Every live key has exactly one slot in the queue; the rest are dead.
    const dead = this.#queue.length - this.#slots.size;
    if (dead > 1024 && dead > this.#slots.size) {
      this.#queue = this.#queue.slice(this.#head).filter((slot) => this.#slots.get(slot.key) === slot);
      this.#head = 0;
    }
  }
}

/**
 * The token of each key a guard claimed, until the claim expires. Each claim drops expired
 * entries from the oldest end, stopping at the first live one, so the map does not grow past
 * the claims alive at once and costs O(1) per claim.
 */
export class ClaimTokens {
  readonly #entries = new ExpiringKeys<string>();

  /** Records the token of a claim of `key` that expires at `expiresAt`. */
  set(key: string, token: string, expiresAt: number): void {
    this.#entries.trim(Date.now(), Infinity);
    this.#entries.set(key, expiresAt, token);
  }

  /** Removes and returns the token of a live claim of `key`, if this guard holds one. */
  take(key: string): string | undefined {
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    return entry !== undefined && entry.expiresAt > Date.now() ? entry.value : undefined;
  }
}
