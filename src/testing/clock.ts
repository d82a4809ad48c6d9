/**
 * {@linkcode createTestClock}: virtual time for tests. One `TestClock` given as `clock` to the
 * fake Smile ID, `createClient`, `waitForJobStatus`, `verifyCallback`, `createCallbackHandler`
 * and `createMemoryReplayGuard` moves all of them together, so no part of a test can be left on
 * real time by mistake.
 *
 * @module
 */

import { invalidArgument } from "../errors.ts";
import type { Clock } from "../types.ts";

/**
 * A {@linkcode Clock} whose time moves only when the test moves it: `advance`, `set`, or a
 * `sleep`, which moves the time forward by its `ms` at once instead of waiting.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createTestClock, type TestClock } from "@smile-id-kit/job-status/testing";
 *
 * const clock: TestClock = createTestClock("2024-05-01T12:00:00.000Z");
 * clock.advance(1500);
 * assertEquals(new Date(clock.now()).toISOString(), "2024-05-01T12:00:01.500Z");
 * ```
 */
export interface TestClock extends Clock {
  /** The clock's time in milliseconds since the epoch; changes only through the methods below. */
  now(): number;
  /**
   * Moves the time forward by `ms` at once and resolves (asynchronously, in a microtask)
   * without waiting; rejects with the signal's reason if `signal` is aborted before it resolves
   * (the time has moved all the same). Each sleep adds its own `ms`, so two sleeps started
   * together move the time by their sum.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Moves the time forward by `ms` (a finite number, 0 or more) and returns the new time. */
  advance(ms: number): number;
  /** Sets the time (milliseconds since the epoch, a `Date` or a date string), also backwards; returns it. */
  set(time: number | Date | string): number;
}

/**
 * Creates a {@linkcode TestClock} starting at `start` (milliseconds since the epoch, a `Date` or a
 * date string such as `"2024-05-01T12:00:00Z"`). Without `start` it starts at the real time of
 * the call, so that a part of the test left on the system clock still sees a nearby time; give a
 * `start` for timestamps that are the same on every run.
 *
 * @example One clock drives the fake, polling and callback verification
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient } from "@smile-id-kit/job-status";
 * import { createFakeSmileId, createTestClock } from "@smile-id-kit/job-status/testing";
 *
 * const clock = createTestClock("2024-05-01T12:00:00.000Z");
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key", clock });
 * fake.addJob({ userId: "user-1", jobId: "job-1", completesAfterMs: 60_000 });
 * const client = createClient({ partnerId: "085", apiKey: "test-key", fetch: fake.fetch, clock });
 *
 * // A minute of polling takes no real time: each sleep moves the shared clock.
 * const status = await client.waitForJobStatus({ userId: "user-1", jobId: "job-1" });
 * assertEquals(status.jobComplete, true);
 * assertEquals(clock.now() >= Date.parse("2024-05-01T12:01:00.000Z"), true);
 *
 * // The callback is signed at the fake's (virtual) time and is fresh on the client's.
 * const callback = await client.verifyCallback(await fake.buildCallback("job-1"));
 * assertEquals(callback.fresh, true);
 * ```
 */
export function createTestClock(start?: number | Date | string): TestClock {
  let time = start === undefined ? Date.now() : toTime(start, "The start time");
  return {
    now: () => time,
    sleep(ms: number, signal?: AbortSignal): Promise<void> {
      if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
        return Promise.reject(invalidArgument("The sleep time", "a finite number of milliseconds, 0 or more", ms));
      }
      if (signal?.aborted) return Promise.reject(signal.reason);
      time += ms;
      return Promise.resolve().then(() => {
        if (signal?.aborted) throw signal.reason;
      });
    },
    advance(ms: number): number {
      if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
        throw invalidArgument("The time to advance", "a finite number of milliseconds, 0 or more", ms);
      }
      return (time += ms);
    },
    set(to: number | Date | string): number {
      return (time = toTime(to, "The time"));
    },
  };
}

function toTime(value: unknown, what: string): number {
  const time = typeof value === "number"
    ? value
    : value instanceof Date
    ? value.getTime()
    : typeof value === "string"
    ? Date.parse(value)
    : NaN;
  if (!Number.isFinite(time)) {
    throw invalidArgument(what, "milliseconds since the epoch, a valid Date or a date string", value);
  }
  return time;
}
