// The status command: ask for a job's status once and print it.

import { parse } from "./_args.ts";
import { client, type Context, EXIT_OK } from "./_context.ts";
import { printHelp } from "./_help.ts";
import { printStatus, QUERY_OPTIONS, readQuery } from "./_query.ts";
import { unreachable } from "./_report.ts";

/** Runs `status` with its arguments; resolves the exit code or throws for the caller to report. */
export async function status(args: readonly string[], context: Context): Promise<number> {
  const command = "status";
  const parsed = parse(args, QUERY_OPTIONS, command);
  if (parsed.flag("help")) return printHelp(command, context);
  const query = readQuery(parsed, command);
  const smile = client(parsed.values, context, command);
  let answer;
  try {
    answer = await smile.getJobStatus(query, context.io.signal ? { signal: context.io.signal } : {});
  } catch (error) {
    throw unreachable(error, smile.server);
  }
  printStatus(answer, query, context, parsed);
  return EXIT_OK;
}
