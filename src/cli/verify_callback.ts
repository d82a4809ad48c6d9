// The verify-callback command: check a saved callback body, optionally against Smile ID's job status.

import { readFile } from "node:fs/promises";
import process from "node:process";
import { concatBytes } from "../_body.ts";
import { verifyCallback } from "../callback.ts";
import { SmileIdError } from "../errors.ts";
import { classifyCallbackError } from "../handler.ts";
import { describeResult } from "../result.ts";
import { createSigner } from "../signature.ts";
import { CONFIG_OPTIONS, parse, seconds } from "./_args.ts";
import { client, config, type Context, EXIT_FAILURE, EXIT_OK, usage, UsageError } from "./_context.ts";
import { decisionText, rootCause, table } from "./_format.ts";
import { printHelp } from "./_help.ts";
import { unreachable } from "./_report.ts";
import { quote } from "../_validate.ts";

const COMMAND = "verify-callback";
const OPTIONS = { ...CONFIG_OPTIONS, tolerance: { type: "string" }, confirm: { type: "boolean" } } as const;
/** Codes of a confirm answer that arrived but could not be trusted. */
const UNTRUSTED_ANSWER = new Set(["signature_mismatch", "missing_signature", "schema", "unexpected_response"]);

/** Runs `verify-callback`; exit 0 for a valid callback, 1 for an invalid one (the reason only). */
export async function verifyCallbackCommand(args: readonly string[], context: Context): Promise<number> {
  const parsed = parse(args, OPTIONS, COMMAND);
  if (parsed.flag("help")) return printHelp(COMMAND, context);
  if (parsed.positionals.length > 1) {
    throw new UsageError(`Expected one FILE, got ${parsed.positionals.length}`, COMMAND);
  }
  const tolerance = parsed.string("tolerance") === "off"
    ? false
    : seconds(parsed, "tolerance", COMMAND, 300, true) / 1000;
  const { partnerId, apiKey, server } = config(parsed.values, context, COMMAND);
  const signer = usage(() => createSigner({ partnerId, apiKey }), COMMAND);
  const reader = parsed.flag("confirm") ? client(parsed.values, context, COMMAND) : undefined;
  const body = await readInput(parsed.positionals[0] ?? "-", context);
  const now = Date.now();
  let verified;
  try {
    verified = await verifyCallback(signer, body, {
      toleranceSeconds: tolerance,
      replayGuard: false,
      clock: { now: () => now },
      ...(reader ? { confirm: true, reader } : {}),
      ...(context.io.signal ? { signal: context.io.signal } : {}),
    });
  } catch (error) {
    if (error instanceof SmileIdError && error.code === "confirm_failed") throw notConfirmed(error, context);
    // A callback refused for what it is (4xx) is invalid; failing to check it (5xx) is an error.
    if (!(error instanceof SmileIdError) || classifyCallbackError(error).status >= 500) throw error;
    const cause = rootCause(error);
    return invalid({ code: error.code, message: error.message, ...(cause === undefined ? {} : { cause }) }, context);
  }
  const { payload } = verified;
  const mismatches = verified.confirmed ? verified.mismatches : [];
  if (verified.confirmed && mismatches.length > 0) {
    const fields = mismatches.map((m) => `${m.path} (${m.kind})`).join(", ");
    const message = `The body disagrees with Smile ID's job status in: ${fields}`;
    return invalid({ code: "mismatch", message }, context, { mismatches });
  }
  // Confirmed: Smile ID's answer is the truth. Not confirmed: the body's claims, shown as claims.
  const summary = describeResult(verified.confirmed ? verified.status : payload.result);
  if (context.json) {
    context.outJson({
      valid: true,
      fresh: verified.fresh,
      confirmed: verified.confirmed,
      ...(verified.confirmed ? { mismatches } : {}),
      userId: payload.userId ?? null,
      jobId: payload.jobId ?? null,
      decision: summary.decision,
      resultCode: summary.code ?? null,
    });
    return EXIT_OK;
  }
  const age = Math.round((now - Date.parse(payload.timestamp)) / 1000);
  context.out("Valid callback");
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
    [
      "decision",
      verified.confirmed ? decisionText(summary) : `${decisionText(summary)}, as the body claims (not confirmed)`,
    ],
    [
      "body",
      verified.confirmed
        ? `matches the job status from ${server}`
        : "not confirmed: the signature does not cover the body (use --confirm)",
    ],
  ]));
  return EXIT_OK;
}

/** An invalid callback: the reason only, never what the body claims; exit 1. */
function invalid(
  reason: { readonly code: string; readonly message: string; readonly cause?: string },
  context: Context,
  extra: Record<string, unknown> = {},
): number {
  if (context.json) context.outJson({ valid: false, ...extra, error: { ...reason, exitCode: EXIT_FAILURE } });
  else context.out(`Invalid callback (${reason.code}): ${reason.message}`);
  return EXIT_FAILURE;
}

/** Smile ID's answer could not be had or did not verify: the callback was not judged. */
function notConfirmed(error: SmileIdError, context: Context): SmileIdError {
  const cause = error.cause;
  const server = context.server ?? "Smile ID";
  let message: string;
  if (cause instanceof SmileIdError && UNTRUSTED_ANSWER.has(cause.code)) {
    message = `Could not confirm the callback: Smile ID's answer did not verify (${cause.code}), ` +
      "so the callback was not judged";
  } else if (cause instanceof SmileIdError && cause.code === "transport") {
    message = `Could not confirm the callback: ${(unreachable(cause, server) as Error).message}`;
  } else {
    message = `Could not confirm the callback: ${
      error.message.replace(/^The callback could not be confirmed with Smile ID: /, "")
    }`;
  }
  return new SmileIdError("confirm_failed", message, {
    cause,
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.smileCode === undefined ? {} : { smileCode: error.smileCode }),
  });
}

async function readInput(path: string, context: Context): Promise<Uint8Array> {
  if (path === "-") {
    const stdin = context.io.stdin ?? process.stdin;
    if (stdin.isTTY) throw new UsageError("Give the callback body as a FILE, or pipe it to stdin", COMMAND);
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of stdin) {
      const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
      chunks.push(bytes);
      size += bytes.byteLength;
      if (size > 8 * 1024 * 1024) break; // verifyCallback refuses it anyway
    }
    return concatBytes(chunks);
  }
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    const reason = (error as { code?: string }).code ?? (error as Error).message;
    throw new UsageError(`Cannot read the callback file ${quote(path, 200)}: ${reason}`, COMMAND);
  }
}
