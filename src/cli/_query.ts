// What status and wait share: the job query's options, reading them, and printing the status.

import type { JobStatus } from "../types.ts";
import { CONFIG_OPTIONS, noPositionals, type Parsed, required } from "./_args.ts";
import type { Context } from "./_context.ts";
import { statusLines } from "./_format.ts";

/** The options of a job-status query. */
export const QUERY_OPTIONS = {
  ...CONFIG_OPTIONS,
  "user-id": { type: "string" },
  "job-id": { type: "string" },
  history: { type: "boolean" },
  "image-links": { type: "boolean" },
  "show-personal-data": { type: "boolean" },
} as const;

/** The query the options ask for. */
export function readQuery(parsed: Parsed, command: string) {
  noPositionals(parsed, command);
  return {
    userId: required(parsed, "user-id", command),
    jobId: required(parsed, "job-id", command),
    ...(parsed.flag("history") ? { includeHistory: true } : {}),
    ...(parsed.flag("image-links") ? { includeImageLinks: true } : {}),
  };
}

/**
 * Prints a status: Smile ID's answer as JSON, as received, or the human-readable lines, with
 * personal data masked unless `--show-personal-data` was given.
 */
export function printStatus(
  status: JobStatus,
  query: { userId: string; jobId: string },
  context: Context,
  parsed: Parsed,
): void {
  if (context.json) context.outJson(status.raw, true);
  else {
    const lines = statusLines(
      status,
      query.userId,
      query.jobId,
      context.server ?? "",
      parsed.flag("show-personal-data"),
    );
    for (const line of lines) context.out(line);
  }
}
