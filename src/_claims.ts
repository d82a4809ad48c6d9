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

/**
 * The token of each key a guard claimed, until the claim expires. Entries are kept in
 * insertion order; each claim drops expired entries from the front, stopping at the first live
 * one, so the map does not grow past the claims alive at once and costs O(1) per claim.
 */
export class ClaimTokens {
  readonly #entries = new Map<string, Claim>();

  /** Records the token of a claim of `key` that expires at `expiresAt`. */
  set(key: string, token: string, expiresAt: number): void {
    const now = Date.now();
    for (const [k, entry] of this.#entries) {
      if (entry.expiresAt > now) break;
      this.#entries.delete(k);
    }
    this.#entries.delete(key);
    this.#entries.set(key, { token, expiresAt });
  }

  /** Removes and returns the token of a live claim of `key`, if this guard holds one. */
  take(key: string): string | undefined {
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    return entry !== undefined && entry.expiresAt > Date.now() ? entry.token : undefined;
  }
}
