// The system clock, the default of every `clock` option, and the one check those options share.

import { delay } from "@std/async/delay";
import type { Clock } from "./types.ts";
import { invalidArgument } from "./_validate.ts";

/** `Date.now`, and std's `delay` (any length; rejects with the signal's reason when aborted). */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, signal === undefined ? {} : { signal }),
};

/**
 * Checks a `clock` option: `undefined` gives the system clock; anything else must have a `now`
 * method (and a `sleep` method where `sleep` is true). Throws `invalid_argument`.
 */
export function clockOption(value: unknown, sleep: true): Clock;
export function clockOption(value: unknown, sleep: false): Pick<Clock, "now">;
export function clockOption(value: unknown, sleep: boolean): Pick<Clock, "now"> {
  if (value === undefined) return systemClock;
  const clock = value as Partial<Clock> | null;
  if (typeof clock !== "object" || clock === null || typeof clock.now !== "function") {
    throw invalidArgument("Option clock", `an object with a now method${sleep ? " and a sleep method" : ""}`, value);
  }
  if (sleep && typeof clock.sleep !== "function") {
    throw invalidArgument("Option clock", "an object with a now method and a sleep method", value);
  }
  return clock as Clock;
}

/** Reads `clock.now()`, which must be a finite number of milliseconds. Throws `invalid_argument`. */
export function readNow(clock: Pick<Clock, "now">): number {
  const time = clock.now();
  if (typeof time !== "number" || !Number.isFinite(time)) {
    throw invalidArgument("Option clock.now()", "a function returning milliseconds", time);
  }
  return time;
}
