// Input checks and the safe quoting of values in messages, shared by every layer: "X must be Y,
// got Z" argument errors that never repeat a secret, text from outside made safe to print, and the
// job-status query as the client and the CLI accept it. Internal.

import { SmileIdError } from "./errors.ts";

// C0 and C1 controls, DEL, the bidirectional controls (U+061C, U+200E-F, U+202A-E, U+2066-9)
// and the line and paragraph separators: characters that move a terminal's cursor, hide or
// reorder text, or start a new log line.
// deno-lint-ignore no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\\]/g;
const SHORT: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Text that came from outside (a callback field, a server message, a header), made safe to
 * print: controls, bidirectional overrides and line separators become visible escapes
 * (`\n`, `\u001b`, `\u202e`), and a backslash is doubled so an escape cannot be forged.
 */
export function escapeText(text: string): string {
  return text.replace(
    UNSAFE,
    (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Quotes a value for an error message, shortened so a huge input cannot flood a log. Strings
 * are quoted and escaped: use it for a string only where it is an identifier (a user, job or
 * partner id, a server URL) or text from outside (Smile ID's messages, headers, received
 * fields), never for another argument, which {@linkcode invalidArgument} describes by length.
 * Objects and arrays are described by their type and key names only, never their values, so a
 * secret inside a wrongly placed object cannot reach a message.
 */
export function quote(value: unknown, max = 80): string {
  let text: string;
  if (typeof value === "string") text = `"${escapeText(value).replace(/"/g, '\\"')}"`;
  else if (typeof value === "bigint") text = `${value}n`;
  else if (typeof value === "number" || typeof value === "boolean" || value == null) text = String(value);
  else if (typeof value !== "object") text = `a ${typeof value}`; // a function or a symbol: never its text
  else {
    try {
      if (Array.isArray(value)) text = `an array of ${value.length} item${value.length === 1 ? "" : "s"}`;
      else if (value instanceof Date) text = Number.isNaN(value.getTime()) ? "an invalid Date" : "a Date";
      else {
        const keys = Object.keys(value);
        const kind = Object.prototype.toString.call(value).slice(8, -1);
        const shown = keys.slice(0, 8).map((key) => escapeText(key).slice(0, 32)).join(", ");
        text = `${kind === "Object" ? "an object" : `a ${escapeText(kind).slice(0, 32)}`}` +
          (keys.length === 0 ? " with no keys" : ` with keys ${shown}${keys.length > 8 ? ", …" : ""}`);
      }
    } catch {
      text = "an object"; // a proxy or a getter that throws: nothing more is known, nothing is run again
    }
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * An `invalid_argument` error reading "<what> must be <expected>, got <value>". A string is
 * described by its length only ("a string of 23 characters": the API key passed where a signer,
 * a function or a number belongs must not reach a message), unless `identifier` says the
 * position holds an identifier (a user, job or partner id, a server URL), which is quoted.
 */
export function invalidArgument(what: string, expected: string, value: unknown, identifier?: boolean): SmileIdError {
  const got = typeof value === "string" && value && !identifier
    ? `a string of ${value.length} characters`
    : quote(value);
  return new SmileIdError("invalid_argument", `${what} must be ${expected}, got ${got}`);
}

/**
 * Whether received text stands for no value: blank, or a placeholder Smile ID sends in place of
 * an ID-response field or an image (`"Not Available"`, `"NaN-NaN-NaN"`), in any case.
 */
export function isPlaceholder(text: string): boolean {
  return /^\s*(not available|nan-nan-nan)?\s*$/i.test(text);
}

/** Checks an optional `signal` option: an `AbortSignal` or nothing. */
export function signalOption(value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw invalidArgument("Option signal", "an AbortSignal", value);
  }
  return value;
}

/** Checks an optional option that must be a function (a hook such as `onProgress`). */
export function functionOption<F>(value: F | undefined, name: string): F | undefined {
  if (value !== undefined && typeof value !== "function") throw invalidArgument(`Option ${name}`, "a function", value);
  return value;
}

/** Checks an optional option that must be a positive integer (a count). */
export function positiveIntegerOption(value: unknown, name: string): number | undefined {
  if (value !== undefined && (!Number.isInteger(value) || (value as number) < 1)) {
    throw invalidArgument(`Option ${name}`, "a positive integer", value);
  }
  return value as number | undefined;
}

/** Checks an optional option that must be a number of milliseconds, 0 or more (`Infinity` included). */
export function millisecondsOption(value: unknown, name: string): number | undefined {
  if (value !== undefined && (typeof value !== "number" || Number.isNaN(value) || value < 0)) {
    throw invalidArgument(`Option ${name}`, "a number of milliseconds, 0 or more", value);
  }
  return value;
}

/** Checks an optional option that must be a positive finite number. */
export function positiveOption(value: unknown, name: string): number | undefined {
  if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value) || value <= 0)) {
    throw invalidArgument(`Option ${name}`, "a positive number", value);
  }
  return value;
}

/** A query as sent: ids as strings, flags as booleans. */
export interface CheckedQuery {
  readonly userId: string;
  readonly jobId: string;
  readonly includeHistory: boolean;
  readonly includeImageLinks: boolean;
}

/** The official SDKs' input names (and the wire names), with the field of ours to use instead. */
const SDK_NAMES: ReadonlyArray<readonly [string, string]> = [
  ["user_id", "userId"],
  ["job_id", "jobId"],
  ["return_history", "includeHistory"],
  ["history", "includeHistory"],
  ["return_image_links", "includeImageLinks"],
  ["return_images", "includeImageLinks"],
  ["image_links", "includeImageLinks"],
];

/**
 * Checks a job-status query: the official SDKs' names are refused with the name to use, ids
 * must be non-empty strings or non-negative safe integers (sent as their decimal string), and
 * flags booleans. Throws `invalid_argument`.
 */
export function readQuery(query: unknown): CheckedQuery {
  if (typeof query !== "object" || query === null) throw invalidArgument("Job status query", "an object", query);
  const fields = query as Record<string, unknown>;
  const used = SDK_NAMES.filter(([name]) => fields[name] !== undefined);
  if (used.length > 0) {
    const ours = [...new Set(used.map(([, field]) => field))];
    throw new SmileIdError(
      "invalid_argument",
      `Job status query must use ${ours.join(" and ")}, not the official SDKs' ${
        used.map(([name]) => name).join(" and ")
      }`,
    );
  }
  return {
    userId: id(fields.userId, "User id"),
    jobId: id(fields.jobId, "Job id"),
    includeHistory: flag(fields.includeHistory, "includeHistory"),
    includeImageLinks: flag(fields.includeImageLinks, "includeImageLinks"),
  };
}

function id(value: unknown, name: string): string {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value !== "string" || value.length === 0) {
    throw invalidArgument(name, "a non-empty string or a non-negative integer", value, true);
  }
  return value;
}

/**
 * Returns `value` when it is a non-empty string; otherwise throws `invalid_argument` naming
 * `name` (and quoting a string only when `identifier` says it is one).
 */
export function nonEmpty(value: unknown, name: string, identifier?: boolean): string {
  if (typeof value !== "string" || value.length === 0) {
    throw invalidArgument(name, "a non-empty string", value, identifier);
  }
  return value;
}

function flag(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw invalidArgument(`Option ${name}`, "a boolean", value);
  }
  return value;
}
