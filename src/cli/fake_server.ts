// The fake-server command: the fake Smile ID on loopback, until Ctrl-C.

import { createFakeSmileId } from "../testing/mod.ts";
import { type FetchServer, serveFetch } from "../testing/node.ts";
import { COMMON_OPTIONS, noPositionals, parse, seconds } from "./_args.ts";
import { type Context, EXIT_FAILURE, EXIT_OK, NAME, usage, UsageError } from "./_context.ts";
import { requestLine, table } from "./_format.ts";
import { printHelp } from "./_help.ts";
import { quote } from "../_validate.ts";

const COMMAND = "fake-server";
const OPTIONS = {
  ...COMMON_OPTIONS,
  port: { type: "string" },
  host: { type: "string" },
  "partner-id": { type: "string" },
  "api-key": { type: "string" },
  "complete-after": { type: "string" },
} as const;

/** Runs `fake-server` until the context's signal aborts; resolves the exit code. */
export async function fakeServer(args: readonly string[], context: Context): Promise<number> {
  const parsed = parse(args, OPTIONS, COMMAND);
  if (parsed.flag("help")) return printHelp(COMMAND, context);
  noPositionals(parsed, COMMAND);
  const portText = parsed.string("port") ?? "8787";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new UsageError(`Option --port must be a port number from 0 to 65535, got ${quote(portText)}`, COMMAND);
  }
  const hostname = parsed.string("host") ?? "127.0.0.1";
  if (!/^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(hostname)) {
    throw new UsageError(
      `Option --host must be a loopback address (127.0.0.1, ::1, localhost), got ${quote(hostname)}`,
      COMMAND,
    );
  }
  const completesAfterMs = seconds(parsed, "complete-after", COMMAND, 3, true);
  const partnerId = parsed.string("partner-id") ?? "000";
  const givenKey = parsed.string("api-key");
  if (givenKey !== undefined) context.secret(givenKey);
  const apiKey = givenKey ?? randomKey();
  const fake = usage(() =>
    createFakeSmileId({
      partnerId,
      apiKey,
      autoCreateJobs: { completesAfterMs },
      onRequest: (record) =>
        context.json
          ? context.outJson({
            event: "request",
            at: new Date(record.at).toISOString(),
            method: record.method,
            path: record.path,
            status: record.status,
            userId: record.userId ?? null,
            jobId: record.jobId ?? null,
            smileCode: record.smileCode ?? null,
            jobComplete: record.jobComplete ?? null,
          })
          : context.out(requestLine(record)),
    }), COMMAND);
  let server: FetchServer;
  try {
    server = await serveFetch(fake.fetch, { hostname, port });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = `Cannot listen on ${hostname}:${port}: ${
      code === "EADDRINUSE" ? "the address is in use; choose another --port" : code ?? String(error)
    }`;
    if (context.json) context.outJson({ error: { code: "listen", message, exitCode: EXIT_FAILURE } });
    else context.err(`Error: ${message}`);
    return EXIT_FAILURE;
  }
  const base = `${server.url}/v1`;
  if (context.json) {
    // A key the user passed is theirs and is not printed; a made-up one is the point of the output.
    context.outJson({ event: "listening", url: base, partnerId, apiKey: givenKey === undefined ? apiKey : null });
  } else {
    const quoted = /^[\w+/=.-]+$/.test(apiKey) ? apiKey : `'${apiKey.replaceAll("'", "'\\''")}'`;
    context.out(`Fake Smile ID listening on ${base}`);
    context.out(table([
      ["partner id", partnerId],
      ["API key", givenKey === undefined ? apiKey : "(the key you passed with --api-key)"],
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
  }
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
  if (context.json) context.outJson({ event: "stopped" });
  else context.out("Fake Smile ID stopped.");
  return EXIT_OK;
}

function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}
