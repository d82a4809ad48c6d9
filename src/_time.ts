// Timestamp normalisation: what is signed when the caller gives a Date or nothing, and how a
// received timestamp is read as an instant for freshness checks.

import { SmileIdError } from "./errors.ts";
import { invalidArgument, quote } from "./_validate.ts";

/**
 * Turns a caller's timestamp into the exact string to sign and send: a string verbatim, a
 * `Date` as `toISOString()`, nothing as now. Numbers are refused: the official SDKs disagree
 * on what a number means (Unix milliseconds turned into ISO text, or its digits), so a number
 * cannot be signed portably.
 */
export function timestampToSign(timestamp: unknown, now: () => number = Date.now): string {
  if (timestamp === undefined) return new Date(now()).toISOString();
  if (typeof timestamp === "string") {
    if (timestamp.length === 0) {
      throw new SmileIdError("invalid_argument", "Timestamp must be a non-empty string or a Date, got an empty string");
    }
    return timestamp;
  }
  if (timestamp instanceof Date) {
    if (Number.isNaN(timestamp.getTime())) {
      throw new SmileIdError("invalid_argument", "Timestamp must be a valid Date, got an invalid Date");
    }
    return timestamp.toISOString();
  }
  if (typeof timestamp === "number") {
    throw new SmileIdError(
      "invalid_argument",
      `Timestamp must be a string or a Date, got the number ${quote(timestamp)}; ` +
        "the official SDKs sign numbers differently, so pass new Date(ms) or the exact string to sign",
    );
  }
  throw invalidArgument("Timestamp", "a string or a Date", timestamp);
}

const RUBY_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;
const ISO_LIKE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Reads a received timestamp as milliseconds since the epoch, or `undefined` when it is not
 * one of the shapes Smile ID's SDKs send: ISO 8601 with an offset (`…Z`, `…+00:00`, `…+0000`,
 * any number of fraction digits), Ruby's `Time#to_s` (`2021-05-18 15:14:43 -0700`) or a
 * 13-digit Unix-milliseconds string. Local times without an offset are refused: their instant
 * depends on the reader's time zone.
 */
export function parseTimestamp(text: string): number | undefined {
  if (text.length > 64) return undefined;
  if (/^\d{13}$/.test(text)) return Number(text);
  const ruby = RUBY_TIME.exec(text);
  if (ruby) {
    const [, y, mo, d, h, mi, s, sign, oh, om] = ruby;
    const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${sign}${oh}:${om}`;
    return finite(Date.parse(iso));
  }
  if (!ISO_LIKE.test(text)) return undefined;
  // Date.parse handles "+00:00" and "Z" everywhere but not "+0000" or more than 3 fraction
  // digits in every engine, so normalise those first.
  const normalised = text
    .replace(/(\.\d{3})\d+/, "$1")
    .replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  return finite(Date.parse(normalised));
}

function finite(ms: number): number | undefined {
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Reads a `Retry-After` header (delay in seconds, or an HTTP date) as milliseconds from `now`,
 * or `undefined` when absent or unreadable. Negative delays become 0.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
