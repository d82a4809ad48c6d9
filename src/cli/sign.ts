// The sign command: print a signature, its timestamp and the exact text signed.

import { createSigner } from "../signature.ts";
import { CONFIG_OPTIONS, noPositionals, parse } from "./_args.ts";
import { asUsage, config, type Context, EXIT_OK, usage } from "./_context.ts";
import { table } from "./_format.ts";
import { printHelp } from "./_help.ts";

/** Runs `sign` with its arguments; resolves the exit code or throws for the caller to report. */
export async function sign(args: readonly string[], context: Context): Promise<number> {
  const command = "sign";
  const parsed = parse(args, { ...CONFIG_OPTIONS, timestamp: { type: "string" } }, command);
  if (parsed.flag("help")) return printHelp(command, context);
  noPositionals(parsed, command);
  const { partnerId, apiKey } = config(parsed.values, context, command);
  const signer = usage(() => createSigner({ partnerId, apiKey }), command);
  const timestamp = parsed.string("timestamp");
  let signed;
  try {
    signed = await signer.sign(timestamp);
  } catch (error) {
    throw asUsage(error, command);
  }
  if (context.json) {
    context.outJson({ partner_id: partnerId, timestamp: signed.timestamp, signature: signed.signature });
    return EXIT_OK;
  }
  context.out(table([
    ["partner_id", partnerId],
    ["timestamp", signed.timestamp],
    ["signature", signed.signature],
    ["signed text", `${signed.timestamp}${partnerId}sid_request`],
  ]));
  context.out();
  context.out("Send partner_id, timestamp and signature exactly as printed in the JSON body.");
  return EXIT_OK;
}
