// The wait command: poll until a job is complete, with progress on stderr.

import { SmileIdError } from "../errors.ts";
import type { JobStatus } from "../types.ts";
import { parse, seconds } from "./_args.ts";
import { client, type Context, EXIT_OK, UsageError } from "./_context.ts";
import { progressLine } from "./_format.ts";
import { printHelp } from "./_help.ts";
import { printStatus, QUERY_OPTIONS, readQuery } from "./_query.ts";
import { unreachable } from "./_report.ts";

const WAIT_OPTIONS = {
  ...QUERY_OPTIONS,
  timeout: { type: "string" },
  interval: { type: "string" },
  "max-interval": { type: "string" },
} as const;

/** Runs `wait` with its arguments; resolves the exit code or throws for the caller to report. */
export async function wait(args: readonly string[], context: Context): Promise<number> {
  const command = "wait";
  const parsed = parse(args, WAIT_OPTIONS, command);
  if (parsed.flag("help")) return printHelp(command, context);
  const query = readQuery(parsed, command);
  const timeoutMs = seconds(parsed, "timeout", command, 120);
  const intervalMs = seconds(parsed, "interval", command, 1);
  const maxIntervalMs = seconds(parsed, "max-interval", command, Math.max(8, intervalMs / 1000));
  if (maxIntervalMs < intervalMs) {
    throw new UsageError("Option --max-interval must not be less than --interval", command);
  }
  const smile = client(parsed.values, context, command);
  context.err(
    `Waiting for job ${query.jobId} of user ${query.userId} on ${smile.server} (timeout ${timeoutMs / 1000} s)`,
  );
  const tty = context.stderrIsTTY;
  let drawn = false;
  // Whether any attempt got an answer (a status or an HTTP error) rather than a network failure.
  let answered = false;
  let status: JobStatus;
  try {
    status = await smile.waitForJobStatus(query, {
      timeoutMs,
      intervalMs,
      maxIntervalMs,
      ...(context.io.signal ? { signal: context.io.signal } : {}),
      onProgress: (progress) => {
        if (!progress.error || (progress.error.code !== "transport" && progress.error.code !== "timeout")) {
          answered = true;
        }
        const line = progressLine(progress);
        if (tty) {
          context.redraw(line);
          drawn = true;
        } else context.err(line);
      },
    });
  } catch (error) {
    if (error instanceof SmileIdError && error.code === "timeout" && !answered && error.cause !== undefined) {
      // Every attempt failed on the network: not a slow job, an unreachable server.
      const attempts = error.attempts ?? 0;
      throw unreachable(
        new SmileIdError("transport", error.message, { cause: error.cause, attempts }),
        smile.server,
        ` (no answer to ${attempts} attempt${attempts === 1 ? "" : "s"} within ${timeoutMs / 1000} s)`,
      );
    }
    throw unreachable(error, smile.server);
  } finally {
    if (drawn) context.rawErr("\n");
  }
  printStatus(status, query, context, parsed);
  return EXIT_OK;
}
