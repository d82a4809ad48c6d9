#!/usr/bin/env node
/**
 * The `smile-id-job-status` command: ask for a job's status, wait for it with progress, print a
 * signature, check a saved callback, or run the fake Smile ID on loopback. It runs in Deno
 * (`deno run -A jsr:@smile-id-kit/job-status/cli`), Node and Bun (npm bin
 * `smile-id-job-status`). This file dispatches; each command lives in `src/cli/`.
 *
 * Configuration comes from flags or the environment (`SMILE_PARTNER_ID`, `SMILE_API_KEY`,
 * `SMILE_SERVER`); the API key is never printed. Exit codes: 0 success (a valid callback),
 * 1 failure (Smile ID refused or unreachable, a timeout, an invalid callback), 2 usage or
 * configuration error, 130 interrupted (Ctrl-C). With `--json` every outcome, errors included,
 * is one JSON object on stdout: `{"error":{"code","message","cause","exitCode"}}` for errors.
 *
 * Unlike the rest of the package this module uses Node APIs (`node:fs`, `node:http`,
 * `node:util`, `node:process`), which Deno and Bun provide too.
 *
 * @example Run a command in-process
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { main } from "@smile-id-kit/job-status/cli";
 *
 * let output = "";
 * const code = await main(["sign", "--timestamp", "2023-02-13T15:07:42.214Z"], {
 *   env: { SMILE_PARTNER_ID: "partner", SMILE_API_KEY: "apiKey" },
 *   stdout: { write: (text: string) => (output += text) },
 * });
 * assertEquals(code, 0);
 * assert(output.includes("XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74="));
 * ```
 *
 * @module
 */

import { realpathSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { VERSION } from "./_version.ts";
import {
  type CliIo,
  createContext,
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_USAGE,
  refuseMisplacedKey,
  UsageError,
} from "./cli/_context.ts";
import { HELP } from "./cli/_help.ts";
import { report } from "./cli/_report.ts";
import { fakeServer } from "./cli/fake_server.ts";
import { sign } from "./cli/sign.ts";
import { status } from "./cli/status.ts";
import { verifyCallbackCommand } from "./cli/verify_callback.ts";
import { wait } from "./cli/wait.ts";
import { quote } from "./_validate.ts";

export type { CliIo, CliOutput } from "./cli/_context.ts";

const COMMANDS = { status, wait, sign, "verify-callback": verifyCallbackCommand, "fake-server": fakeServer };

/**
 * Runs the command line with `argv` (without the runtime and script path) and resolves the
 * exit code; it never calls `process.exit`. Everything it touches can be replaced through
 * `io`, so it runs in tests without a subprocess.
 *
 * @example Check a job against an in-process fake
 * ```ts
 * import { assertEquals } from "@std/assert";
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
 * assertEquals([code, JSON.parse(output).job_complete], [0, true]);
 * ```
 *
 * @example An error with --json: one object on stdout, the same exit code as in text
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { main } from "@smile-id-kit/job-status/cli";
 *
 * let output = "";
 * const code = await main(["wait", "--user-id", "u", "--job-id", "j", "--timeout", "-5", "--json"], {
 *   env: { SMILE_PARTNER_ID: "085", SMILE_API_KEY: "test-key" },
 *   stdout: { write: (text: string) => (output += text) },
 * });
 * assertEquals(code, 2);
 * assertEquals(JSON.parse(output).error.code, "usage");
 * ```
 */
export async function main(argv: readonly string[], io: CliIo = {}): Promise<number> {
  // First of all, so that no message below can show the key: register it, refuse it misplaced.
  const context = createContext(argv, io);
  const [command = "", ...rest] = argv;
  try {
    refuseMisplacedKey(argv, context);
    if (command === "" || command === "help" || command === "--help" || command === "-h") {
      const topic = command === "help" ? rest[0] ?? "" : "";
      if (!Object.hasOwn(HELP, topic)) throw new UsageError(`Unknown command ${quote(context.redact(topic))}`);
      (command === "" ? context.err : context.out)(HELP[topic]);
      return command === "" ? EXIT_USAGE : EXIT_OK;
    }
    if (command === "--version" || command === "-V") {
      context.out(VERSION);
      return EXIT_OK;
    }
    if (!Object.hasOwn(COMMANDS, command)) {
      // Redacted before quoting, which shortens: a long key must not show even in part.
      throw new UsageError(`Unknown command ${quote(context.redact(command))}`);
    }
    return await COMMANDS[command as keyof typeof COMMANDS](rest, context);
  } catch (error) {
    return report(error, context, command);
  }
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
