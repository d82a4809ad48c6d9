// What the callback handler remembers about deliveries, in memory and bounded: the bodies it
// processed (so that an exact redelivery is answered without asking Smile ID), the jobs each
// signature pair made it ask about (so that one captured pair cannot make it ask without end),
// and the confirms in flight (so that concurrent deliveries of one callback share one request).

import { ExpiringKeys } from "./_claims.ts";
import type { JobStatusReader } from "./poll.ts";
import type { JobStatus } from "./types.ts";

/** Bodies longer than this many characters are not remembered (they are confirmed again). */
const MAX_BODY_CHARS = 64 * 1024;

/** Most bodies remembered under one signature pair (callbacks of several jobs can share one). */
const MAX_BODIES_PER_PAIR = 16;

/**
 * Callback bodies whose replay key is marked done, each with what it was verified as, until
 * that key is forgotten by the store (`replayTtlSeconds`). Looked up by the body's signature
 * pair, and answered only for the very same text, pair included: a body under a remembered pair
 * that differs in a single character is not answered from here. At most `maxEntries` bodies and
 * `maxChars` characters of them are kept, 16 under one pair; the oldest make way. (Keyed by the
 * pair rather than the text, a lookup hashes some 80 characters, not the whole body.)
 */
export class ProcessedBodies<C> {
  readonly #pairs = new ExpiringKeys<{ text: string; value: C }[]>();
  readonly #maxEntries: number;
  readonly #maxChars: number;
  #bodies = 0;
  #chars = 0;

  constructor(maxEntries = 1000, maxChars = 4 * 1024 * 1024) {
    this.#maxEntries = maxEntries;
    this.#maxChars = maxChars;
  }

  /** What `text`, signed with `pair`, was verified as, if it was remembered and has not expired. */
  get(pair: string, text: string, now: number): { readonly value: C } | undefined {
    if (this.#bodies === 0) return undefined;
    const slot = this.#pairs.get(pair);
    if (slot === undefined || slot.expiresAt <= now) return undefined;
    return slot.value.find((body) => body.text === text);
  }

  /** Remembers `text`, signed with `pair`, as done, for `seconds`. */
  remember(pair: string, text: string, value: C, now: number, seconds: number): void {
    if (text.length > MAX_BODY_CHARS) return;
    const slot = this.#pairs.get(pair);
    const bodies = slot !== undefined && slot.expiresAt > now ? slot.value.filter((body) => body.text !== text) : [];
    if (slot !== undefined) this.#forget(pair, slot.value);
    if (bodies.length >= MAX_BODIES_PER_PAIR) bodies.shift();
    bodies.push({ text, value });
    const chars = bodies.reduce((sum, body) => sum + body.text.length, 0);
    while (this.#bodies + bodies.length > this.#maxEntries || this.#chars + chars > this.#maxChars) {
      const oldest = this.#pairs.shift();
      if (oldest === undefined) break;
      this.#forget(undefined, oldest.value);
    }
    this.#pairs.set(pair, now + seconds * 1000, bodies);
    this.#bodies += bodies.length;
    this.#chars += chars;
  }

  #forget(pair: string | undefined, bodies: readonly { text: string }[]): void {
    if (pair !== undefined) this.#pairs.delete(pair);
    this.#bodies -= bodies.length;
    for (const body of bodies) this.#chars -= body.text.length;
  }
}

/** How long a signature pair's count of jobs lasts. */
export const PAIR_WINDOW_MS = 10 * 60_000;

/**
 * The distinct jobs each signature pair made this instance ask Smile ID about, for
 * {@linkcode PAIR_WINDOW_MS} from the pair's first use; at most `maxPairs` pairs are counted
 * (the oldest make way).
 */
export class PairBudget {
  readonly #pairs = new ExpiringKeys<Set<string>>();
  readonly #maxJobs: number;
  readonly #maxPairs: number;

  constructor(maxJobs: number, maxPairs = 10_000) {
    this.#maxJobs = maxJobs;
    this.#maxPairs = maxPairs;
  }

  /**
   * Counts `job` under `pair`, and answers `undefined` if it may be asked about; otherwise the
   * milliseconds until the pair's window ends (the pair has been used for `maxJobs` other jobs).
   */
  admit(pair: string, job: string, now: number): number | undefined {
    const slot = this.#pairs.get(pair);
    if (slot === undefined || slot.expiresAt <= now) {
      this.#pairs.delete(pair);
      this.#pairs.trim(now, this.#maxPairs);
      this.#pairs.set(pair, now + PAIR_WINDOW_MS, new Set([job]));
      return undefined;
    }
    const jobs = slot.value;
    if (jobs.has(job)) return undefined;
    if (jobs.size >= this.#maxJobs) return slot.expiresAt - now;
    jobs.add(job);
    return undefined;
  }
}

/**
 * A reader through which concurrent asks with the same `key` share one request: the first
 * starts it, the others get its answer (or its failure) while it is in flight.
 */
export class SharedConfirms {
  readonly #inFlight = new Map<string, Promise<JobStatus>>();
  readonly #reader: JobStatusReader;

  constructor(reader: JobStatusReader) {
    this.#reader = reader;
  }

  /** A reader for one confirm: its asks share a request with every other ask under `key`. */
  readerFor(key: string): JobStatusReader {
    return {
      getJobStatus: (query, options) => {
        const full = `${key}\n${query.includeHistory ? 1 : 0}${query.includeImageLinks ? 1 : 0}`;
        let pending = this.#inFlight.get(full);
        if (pending === undefined) {
          pending = Promise.resolve().then(() => this.#reader.getJobStatus(query, options));
          this.#inFlight.set(full, pending);
          const forget = () => void this.#inFlight.delete(full);
          pending.then(forget, forget);
        }
        return pending;
      },
    };
  }
}
