#!/usr/bin/env node
/**
 * The `smile-id-job-status` command: ask for a job's status, wait for it with progress, print a
 * signature, check a saved callback, or run the fake Smile ID on loopback. It runs in Deno
 * (`deno run -A jsr:@smile-id-kit/job-status/cli`), Node and Bun (npm bin
 * `smile-id-job-status`).
 *
 * Configuration comes from flags or the environment (`SMILE_PARTNER_ID`, `SMILE_API_KEY`,
 * `SMILE_SERVER`); the API key is never printed. Exit codes: 0 success, 1 failure or invalid
 * callback, 2 usage or configuration error, 130 interrupted (Ctrl-C).
 *
 * Unlike the rest of the package this module uses Node APIs (`node:http`, `node:util`,
 * `node:process`), which Deno and Bun provide too.
 *
 * @example Run a command in-process
 * ```ts
 * import { main } from "@smile-id-kit/job-status/cli";
 *
 * let output = "";
 * const code = await main(["sign", "--timestamp", "2023-02-13T15:07:42.214Z"], {
 *   env: { SMILE_PARTNER_ID: "partner", SMILE_API_KEY: "apiKey" },
 *   stdout: { write: (text: string) => (output += text) },
 * });
 * console.log(code, output.includes("XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=")); // 0 true
 * ```
 *
 * @module
 */

import { realpathSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { verifyCallback } from "./callback.ts";
import { classifyCallbackError } from "./handler.ts";
import { createClient, type SmileIdClient } from "./client.ts";
import { SmileIdError } from "./errors.ts";
import type { PollProgress } from "./poll.ts";
import { describeResult, type ResultSummary } from "./result.ts";
import { createSigner } from "./signature.ts";
import { createFakeSmileId, type FakeRequestRecord } from "./testing/mod.ts";
import type { FetchLike } from "./transport.ts";
import type { JobResult, JobStatus } from "./types.ts";
import { VERSION } from "./_version.ts";

/**
 * Where the CLI writes: `process.stdout`, `process.stderr`, or anything with `write`.
 *
 * @example
 * ```ts
 * import type { CliOutput } from "@smile-id-kit/job-status/cli";
 *
 * const lines: string[] = [];
 * const output: CliOutput = { write: (text: string) => lines.push(text), isTTY: false };
 * output.write("hello\n");
 * console.log(lines); // [ "hello\n" ]
 * ```
 */
export interface CliOutput {
  /** Writes text as is (lines end with `\n`). */
  write(text: string): unknown;
  /** Whether this is a terminal: `wait` then redraws one progress line instead of printing lines. */
  readonly isTTY?: boolean | undefined;
}

/**
 * What {@linkcode main} reads and writes; every field defaults to the process's own.
 *
 * @example
 * ```ts
 * import type { CliIo } from "@smile-id-kit/job-status/cli";
 *
 * const io: CliIo = {
 *   env: { SMILE_PARTNER_ID: "085", SMILE_API_KEY: "my-api-key", SMILE_SERVER: "sandbox" },
 *   stdout: { write: (text: string) => console.log(text.trimEnd()) },
 *   signal: AbortSignal.timeout(60_000),
 * };
 * console.log(Object.keys(io).length); // 3
 * ```
 */
export interface CliIo {
  /** Environment variables (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Standard output (default `process.stdout`). */
  readonly stdout?: CliOutput;
  /** Standard error, for progress and errors (default `process.stderr`). */
  readonly stderr?: CliOutput;
  /** Standard input, read by `verify-callback -` (default `process.stdin`). */
  readonly stdin?: AsyncIterable<Uint8Array | string> & { readonly isTTY?: boolean | undefined };
  /** The `fetch` the client uses (default: the global `fetch`). */
  readonly fetch?: FetchLike;
  /** Aborting it stops `wait` and `fake-server` (the command line entry wires Ctrl-C to it). */
  readonly signal?: AbortSignal;
}

/**
 * A running HTTP server from {@linkcode serveFetch}.
 *
 * @example
 * ```ts
 * import { type FetchServer, serveFetch } from "@smile-id-kit/job-status/cli";
 *
 * const server: FetchServer = await serveFetch(() => new Response("hi"), { port: 0 });
 * console.log(server.url.startsWith("http://127.0.0.1:")); // true
 * await server.close();
 * ```
 */
export interface FetchServer {
  /** Origin the server listens on, for example `http://127.0.0.1:8787`. */
  readonly url: string;
  /** The port, useful when `0` asked for any free one. */
  readonly port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Serves a fetch handler (such as the fake Smile ID's `fetch`) over HTTP with `node:http`,
 * which Node, Deno and Bun all provide. Bodies are read whole (at most 4 MiB); a handler
 * that throws, or a fake `networkError` fault, drops the connection like a network failure.
 * The request's signal aborts when the client goes away. (Deno's `fetch` re-sends a request
 * once when a reused keep-alive connection closes without an answer, so there a dropped
 * connection shows only on a fresh connection.)
 *
 * @example Serve the fake Smile ID to another process
 * ```ts
 * import { serveFetch } from "@smile-id-kit/job-status/cli";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key" });
 * const server = await serveFetch(fake.fetch, { hostname: "127.0.0.1", port: 0 });
 * console.log(`${server.url}/v1`); // the base URL to configure as the server
 * await server.close();
 * ```
 */
export function serveFetch(
  handler: (request: Request) => Response | Promise<Response>,
  options: { readonly hostname?: string; readonly port?: number } = {},
): Promise<FetchServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const server = createServer((req, res) => void respond(req, res));
  let origin = "";

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) controller.abort(new Error("The client closed the connection"));
    });
    try {
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Uint8Array).byteLength;
        if (size > MAX_SERVED_BODY_BYTES) {
          res.writeHead(413, { "content-type": "application/json" }).end('{"error":"Request body too large"}');
          return;
        }
        chunks.push(chunk as Uint8Array);
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (Array.isArray(value)) { for (const item of value) headers.append(name, item); }
        else if (value !== undefined) headers.set(name, value);
      }
      const method = req.method ?? "GET";
      const request = new Request(origin + (req.url ?? "/"), {
        method,
        headers,
        body: method === "GET" || method === "HEAD" ? null : concat(chunks, size),
        signal: controller.signal,
      });
      const response = await handler(request);
      const body = new Uint8Array(await response.arrayBuffer());
      const outHeaders: Record<string, string> = Object.fromEntries(response.headers);
      outHeaders["content-length"] = String(body.byteLength);
      res.writeHead(response.status, outHeaders).end(body);
    } catch {
      res.destroy();
    }
  }

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, hostname, () => {
      server.off("error", reject);
      const { port } = server.address() as AddressInfo;
      origin = `http://${host}:${port}`;
      resolve({
        url: origin,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}

const MAX_SERVED_BODY_BYTES = 4 * 1024 * 1024;
const NAME = "smile-id-job-status";
const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

/** A wrong flag, a missing value or missing configuration: exit code 2 with a hint. */
class UsageError extends Error {
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

const CONFIG_OPTIONS = {
  "partner-id": { type: "string" },
  "api-key": { type: "string" },
  server: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const QUERY_OPTIONS = {
  ...CONFIG_OPTIONS,
  "user-id": { type: "string" },
  "job-id": { type: "string" },
  history: { type: "boolean" },
  "image-links": { type: "boolean" },
  json: { type: "boolean" },
} as const;

const CONFIG_HELP = `Configuration (a flag wins over its variable):
  --partner-id ID   SMILE_PARTNER_ID   partner id exactly as the portal shows it (e.g. "085")
  --api-key KEY     SMILE_API_KEY      API key for signature; prefer the variable (flags stay in shell history)
  --server S        SMILE_SERVER       sandbox (default), production, 0, 1, or a base URL
                                       (https://…, or http:// on 127.0.0.1 for the fake server)`;

const HELP: Record<string, string> = {
  "": `${NAME} ${VERSION}: Smile ID v1 job status from the command line

Usage: ${NAME} <command> [options]

Commands:
  status           Ask for a job's status once and print the decision
  wait             Poll until a job is complete, showing progress
  sign             Print a signature and its timestamp (to debug error 2205)
  verify-callback  Check a saved callback body (exit 0 valid, 1 invalid)
  fake-server      Run a fake Smile ID on 127.0.0.1 for offline testing

${CONFIG_HELP}

Exit codes: 0 success, 1 failure or invalid callback, 2 usage or configuration error,
130 interrupted. Run '${NAME} <command> --help' for a command's options.`,
  status: `Usage: ${NAME} status --user-id U --job-id J [--history] [--image-links] [--json]

Asks Smile ID for a job's status once, verifies the answer's signature, and prints the
decision, the result code and text, and the Actions table.

Options:
  --user-id U      user_id the job was submitted with (required)
  --job-id J       job_id the job was submitted with (required)
  --history        include the job's earlier results
  --image-links    include expiring links to the job's images
  --json           print Smile ID's answer as JSON instead

${CONFIG_HELP}`,
  wait: `Usage: ${NAME} wait --user-id U --job-id J [--timeout 120] [--interval 1] [--max-interval 8] [--json]

Polls until the job is complete, then prints it like 'status'. Progress goes to stderr: one
line redrawn on a terminal, one line per attempt otherwise. Waits start at --interval and grow
to --max-interval; busy answers (429, 5xx) and network errors are retried until --timeout;
anything else (such as error 2205) stops at once. Ctrl-C stops cleanly.

Options:
  --user-id U         user_id the job was submitted with (required)
  --job-id J          job_id the job was submitted with (required)
  --timeout S         give up after S seconds (default 120)
  --interval S        first wait between checks, in seconds (default 1)
  --max-interval S    longest wait between checks, in seconds (default 8)
  --history           include the job's earlier results
  --image-links       include expiring links to the job's images
  --json              print Smile ID's final answer as JSON

${CONFIG_HELP}`,
  sign: `Usage: ${NAME} sign [--timestamp T] [--json]

Prints the signature Smile ID expects for a timestamp (default: now), the timestamp, and the
exact text that was signed, to compare with what your code sends when Smile ID answers 2205.

Options:
  --timestamp T    sign this timestamp verbatim (e.g. 2024-01-01T00:00:00.000Z)
  --json           print JSON

${CONFIG_HELP}`,
  "verify-callback": `Usage: ${NAME} verify-callback [FILE|-] [--tolerance 300] [--confirm] [--json]

Checks a callback body Smile ID posted (saved to FILE, or read from stdin with - or no FILE):
signature, timestamp freshness and shape. Exit code 0 when valid, 1 when not, with the reason.
The signature covers only the timestamp and partner id, not the body: --confirm also asks
Smile ID for the job's status and lists the fields where the body disagrees; a callback
outside the tolerance is then still valid, reported as not fresh.

Options:
  --tolerance S    accept timestamps at most S seconds from now (default 300); 'off' skips it
  --confirm        compare the body with the job status from Smile ID (needs the server)
  --json           print the outcome as JSON

${CONFIG_HELP}`,
  "fake-server": `Usage: ${NAME} fake-server [--port 8787] [--host 127.0.0.1] [--partner-id ID] [--complete-after 3]

Runs a fake Smile ID on loopback for offline testing: it checks partner id and signature like
the real API, answers signed job statuses, and prints the partner id, a made-up API key and the
base URL to use. Any user id and job id you ask about exists; it completes --complete-after
seconds after the first query, with the example result from Smile ID's documentation.
SMILE_* variables are ignored here, so real credentials are never used or shown.

Options:
  --port N            port to listen on (default 8787; 0 picks a free one)
  --host H            loopback address to listen on (default 127.0.0.1)
  --partner-id ID     partner id the fake serves (default 000)
  --api-key KEY       key the fake accepts (default: a new random key, printed)
  --complete-after S  seconds from a job's first query until it is complete (default 3)`,
};

/**
 * Runs the command line with `argv` (without the runtime and script path) and resolves the
 * exit code; it never calls `process.exit`. Everything it touches can be replaced through
 * `io`, so it runs in tests without a subprocess.
 *
 * @example Check a job against an in-process fake
 * ```ts
 * import { main } from "@smile-id-kit/job-status/cli";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 * let output = "";
 * const code = await main(["status", "--user-id", "user-1", "--job-id", "job-1", "--json"], {
 *   env: { SMILE_PARTNER_ID: "085", SMILE_API_KEY: "test-key" },
 *   fetch: fake.fetch,
 *   stdout: { write: (text: string) => (output += text) },
 * });
 * console.log(code, JSON.parse(output).job_complete); // 0 true
 * ```
 */
export async function main(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const secrets: string[] = [];
  const redact = (text: string) => secrets.reduce((out, secret) => out.split(secret).join("[redacted]"), text);
  const out = (text = "") => void stdout.write(redact(text) + "\n");
  const err = (text = "") => void stderr.write(redact(text) + "\n");
  const [command = "", ...rest] = argv;

  try {
    if (command === "" || command === "help" || command === "--help" || command === "-h") {
      const topic = command === "help" ? rest[0] ?? "" : "";
      if (!(topic in HELP)) throw new UsageError(`Unknown command ${JSON.stringify(topic)}`);
      (command === "" ? err : out)(HELP[topic]);
      return command === "" ? EXIT_USAGE : EXIT_OK;
    }
    if (command === "--version" || command === "-V") {
      out(VERSION);
      return EXIT_OK;
    }
    const context: Context = { env, out, err, stderr, io, secrets };
    switch (command) {
      case "status":
      case "wait":
        return await query(command, rest, context);
      case "sign":
        return await sign(rest, context);
      case "verify-callback":
        return await verifyCallbackCommand(rest, context);
      case "fake-server":
        return await fakeServer(rest, context);
      default:
        throw new UsageError(`Unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      const which = error instanceof UsageError && error.command ? error.command : command in HELP ? command : "";
      // parseArgs explains '--' at length after the useful part; keep the useful part.
      err(`${NAME}: ${(error as Error).message.replace(/\. To specify a positional argument[\s\S]*$/, "")}`);
      err(`Run '${NAME}${which ? ` ${which}` : ""} --help' for usage.`);
      return EXIT_USAGE;
    }
    if (error instanceof SmileIdError) {
      if (error.code === "aborted") {
        err("Interrupted.");
        return EXIT_INTERRUPTED;
      }
      err(`Error (${error.code}): ${error.message}`);
      if (error.smileCode === "2204" || error.smileCode === "2205") {
        err(
          "Hint: Smile ID could not authenticate the request. Check SMILE_PARTNER_ID (leading zeros " +
            "included), SMILE_API_KEY and SMILE_SERVER (sandbox and production keys differ); " +
            `'${NAME} sign' prints what is signed.`,
        );
      }
      return EXIT_FAILURE;
    }
    err(`Error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_FAILURE;
  }
}

interface Context {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (text?: string) => void;
  readonly err: (text?: string) => void;
  readonly stderr: CliOutput;
  readonly io: CliIo;
  readonly secrets: string[];
}

interface ConfigValues {
  readonly "partner-id"?: string | undefined;
  readonly "api-key"?: string | undefined;
  readonly server?: string | undefined;
}

/** Partner id, key and server from flags, then the environment; names every missing one. */
function config(values: ConfigValues, context: Context, command: string) {
  const partnerId = values["partner-id"] ?? nonEmpty(context.env.SMILE_PARTNER_ID);
  const apiKey = values["api-key"] ?? nonEmpty(context.env.SMILE_API_KEY);
  const server = values.server ?? nonEmpty(context.env.SMILE_SERVER) ?? "sandbox";
  if (apiKey !== undefined && apiKey.length >= 4) context.secrets.push(apiKey);
  const missing = [
    partnerId === undefined ? "SMILE_PARTNER_ID (or --partner-id)" : "",
    apiKey === undefined ? "SMILE_API_KEY (or --api-key)" : "",
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new UsageError(`Missing configuration: set ${missing.join(" and ")}`, command);
  }
  return { partnerId: partnerId!, apiKey: apiKey!, server };
}

function client(values: ConfigValues, context: Context, command: string): SmileIdClient {
  const { partnerId, apiKey, server } = config(values, context, command);
  try {
    return createClient({ partnerId, apiKey, server, ...(context.io.fetch ? { fetch: context.io.fetch } : {}) });
  } catch (error) {
    // Bad configuration (a server that is not a URL, …) is a usage error.
    if (error instanceof SmileIdError && error.code === "invalid_argument") {
      throw new UsageError(error.message, command);
    }
    throw error;
  }
}

async function query(command: "status" | "wait", args: readonly string[], context: Context): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      ...QUERY_OPTIONS,
      ...(command === "wait"
        ? { timeout: { type: "string" }, interval: { type: "string" }, "max-interval": { type: "string" } } as const
        : {}),
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return help(command, context);
  noPositionals(positionals, command);
  const userId = required(values["user-id"], "--user-id", command);
  const jobId = required(values["job-id"], "--job-id", command);
  const flags = values as Record<string, string | boolean | undefined>;
  const timeoutMs = seconds(flags.timeout, "--timeout", command, 120);
  const intervalMs = seconds(flags.interval, "--interval", command, 1);
  const maxIntervalMs = seconds(flags["max-interval"], "--max-interval", command, Math.max(8, intervalMs / 1000));
  if (maxIntervalMs < intervalMs) throw new UsageError("--max-interval must not be less than --interval", command);
  const smile = client(values, context, command);
  const q = {
    userId,
    jobId,
    ...(values.history ? { includeHistory: true } : {}),
    ...(values["image-links"] ? { includeImageLinks: true } : {}),
  };

  let status: JobStatus;
  if (command === "status") {
    status = await smile.getJobStatus(q, { signal: context.io.signal });
  } else {
    const tty = context.stderr.isTTY === true;
    context.err(`Waiting for job ${jobId} of user ${userId} on ${smile.server} (timeout ${timeoutMs / 1000} s)`);
    let drawn = false;
    try {
      status = await smile.waitForJobStatus(q, {
        timeoutMs,
        intervalMs,
        maxIntervalMs,
        ...(context.io.signal ? { signal: context.io.signal } : {}),
        onProgress: (progress) => {
          const line = progressLine(progress);
          if (tty) {
            context.stderr.write(`\r\x1b[2K${line}`);
            drawn = true;
          } else context.err(line);
        },
      });
    } finally {
      if (drawn) context.stderr.write("\n");
    }
  }
  if (values.json) context.out(JSON.stringify(status.raw, null, 2));
  else for (const line of statusLines(status, userId, jobId, smile.server)) context.out(line);
  return EXIT_OK;
}

async function sign(args: readonly string[], context: Context): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { ...CONFIG_OPTIONS, timestamp: { type: "string" }, json: { type: "boolean" } },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return help("sign", context);
  noPositionals(positionals, "sign");
  const { partnerId, apiKey } = config(values, context, "sign");
  let signed;
  try {
    signed = await createSigner({ partnerId, apiKey }).sign(values.timestamp);
  } catch (error) {
    if (error instanceof SmileIdError && error.code === "invalid_argument") throw new UsageError(error.message, "sign");
    throw error;
  }
  const message = `${signed.timestamp}${partnerId}sid_request`;
  if (values.json) {
    context.out(JSON.stringify({ partner_id: partnerId, timestamp: signed.timestamp, signature: signed.signature }));
  } else {
    context.out(table([
      ["partner_id", partnerId],
      ["timestamp", signed.timestamp],
      ["signature", signed.signature],
      ["signed text", message],
    ]));
    context.out();
    context.out("Send partner_id, timestamp and signature exactly as printed in the JSON body.");
  }
  return EXIT_OK;
}

async function verifyCallbackCommand(args: readonly string[], context: Context): Promise<number> {
  const command = "verify-callback";
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      ...CONFIG_OPTIONS,
      tolerance: { type: "string" },
      confirm: { type: "boolean" },
      json: { type: "boolean" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return help(command, context);
  if (positionals.length > 1) throw new UsageError(`Expected one FILE, got ${positionals.length}`, command);
  const tolerance = values.tolerance === "off"
    ? false
    : seconds(values.tolerance, "--tolerance", command, 300, true) / 1000;
  const { partnerId, apiKey, server } = config(values, context, command);
  const signer = createSigner({ partnerId, apiKey });
  const body = await readInput(positionals[0] ?? "-", context);
  const reader = values.confirm ? client(values, context, command) : undefined;
  const now = Date.now();
  try {
    const verified = await verifyCallback(body, {
      signer,
      toleranceSeconds: tolerance,
      replayGuard: false,
      now: () => now,
      ...(reader ? { confirm: true, reader } : {}),
      ...(context.io.signal ? { signal: context.io.signal } : {}),
    });
    const { payload } = verified;
    // With --confirm, Smile ID's answer is the truth; the body's claims only without it.
    const summary = describeResult(verified.status ?? payload.result);
    const mismatches = verified.mismatches ?? [];
    const agrees = !verified.confirmed || mismatches.length === 0;
    if (values.json) {
      context.out(JSON.stringify({
        valid: agrees,
        ...(agrees ? {} : { code: "mismatch" }),
        signature: "valid",
        fresh: verified.fresh,
        confirmed: verified.confirmed,
        ...(verified.confirmed ? { mismatches } : {}),
        userId: payload.userId ?? null,
        jobId: payload.jobId ?? null,
        decision: summary.decision,
        resultCode: summary.code ?? null,
      }));
      return agrees ? EXIT_OK : EXIT_FAILURE;
    }
    const age = Math.round((now - Date.parse(payload.timestamp)) / 1000);
    context.out(agrees ? "Valid callback" : "Invalid callback: the body disagrees with Smile ID's job status");
    context.out(table([
      ["signature", `valid for partner ${partnerId} at ${payload.timestamp}`],
      [
        "fresh",
        tolerance === false
          ? "not checked (--tolerance off)"
          : `${verified.fresh ? "yes" : "no"}, ${
            Number.isFinite(age) ? `${Math.abs(age)} s ${age >= 0 ? "old" : "ahead"}` : "unreadable timestamp"
          } (tolerance ${tolerance} s)${verified.fresh ? "" : "; accepted because --confirm asked Smile ID"}`,
      ],
      ["replay", "not checked: a one-off check has no memory; your handler must use a replay guard"],
      ["job", `${payload.userId ?? "?"} / ${payload.jobId ?? "?"}`],
      ["decision", decisionText(summary)],
      [
        "body",
        verified.confirmed
          ? mismatches.length === 0
            ? `matches the job status from ${server}`
            : `differs from the job status in: ${mismatches.map((m) => `${m.path} (${m.kind})`).join(", ")}`
          : "not confirmed: the signature does not cover the body (use --confirm)",
      ],
    ]));
    return agrees ? EXIT_OK : EXIT_FAILURE;
  } catch (error) {
    // A callback refused for what it is (4xx) is invalid; failing to check it (5xx) is an error.
    if (!(error instanceof SmileIdError) || classifyCallbackError(error).status >= 500) throw error;
    if (values.json) context.out(JSON.stringify({ valid: false, code: error.code, message: error.message }));
    else context.out(`Invalid callback (${error.code}): ${error.message}`);
    return EXIT_FAILURE;
  }
}

async function readInput(path: string, context: Context): Promise<Uint8Array> {
  if (path === "-") {
    const stdin = context.io.stdin ?? process.stdin;
    if (stdin.isTTY) {
      throw new UsageError("Give the callback body as a FILE, or pipe it to stdin", "verify-callback");
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of stdin) {
      const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
      chunks.push(bytes);
      size += bytes.byteLength;
      if (size > 8 * 1024 * 1024) break; // verifyCallback refuses it anyway
    }
    return concat(chunks, size);
  }
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    const reason = (error as { code?: string }).code ?? (error as Error).message;
    throw new UsageError(`Cannot read the callback file ${JSON.stringify(path)}: ${reason}`, "verify-callback");
  }
}

async function fakeServer(args: readonly string[], context: Context): Promise<number> {
  const command = "fake-server";
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "partner-id": { type: "string" },
      "api-key": { type: "string" },
      "complete-after": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return help(command, context);
  noPositionals(positionals, command);
  const port = Number(values.port ?? "8787");
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !/^\d+$/.test(values.port ?? "8787")) {
    throw new UsageError(`--port must be a port number from 0 to 65535, got ${JSON.stringify(values.port)}`, command);
  }
  const hostname = values.host ?? "127.0.0.1";
  if (!/^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(hostname)) {
    throw new UsageError(
      `--host must be a loopback address (127.0.0.1, ::1, localhost), got ${JSON.stringify(hostname)}`,
      command,
    );
  }
  const completesAfterMs = seconds(values["complete-after"], "--complete-after", command, 3, true);
  const partnerId = values["partner-id"] ?? "000";
  const givenKey = values["api-key"];
  if (givenKey !== undefined && givenKey.length >= 4) context.secrets.push(givenKey);
  const apiKey = givenKey ?? randomKey();
  let fake;
  try {
    fake = createFakeSmileId({
      partnerId,
      apiKey,
      autoCreateJobs: { completesAfterMs },
      onRequest: (record) => context.out(requestLine(record)),
    });
  } catch (error) {
    if (error instanceof SmileIdError && error.code === "invalid_argument") {
      throw new UsageError(error.message, command);
    }
    throw error;
  }
  let server: FetchServer;
  try {
    server = await serveFetch(fake.fetch, { hostname, port });
  } catch (error) {
    const code = (error as { code?: string }).code;
    context.err(
      `Error: cannot listen on ${hostname}:${port}: ${
        code === "EADDRINUSE" ? "the address is in use; choose another --port" : code ?? String(error)
      }`,
    );
    return EXIT_FAILURE;
  }
  const base = `${server.url}/v1`;
  const shownKey = givenKey === undefined ? apiKey : "(the key you passed with --api-key)";
  const quoted = /^[\w+/=.-]+$/.test(apiKey) ? apiKey : `'${apiKey.replaceAll("'", "'\\''")}'`;
  context.out(`Fake Smile ID listening on ${base}`);
  context.out(table([
    ["partner id", partnerId],
    ["API key", shownKey],
    ["base URL", base],
    ["jobs", `any user id and job id; complete ${completesAfterMs / 1000} s after the first query`],
  ]));
  context.out();
  context.out("Try it from another terminal:");
  context.out(
    `  export SMILE_PARTNER_ID=${partnerId} SMILE_API_KEY=${givenKey === undefined ? quoted : "<your key>"} ` +
      `SMILE_SERVER=${base}`,
  );
  context.out(`  ${NAME} wait --user-id user-1 --job-id job-1`);
  context.out();
  context.out("Press Ctrl-C to stop.");
  const signal = context.io.signal;
  if (signal) {
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
  } else {
    await new Promise<never>(() => {}); // runs until the process ends
  }
  await server.close();
  context.out("Fake Smile ID stopped.");
  return EXIT_OK;
}

function help(command: string, context: Context): number {
  context.out(HELP[command]);
  return EXIT_OK;
}

function noPositionals(positionals: readonly string[], command: string): void {
  if (positionals.length > 0) {
    throw new UsageError(`Unexpected argument ${JSON.stringify(positionals[0])}`, command);
  }
}

function required(value: string | undefined, flag: string, command: string): string {
  if (value === undefined || value === "") throw new UsageError(`Missing required option ${flag}`, command);
  return value;
}

/** Reads a number of seconds from a flag as milliseconds. */
function seconds(value: unknown, flag: string, command: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback * 1000;
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  if (!Number.isFinite(number) || number < 0 || (!allowZero && number === 0)) {
    throw new UsageError(
      `${flag} must be a ${allowZero ? "non-negative" : "positive"} number of seconds, got ${JSON.stringify(value)}`,
      command,
    );
  }
  return number * 1000;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function isParseArgsError(error: unknown): error is Error {
  const code = (error as { code?: unknown })?.code;
  return error instanceof Error && typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}

function progressLine(progress: PollProgress): string {
  const state = progress.error
    ? progress.error.code === "http"
      ? `HTTP ${progress.error.status}${progress.error.smileCode ? ` (${progress.error.smileCode})` : ""}`
      : progress.error.code
    : progress.status?.jobComplete
    ? "complete"
    : "not complete yet";
  const next = progress.nextDelayMs === undefined
    ? ""
    : `; next check in ${(progress.nextDelayMs / 1000).toFixed(1)} s`;
  return `attempt ${progress.attempt}, ${(progress.elapsedMs / 1000).toFixed(1)} s: ${state}${next}`;
}

function decisionText(summary: ResultSummary): string {
  const detail = [summary.code, summary.text?.trim()].filter(Boolean).join(" ");
  return detail ? `${summary.decision} (${detail})` : summary.decision;
}

/** Human-readable lines for a job status: decision, result, Actions, history and links. */
function statusLines(status: JobStatus, userId: string, jobId: string, server: string): string[] {
  const summary = describeResult(status);
  const result = typeof status.result === "object" ? status.result : undefined;
  const yesNo = (value: boolean | undefined) => (value === undefined ? "-" : value ? "yes" : "no");
  const rows: [string, string][] = [
    ["complete", yesNo(status.jobComplete)],
    ["success", yesNo(status.jobSuccess)],
    [
      "decision",
      summary.decision === "unknown" && summary.code
        ? `unknown (Smile ID documents no category for code ${summary.code})`
        : summary.decision,
    ],
    ["result", [summary.code, summary.text?.trim()].filter(Boolean).join(" ") || "-"],
  ];
  if (result?.resultType) rows.push(["type", result.resultType]);
  if (summary.final !== undefined || summary.machine !== undefined) {
    rows.push(["final", `${yesNo(summary.final)}${summary.machine ? " (machine result)" : ""}`]);
  }
  if (summary.confidence !== undefined) rows.push(["confidence", String(summary.confidence)]);
  if (result?.smileJobId) rows.push(["Smile job", result.smileJobId]);
  if (status.code) rows.push(["code", status.code]);
  const lines = [`Job ${jobId} of user ${userId} on ${server}`, table(rows)];
  const actions = Object.entries(summary.actions);
  if (actions.length > 0) lines.push("Actions", table(actions, "  "));
  if (status.history) {
    lines.push(`History (${status.history.length} ${status.history.length === 1 ? "entry" : "entries"})`);
    status.history.forEach((entry: JobResult, index) => {
      const text = [entry.resultCode, entry.resultText?.trim()].filter(Boolean).join(" ");
      lines.push(`  ${index + 1}. ${text || "(no result code)"}`);
    });
  }
  if (status.imageLinks) {
    const links = Object.entries(status.imageLinks).map(([key, value]): [string, string] => [
      key,
      typeof value === "string" ? value : JSON.stringify(value),
    ]);
    lines.push("Image links", links.length > 0 ? table(links, "  ") : "  (none)");
  }
  return lines;
}

function table(rows: readonly (readonly [string, string])[], indent = "  "): string {
  const width = Math.max(...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${indent}${key.padEnd(width)}  ${value}`).join("\n");
}

function requestLine(record: FakeRequestRecord): string {
  const time = new Date(record.at).toISOString().slice(11, 19);
  const job = record.jobId === undefined ? "" : ` ${record.userId ?? "?"}/${record.jobId}`;
  const state = record.smileCode !== undefined
    ? ` error ${record.smileCode}`
    : record.jobComplete === undefined
    ? ""
    : record.jobComplete
    ? " complete"
    : " pending";
  return `${time} ${record.method} ${record.path} -> ${record.status}${job}${state}`;
}

function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

function isEntryPoint(): boolean {
  const meta = import.meta as ImportMeta & { main?: boolean };
  if (typeof meta.main === "boolean") return meta.main;
  const script = process.argv[1];
  if (script === undefined || !import.meta.url.startsWith("file:")) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const controller = new AbortController();
  // The first Ctrl-C stops the command cleanly; a second one ends the process at once.
  const interrupt = () => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    controller.abort(new Error("Interrupted"));
  };
  process.on("SIGINT", interrupt);
  main(process.argv.slice(2), { signal: controller.signal }).then((code) => {
    process.off("SIGINT", interrupt);
    process.exitCode = code;
  });
}
