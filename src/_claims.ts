// What the replay guards share: the checks of their arguments, the states `begin` answers, and
// the memory of leases whose `begin` failed without an answer, so that the guard that made
// them recognises them as its own.

import { SmileIdError } from "./errors.ts";
import type { ReplayKeyState } from "./replay_guard.ts";
import { invalidArgument, quote } from "./_validate.ts";

/** The answer of `begin` when another delivery holds the key's lease. */
export const BUSY: ReplayKeyState = Object.freeze({ state: "busy" });
/** The answer of `begin` when the key is marked done. */
export const DONE: ReplayKeyState = Object.freeze({ state: "done" });

/** The answer of `begin` that hands the caller the lease it took, with its token. */
export function claimed(token: string): ReplayKeyState {
  return { state: "claimed", token };
}

/** Checks a replay key: a non-empty string, at most `maxLength` characters when given. */
export function checkKey(key: unknown, maxLength = Infinity): asserts key is string {
  if (typeof key !== "string" || key === "" || key.length > maxLength) {
    const limit = Number.isFinite(maxLength) ? ` of at most ${maxLength} characters` : "";
    throw invalidArgument("A replay key", `a non-empty string${limit}`, key);
  }
}

/** Checks a lease token: a non-empty string. */
export function checkToken(token: unknown): asserts token is string {
  if (typeof token !== "string" || token === "") {
    throw invalidArgument("A replay lease token", "a non-empty string", token);
  }
}

/**
 * Checks a key and a number of seconds (`what` names it in the error: `leaseSeconds`,
 * `rememberSeconds`): a positive finite number.
 */
export function checkSeconds(key: unknown, seconds: unknown, what: string): asserts key is string {
  checkKey(key);
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) {
    throw invalidArgument(`A replay guard's ${what}`, "a positive number of seconds", seconds);
  }
}

/** `seconds`, checked, rounded up to whole seconds (at least 1) as stores keep them. */
export function wholeSeconds(key: unknown, seconds: unknown, what: string): number {
  checkSeconds(key, seconds, what);
  return Math.max(1, Math.ceil(seconds as number));
}

/** A guard's failure to read what its store holds under a key: something it did not write. */
export function foreignValue(store: string, value: unknown): SmileIdError {
  return new SmileIdError(
    "replay_guard",
    `The ${store} replay guard found a value it did not write under a key: ${quote(value)}; ` +
      "give the guard a prefix (or name) of its own",
  );
}

/** One key of an {@linkcode ExpiringKeys}: when it expires (milliseconds) and what it holds. */
export interface Slot<V> {
  readonly key: string;
  readonly expiresAt: number;
  readonly value: V;
}

/**
 * Keys with expiry times, oldest first (setting a key again makes it the newest), with O(1)
 * lookups and O(1) amortised trimming from the oldest end. A `Map` alone keeps that order,
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

  /** Removes and returns the oldest key's slot, if any. */
  shift(): Slot<V> | undefined {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const oldest = queue[this.#head++]!;
      if (this.#slots.get(oldest.key) === oldest) {
        this.#slots.delete(oldest.key);
        return oldest;
      }
    }
    return undefined;
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
 * The tokens of leases whose `begin` failed without an answer (a dropped connection, a store
 * that timed out: the store may have taken the lease or not), or whose `abandon` failed (the
 * lease may still be there). The next `begin` of the same key by the same guard that finds a
 * lease holding that token knows it as its own and takes it, instead of reporting it held by
 * another delivery until it lapses. Entries expire with their lease; expired ones are dropped
 * from the oldest end as new ones come, so the memory holds no more than those leases.
 */
export class UncertainLeases {
  readonly #entries = new ExpiringKeys<string>();

  /**
   * Records the token of a lease of `key` this guard no longer uses but may still be in the
   * store: a `begin` whose outcome is unknown, or an `abandon` that failed. Its lease ends at
   * `expiresAt` (for an `abandon`, which does not know it, a day from now: the store's own expiry
   * comes first).
   */
  add(key: string, token: string, expiresAt: number = Date.now() + 86_400_000): void {
    this.#entries.trim(Date.now(), Infinity);
    this.#entries.set(key, expiresAt, token);
  }

  /** Whether `token` is that of an unanswered `begin` of `key`, still live; forgets it if so. */
  take(key: string, token: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.value !== token) return false;
    this.#entries.delete(key);
    return entry.expiresAt > Date.now();
  }

  /** Forgets the unanswered `begin` of `key`, if any (its lease was given up or finished). */
  forget(key: string): void {
    if (this.#entries.size > 0) this.#entries.delete(key);
  }
}
