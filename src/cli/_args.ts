// Reading a command's arguments: a check of every option before node:util's parseArgs sees them
// (so that a value starting with "-", such as --timeout -5, reaches our own checks), and the
// checks of seconds, required options and stray arguments.

import { parseArgs } from "node:util";
import { badOption, UsageError } from "./_context.ts";
import { quote } from "../_validate.ts";

/** One option: a string that takes a value, or a boolean flag. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
}

/** Options by long name, as `parseArgs` takes them. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** What every command takes. */
export const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  verbose: { type: "boolean" },
} as const satisfies OptionSpecs;

/** Configuration, for the commands that talk to Smile ID or sign. */
export const CONFIG_OPTIONS = {
  ...COMMON_OPTIONS,
  "partner-id": { type: "string" },
  "api-key": { type: "string" },
  server: { type: "string" },
} as const satisfies OptionSpecs;

/** The parsed options: strings and booleans by long name. */
export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  /** A string option's value (undefined when absent). */
  string(name: string): string | undefined;
  /** Whether a boolean option was given. */
  flag(name: string): boolean;
}

/**
 * Parses `args` for `command`. Unknown options and options without their value are refused
 * here with our own sentences; `--name value` whose value starts with `-` is read as
 * `--name=value` (parseArgs would call it ambiguous), so its value gets the option's own check.
 */
export function parse(args: readonly string[], options: OptionSpecs, command: string): Parsed {
  const prepared: string[] = [];
  const shorts = new Set(Object.values(options).flatMap((spec) => (spec.short ? [`-${spec.short}`] : [])));
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "--") {
      prepared.push(...args.slice(index));
      break;
    }
    if (arg.startsWith("--")) {
      const equals = arg.indexOf("=");
      const name = arg.slice(2, equals === -1 ? undefined : equals);
      const spec = Object.hasOwn(options, name) ? options[name] : undefined;
      if (spec === undefined) throw new UsageError(`Unknown option ${quote(`--${name}`)}`, command);
      if (spec.type === "boolean" || equals !== -1) {
        if (spec.type === "boolean" && equals !== -1) {
          throw new UsageError(`Option --${name} takes no value, got ${quote(arg.slice(equals + 1))}`, command);
        }
        prepared.push(arg);
        continue;
      }
      const value = args[index + 1];
      if (value === undefined || value.startsWith("--") || shorts.has(value)) {
        throw new UsageError(`Option --${name} needs a value`, command);
      }
      prepared.push(`--${name}=${value}`);
      index++;
      continue;
    }
    if (arg.startsWith("-") && arg !== "-" && !shorts.has(arg)) {
      throw new UsageError(`Unknown option ${quote(arg)}`, command);
    }
    prepared.push(arg);
  }
  let result;
  try {
    result = parseArgs({ args: prepared, options: { ...options }, strict: true, allowPositionals: true });
  } catch (error) {
    // Not reached with the checks above; a parser that disagrees still gives a usage error.
    throw new UsageError(error instanceof Error ? error.message : String(error), command);
  }
  const values = result.values as Record<string, string | boolean | undefined>;
  return {
    values,
    positionals: result.positionals,
    string: (name) => (typeof values[name] === "string" ? values[name] as string : undefined),
    flag: (name) => values[name] === true,
  };
}

/** Refuses any positional argument. */
export function noPositionals(parsed: Parsed, command: string): void {
  if (parsed.positionals.length > 0) {
    throw new UsageError(`Unexpected argument ${quote(parsed.positionals[0])}`, command);
  }
}

/** A required string option. */
export function required(parsed: Parsed, name: string, command: string): string {
  const value = parsed.string(name);
  if (value === undefined) throw new UsageError(`Missing required option --${name}`, command);
  if (value === "") throw badOption(`--${name}`, "a non-empty string", value, command);
  return value;
}

/** Reads a number of seconds from an option, as milliseconds (`fallback` in seconds when absent). */
export function seconds(
  parsed: Parsed,
  name: string,
  command: string,
  fallback: number,
  allowZero = false,
): number {
  const value = parsed.string(name);
  if (value === undefined) return fallback * 1000;
  const number = value.trim() === "" ? NaN : Number(value);
  if (!Number.isFinite(number) || number < 0 || (!allowZero && number === 0) || !Number.isFinite(number * 1000)) {
    throw badOption(`--${name}`, `a ${allowZero ? "non-negative" : "positive"} number of seconds`, value, command);
  }
  return number * 1000;
}
