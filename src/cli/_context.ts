// What every command shares: the I/O types, the run's context (output with redaction and
// escaping, JSON mode), the usage error, the exit codes, and configuration from flags and env.

import process from "node:process";
import { createClient, type SmileIdClient } from "../client.ts";
import { SmileIdError } from "../errors.ts";
import { jsonText, printable } from "./_format.ts";
import { quote } from "../_validate.ts";

/**
 * Where the CLI writes: `process.stdout`, `process.stderr`, or anything with `write`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { CliOutput } from "@smile-id-kit/job-status/cli";
 *
 * const lines: string[] = [];
 * const output: CliOutput = { write: (text: string) => lines.push(text), isTTY: false };
 * output.write("hello\n");
 * assertEquals(lines, ["hello\n"]);
 * ```
 */
export interface CliOutput {
  /** Writes text as is (lines end with `\n`). */
  write(text: string): unknown;
  /** Whether this is a terminal: `wait` then redraws one progress line instead of printing lines. */
  readonly isTTY?: boolean | undefined;
}

/**
 * What `main` reads and writes; every field defaults to the process's own.
 *
 * @example
 * ```ts
 * import { assertEquals, assertStringIncludes } from "@std/assert";
 * import { type CliIo, main } from "@smile-id-kit/job-status/cli";
 *
 * const printed: string[] = [];
 * const io: CliIo = {
 *   env: { SMILE_PARTNER_ID: "085", SMILE_API_KEY: "my-api-key", SMILE_SERVER: "sandbox" },
 *   stdout: { write: (text: string) => void printed.push(text) },
 *   signal: AbortSignal.timeout(60_000),
 * };
 * assertEquals(await main(["help"], io), 0);
 * assertStringIncludes(printed.join(""), "Usage: smile-id-job-status <command> [options]");
 * ```
 */
export interface CliIo {
  /**
   * Environment variables.
   *
   * @default `process.env`
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Standard output.
   *
   * @default `process.stdout`
   */
  readonly stdout?: CliOutput;
  /**
   * Standard error, for progress and errors.
   *
   * @default `process.stderr`
   */
  readonly stderr?: CliOutput;
  /**
   * Standard input, read by `verify-callback -`.
   *
   * @default `process.stdin`
   */
  readonly stdin?: AsyncIterable<Uint8Array | string> & { readonly isTTY?: boolean | undefined };
  /**
   * The `fetch` the client uses; it is called unbound.
   *
   * @default the global `fetch`
   */
  readonly fetch?: (request: Request, init?: RequestInit) => Promise<Response>;
  /** Aborting it stops `wait` and `fake-server` (the command line entry wires Ctrl-C to it). */
  readonly signal?: AbortSignal;
}

export const NAME = "smile-id-job-status";
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** A wrong flag, a missing value or missing configuration: exit code 2 with a hint. */
export class UsageError extends Error {
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/** One run of the command line: its I/O, its mode and the secrets it must never print. */
export interface Context {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly io: CliIo;
  /** `--json` anywhere before `--`: every outcome, errors included, is one JSON value on stdout. */
  readonly json: boolean;
  /** `--verbose`: errors show their whole `cause` chain. */
  readonly verbose: boolean;
  /** Whether stderr is a terminal (`wait` redraws its progress line there). */
  readonly stderrIsTTY: boolean;
  /** The server the command talks to, once known (for "could not reach" messages). */
  server: string | undefined;
  /** Prints lines on stdout, redacted, with anything that could drive a terminal escaped. */
  out(text?: string): void;
  /** The same on stderr. */
  err(text?: string): void;
  /** Prints one JSON value on stdout (`pretty`: indented), redacted and ASCII-safe. */
  outJson(value: unknown, pretty?: boolean): void;
  /** Writes a progress line on a terminal: clears the line, then draws `text` without a newline. */
  redraw(text: string): void;
  /** Writes raw text on stderr (only the CLI's own control sequences, such as a final newline). */
  rawErr(text: string): void;
  /** Adds a value never to print. */
  secret(value: string): void;
  /** `text` with every secret replaced by `[redacted]`. */
  redact(text: string): string;
}

/** Secrets shorter than this are not redacted: replacing every "abc" would garble all output. */
const MIN_SECRET_LENGTH = 4;

/** The values of every `--api-key X` and `--api-key=X` in `argv`, before anything parses it. */
export function apiKeysInArgv(argv: readonly string[]): string[] {
  const keys: string[] = [];
  argv.forEach((arg, index) => {
    if (arg === "--api-key" && index + 1 < argv.length) keys.push(argv[index + 1]!);
    else if (arg.startsWith("--api-key=")) keys.push(arg.slice("--api-key=".length));
  });
  return keys;
}

/** Whether `argv` has `flag` before a `--` that ends the options. */
function hasFlag(argv: readonly string[], flag: string): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes(flag);
}

/**
 * Builds the context. The configured key (`SMILE_API_KEY`) and every `--api-key` value are
 * registered for redaction here, from the raw argv, before any parsing could quote them.
 */
export function createContext(argv: readonly string[], io: CliIo): Context {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const secrets: string[] = [];
  const secret = (value: string) => {
    if (value.length < MIN_SECRET_LENGTH) return;
    // Also the forms it takes inside JSON and escaped text, so that no output shows it.
    for (const form of [value, JSON.stringify(value).slice(1, -1), printable(value)]) {
      if (!secrets.includes(form)) secrets.push(form);
    }
    secrets.sort((a, b) => b.length - a.length);
  };
  const envKey = env.SMILE_API_KEY;
  if (envKey) secret(envKey);
  for (const key of apiKeysInArgv(argv)) secret(key);
  const redact = (text: string) => secrets.reduce((out, value) => out.split(value).join("[redacted]"), text);
  const lines = (text: string) => redact(text).split("\n").map(printable).join("\n") + "\n";
  return {
    env,
    io,
    json: hasFlag(argv, "--json"),
    verbose: hasFlag(argv, "--verbose"),
    stderrIsTTY: stderr.isTTY === true,
    server: undefined,
    out: (text = "") => void stdout.write(lines(text)),
    err: (text = "") => void stderr.write(lines(text)),
    outJson: (value, pretty = false) => void stdout.write(redact(jsonText(value, pretty)) + "\n"),
    redraw: (text) => void stderr.write(`\r\x1b[2K${printable(redact(text))}`),
    rawErr: (text) => void stderr.write(text),
    secret,
    redact,
  };
}

/**
 * Refuses the API key anywhere but `--api-key` and `SMILE_API_KEY`: a key pasted into another
 * option, an argument or `SMILE_SERVER` is never sent anywhere nor quoted in a message.
 */
export function refuseMisplacedKey(argv: readonly string[], context: Context): void {
  const keys = [context.env.SMILE_API_KEY ?? "", ...apiKeysInArgv(argv)].filter((key) =>
    key.length >= MIN_SECRET_LENGTH
  );
  const holds = (text: string | undefined) => text !== undefined && keys.some((key) => text.includes(key));
  argv.forEach((arg, index) => {
    const isKeyValue = argv[index - 1] === "--api-key" || arg.startsWith("--api-key=");
    if (!isKeyValue && arg !== "--api-key" && holds(arg)) {
      throw new UsageError(
        `Argument ${index + 1} holds the API key; give the key only with --api-key or SMILE_API_KEY`,
      );
    }
  });
  for (const name of ["SMILE_PARTNER_ID", "SMILE_SERVER"]) {
    if (holds(context.env[name])) {
      throw new UsageError(`${name} holds the API key; give the key only with --api-key or SMILE_API_KEY`);
    }
  }
}

/** The configuration flags every command that talks to Smile ID reads. */
export interface ConfigValues {
  readonly "partner-id"?: string | undefined;
  readonly "api-key"?: string | undefined;
  readonly server?: string | undefined;
}

/** A flag's value, or its variable when the flag is absent; a flag given empty is a usage error. */
function setting(flag: string | undefined, name: string, variable: string | undefined, command: string) {
  if (flag === "") throw new UsageError(`Option ${name} must be a non-empty string, got ""`, command);
  return flag ?? (variable === "" ? undefined : variable);
}

/** Partner id, key and server from flags, then the environment; names every missing one. */
export function config(values: ConfigValues, context: Context, command: string) {
  const partnerId = setting(values["partner-id"], "--partner-id", context.env.SMILE_PARTNER_ID, command);
  const apiKey = setting(values["api-key"], "--api-key", context.env.SMILE_API_KEY, command);
  const server = setting(values.server, "--server", context.env.SMILE_SERVER, command) ?? "sandbox";
  if (apiKey !== undefined) context.secret(apiKey);
  const missing = [
    partnerId === undefined ? "SMILE_PARTNER_ID (or --partner-id)" : "",
    apiKey === undefined ? "SMILE_API_KEY (or --api-key)" : "",
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new UsageError(`Missing configuration: set ${missing.join(" and ")}`, command);
  }
  return { partnerId: partnerId!, apiKey: apiKey!, server };
}

/** A client for the configured partner and server; a configuration the library refuses is a usage error. */
export function client(values: ConfigValues, context: Context, command: string): SmileIdClient {
  const { partnerId, apiKey, server } = config(values, context, command);
  const smile = usage(
    () => createClient({ partnerId, apiKey, server, ...(context.io.fetch ? { fetch: context.io.fetch } : {}) }),
    command,
  );
  context.server = smile.server;
  return smile;
}

/** Runs `make`, turning the library's `invalid_argument` (bad input from the command line) into a usage error. */
export function usage<T>(make: () => T, command: string): T {
  try {
    return make();
  } catch (error) {
    throw asUsage(error, command);
  }
}

/** The library's `invalid_argument` as a usage error; any other error as it is. */
export function asUsage(error: unknown, command: string): unknown {
  return error instanceof SmileIdError && error.code === "invalid_argument"
    ? new UsageError(error.message, command)
    : error;
}

/** `Option --flag must be …, got "value"`, the library's sentence for a bad argument. */
export function badOption(flag: string, expected: string, value: unknown, command: string): UsageError {
  return new UsageError(`Option ${flag} must be ${expected}, got ${quote(value)}`, command);
}
