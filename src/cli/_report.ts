// How a failed command ends: the error in one line with its root cause (the whole chain with
// --verbose), or as one JSON object on stdout with --json, and the exit code from the table.

import { SmileIdError } from "../errors.ts";
import { type Context, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, NAME, UsageError } from "./_context.ts";
import { HELP } from "./_help.ts";
import { causeChain, causeText, rootCause } from "./_format.ts";

/** What an error looks like on the way out, in text and in JSON. */
export interface ErrorReport {
  /** A `SmileIdErrorCode`, or `usage` for a command-line mistake, or `error` for anything else. */
  readonly code: string;
  readonly message: string;
  /** The deepest cause, in one line, when the error has causes. */
  readonly cause?: string;
  readonly exitCode: number;
  readonly hint?: string;
  readonly status?: number;
  readonly smileCode?: string;
}

const AUTH_HINT = "Smile ID could not authenticate the request. Check SMILE_PARTNER_ID (leading zeros " +
  "included), SMILE_API_KEY and SMILE_SERVER (sandbox and production keys differ); " +
  `'${NAME} sign' prints what is signed.`;

/** The report for `error`, thrown by `command` (empty before the command is known). */
export function describeError(error: unknown, command: string): ErrorReport {
  if (error instanceof UsageError) {
    const which = error.command ?? (command in HELP ? command : "");
    return {
      code: "usage",
      message: error.message,
      exitCode: EXIT_USAGE,
      hint: `Run '${NAME}${which ? ` ${which}` : ""} --help' for usage.`,
    };
  }
  const cause = rootCause(error);
  const withCause = cause === undefined ? {} : { cause };
  if (error instanceof SmileIdError) {
    const exitCode = error.code === "aborted"
      ? EXIT_INTERRUPTED
      : error.code === "invalid_argument"
      ? EXIT_USAGE
      : EXIT_FAILURE;
    return {
      code: error.code,
      message: error.code === "aborted" ? "Interrupted" : error.message,
      ...withCause,
      exitCode,
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.smileCode === undefined ? {} : { smileCode: error.smileCode }),
      ...(error.smileCode === "2204" || error.smileCode === "2205" ? { hint: AUTH_HINT } : {}),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: "error", message, ...withCause, exitCode: EXIT_FAILURE };
}

/** Prints `error` the way the context asks and returns its exit code. */
export function report(error: unknown, context: Context, command: string): number {
  const described = describeError(error, command);
  if (context.json) {
    const causes = context.verbose ? { causes: causeChain(error).slice(1) } : {};
    context.outJson({ error: { ...described, ...causes } });
    return described.exitCode;
  }
  if (described.code === "usage") {
    context.err(`${NAME}: ${described.message}`);
    context.err(described.hint);
    return described.exitCode;
  }
  if (described.code === "aborted") {
    context.err("Interrupted.");
    return described.exitCode;
  }
  const shown = described.cause !== undefined && !described.message.includes(described.cause)
    ? `${described.message} (cause: ${described.cause})`
    : described.message;
  context.err(described.code === "error" ? `Error: ${shown}` : `Error (${described.code}): ${shown}`);
  if (context.verbose) {
    for (const [index, level] of causeChain(error).slice(1).entries()) {
      context.err(`  cause ${index + 1}: ${level.name}${level.code ? ` [${level.code}]` : ""}: ${causeText(level)}`);
    }
  } else if (causeChain(error).length > 2) {
    context.err("(run with --verbose for the whole cause chain)");
  }
  if (described.hint) context.err(`Hint: ${described.hint}`);
  return described.exitCode;
}

/**
 * A transport error (no answer arrived) as "Could not reach Smile ID at <server>: <root cause>",
 * the cause kept; any other error as it is.
 */
export function unreachable(error: unknown, server: string, detail = ""): unknown {
  if (!(error instanceof SmileIdError) || error.code !== "transport") return error;
  const cause = rootCause(error) ?? error.message;
  return new SmileIdError("transport", `Could not reach Smile ID at ${server}${detail}: ${cause}`, {
    cause: error.cause ?? error,
    ...(error.attempts === undefined ? {} : { attempts: error.attempts }),
  });
}
