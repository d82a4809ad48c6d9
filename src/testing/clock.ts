/**
 * {@linkcode createTestClock}: virtual time for tests. One `TestClock` given as `clock` to the
 * fake Smile ID, `createClient`, `waitForJobStatus`, `verifyCallback`, `createCallbackHandler`
 * and `createMemoryReplayGuard` moves all of them together, so no part of a test can be left on
 * real time by mistake.
 *
 * @module
 */

import type { Clock } from "../types.ts";
import { invalidArgument } from "../_validate.ts";

/**
 * A {@linkcode Clock} on virtual time. The time moves when the test moves it (`advance`, `set`)
 * and by itself, the way real time would for sleepers: pending sleeps form a queue, and once no
 * work is left to run (checked on a macrotask, after every microtask has settled and no new
 * sleep arrived) the time jumps to the earliest wake-up and wakes exactly the sleeps due then.
 * So any number of concurrent pollers share one time line: a thousand `waitForJobStatus` on one
 * clock see the same seconds pass, not the sum of their waits.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createTestClock, type TestClock } from "@smile-id-kit/job-status/testing";
 *
 * const clock: TestClock = createTestClock("2024-05-01T12:00:00.000Z");
 * clock.advance(1500);
 * assertEquals(new Date(clock.now()).toISOString(), "2024-05-01T12:00:01.500Z");
 *
 * // Two sleeps started together end together after the longer one, as on a real clock.
 * await Promise.all([clock.sleep(2000), clock.sleep(5000)]);
 * assertEquals(new Date(clock.now()).toISOString(), "2024-05-01T12:00:06.500Z");
 * ```
 */
export interface TestClock extends Clock {
  /** The clock's time in milliseconds since the epoch. */
  now(): number;
  /**
   * Resolves when the clock reaches `now() + ms`, without waiting in real time: when nothing
   * else is left to run, the clock jumps to the earliest pending wake-up. Rejects with the
   * signal's reason if `signal` is aborted first (the sleep then leaves the queue).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Moves the time forward by `ms` (a finite number, 0 or more), wakes the sleeps now due, and returns the new time. */
  advance(ms: number): number;
  /**
   * Sets the time (milliseconds since the epoch, a `Date` or a date string), also backwards;
   * wakes the sleeps now due and returns the time.
   */
  set(time: number | Date | string): number;
}

/** Macrotask checks in a row that must find the clock untouched before its time jumps. */
const QUIET_CHECKS = 2;

/** A pending sleep: when it is due, and how to end it. */
interface Sleeper {
  readonly at: number;
  readonly wake: () => void;
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
 * // A minute of polling takes no real time: the clock jumps from one wake-up to the next.
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
  /** Pending sleeps, earliest first (in the order they began among equals). */
  const queue: Sleeper[] = [];
  /**
   * Reads of the time and sleeps begun so far: work still running touches the clock, so a
   * check that sees this count change waits before moving the time.
   */
  let touched = 0;
  /** Checks in a row that saw the clock untouched. */
  let quiet = 0;
  let check: ReturnType<typeof setTimeout> | undefined;
  let touchedAtSchedule = 0;

  /** Wakes every sleep due at the current time; returns how many. */
  const wakeDue = (): number => {
    let woken = 0;
    while (queue.length > 0 && queue[0]!.at <= time) {
      queue.shift()!.wake();
      woken++;
    }
    return woken;
  };
  const schedule = () => {
    if (check !== undefined || queue.length === 0) return;
    touchedAtSchedule = touched;
    check = setTimeout(() => {
      check = undefined;
      // Sleeps due already (after advance or set, or of 0 ms) wake first: what they start may
      // sleep less than the rest of the queue. Otherwise the time moves only after two checks
      // in a row found the clock untouched: an answer still being signed or verified (a
      // WebCrypto call ends on a later macrotask) reads the time or sleeps soon after.
      if (wakeDue() > 0 || touched !== touchedAtSchedule) quiet = 0;
      else if (++quiet >= QUIET_CHECKS) {
        quiet = 0;
        time = Math.max(time, queue[0]!.at);
        wakeDue();
      }
      schedule();
    }, 0);
  };

  return {
    now: () => {
      touched++;
      return time;
    },
    sleep(ms: number, signal?: AbortSignal): Promise<void> {
      if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
        return Promise.reject(invalidArgument("The sleep time", "a finite number of milliseconds, 0 or more", ms));
      }
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const index = queue.indexOf(sleeper);
          if (index >= 0) queue.splice(index, 1);
          if (queue.length === 0 && check !== undefined) {
            clearTimeout(check);
            check = undefined;
          }
          reject(signal!.reason);
        };
        const sleeper: Sleeper = {
          at: time + ms,
          wake: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        // After the last sleep due at the same time or earlier: a binary search keeps a
        // thousand sleepers cheap.
        let low = 0;
        let high = queue.length;
        while (low < high) {
          const middle = (low + high) >>> 1;
          if (queue[middle]!.at <= sleeper.at) low = middle + 1;
          else high = middle;
        }
        queue.splice(low, 0, sleeper);
        signal?.addEventListener("abort", onAbort, { once: true });
        touched++;
        schedule();
      });
    },
    advance(ms: number): number {
      if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
        throw invalidArgument("The time to advance", "a finite number of milliseconds, 0 or more", ms);
      }
      time += ms;
      wakeDue();
      return time;
    },
    set(to: number | Date | string): number {
      time = toTime(to, "The time");
      wakeDue();
      return time;
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
