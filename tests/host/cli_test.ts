// The command line: most cases run main() in-process with the fake Smile ID as fetch; the
// fake-server cases listen on 127.0.0.1 for real; a few run src/cli.ts as a subprocess of the
// current runtime (Deno, Node or Bun) to cover the real entry point, exit codes and Ctrl-C.

import { test } from "node:test";
import { assert, assertEquals, assertMatch, assertNotMatch, assertStrictEquals } from "@std/assert";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createClient, createSigner } from "../../mod.ts";
import { type CliIo, main } from "../../src/cli.ts";
import type { FetchLike } from "../../src/transport.ts";
import { createFakeSmileId, type FakeSmileId } from "../../src/testing/mod.ts";
import { serveFetch } from "../../src/testing/node.ts";
import { bareEnv, spawnCapture } from "./_children.ts";

const partnerId = "085";
const apiKey = "cli-test-secret-key-7f3a";
const env = { SMILE_PARTNER_ID: partnerId, SMILE_API_KEY: apiKey, SMILE_SERVER: "http://127.0.0.1:9/v1" };
const CLI = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));
const ids = ["--user-id", "user-1", "--job-id", "job-1"];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(
  argv: string[],
  { tty, onStderr, ...io }: Omit<CliIo, "stdout" | "stderr"> & { tty?: boolean; onStderr?: (text: string) => void } =
    {},
): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    env,
    stdin: (async function* () {})(),
    ...io,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: {
      write: (text: string) => {
        stderr += text;
        onStderr?.(text);
      },
      isTTY: tty ?? false,
    },
  });
  assert(!stdout.includes(apiKey) && !stderr.includes(apiKey), "the API key is never printed");
  return { code, stdout, stderr };
}

function fakeWithJob(options: Parameters<FakeSmileId["addJob"]>[0] = { userId: "user-1", jobId: "job-1" }) {
  const fake = createFakeSmileId({ partnerId, apiKey });
  fake.addJob(options);
  return fake;
}

/**
 * A fake whose job never completes and whose second answer asks to retry in an hour, past
 * `wait`'s 120 s deadline: polling gives up at once with code timeout, so no timer decides
 * the outcome, however slow the machine.
 */
function fakeThatGivesUp(): FakeSmileId {
  let answers = 0;
  const fake: FakeSmileId = createFakeSmileId({
    partnerId,
    apiKey,
    onRequest: () => ++answers === 1 && fake.injectFault({ status: 503, retryAfter: 3600 }),
  });
  fake.addJob({ userId: "user-1", jobId: "job-1", completesAfterMs: Infinity });
  return fake;
}

async function tempFile(content: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "smile-cli-"));
  const path = join(dir, "callback.json");
  await writeFile(path, content);
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

function stdinOf(text: string): AsyncIterable<Uint8Array> {
  return (async function* () {
    yield new TextEncoder().encode(text.slice(0, 10));
    yield new TextEncoder().encode(text.slice(10));
  })();
}

// --- help, usage and configuration -----------------------------------------------------------

test("main() without a command prints the overview on stderr and exits 2", async () => {
  const { code, stdout, stderr } = await run([]);
  assertStrictEquals(code, 2);
  assertStrictEquals(stdout, "");
  for (const command of ["status", "wait", "sign", "verify-callback", "fake-server"]) {
    assertMatch(stderr, new RegExp(`\\n  ${command} `));
  }
  assertMatch(stderr, /SMILE_PARTNER_ID/);
});

test("main() --help, help COMMAND and --version exit 0", async () => {
  const top = await run(["--help"]);
  assertStrictEquals(top.code, 0);
  assertMatch(top.stdout, /^Exit codes:\n {2}0 +success.*\n {2}1 +failure.*\n {2}2 +usage.*\n {2}130 +interrupted/m);
  const helpWait = await run(["help", "wait"]);
  assertStrictEquals(helpWait.code, 0);
  assertMatch(helpWait.stdout, /^Usage: smile-id-job-status wait/);
  const version = await run(["--version"]);
  assertStrictEquals(version.code, 0);
  assertMatch(version.stdout, /^\d+\.\d+\.\d+\n$/);
});

test("main() prints --help for every command", async () => {
  for (const command of ["status", "wait", "sign", "verify-callback", "fake-server"]) {
    const { code, stdout } = await run([command, "--help"]);
    assertStrictEquals(code, 0, command);
    assertMatch(stdout, new RegExp(`^Usage: smile-id-job-status ${command}`), command);
    const short = await run([command, "-h"]);
    assertStrictEquals(short.stdout, stdout);
  }
  assertMatch((await run(["wait", "--help"])).stdout, /--timeout S/);
  assertMatch((await run(["verify-callback", "--help"])).stdout, /--tolerance S/);
});

test("main() exits 2 with a hint for unknown commands, unknown flags and bad values", async () => {
  const cases: [string[], RegExp][] = [
    [["launch"], /Unknown command "launch"/],
    [["help", "launch"], /Unknown command "launch"/],
    [["status", ...ids, "--bogus"], /Unknown option "--bogus"$/m],
    [["status", "--user-id"], /Option --user-id needs a value$/m],
    [["status", "--job-id", "job-1"], /Missing required option --user-id/],
    [["status", "--user-id", "user-1"], /Missing required option --job-id/],
    [["status", ...ids, "extra"], /Unexpected argument "extra"/],
    [["wait", ...ids, "--timeout", "soon"], /Option --timeout must be a positive number of seconds, got "soon"/],
    [["wait", ...ids, "--interval", "0"], /Option --interval must be a positive number/],
    [
      ["wait", ...ids, "--interval", "5", "--max-interval", "2"],
      /Option --max-interval must not be less than --interval/,
    ],
    [["verify-callback", "--tolerance=-1"], /Option --tolerance must be a non-negative number/],
    [["verify-callback", "a.json", "b.json"], /Expected one FILE, got 2/],
    [["fake-server", "--port", "99999"], /Option --port must be a port number/],
    [["fake-server", "--host", "0.0.0.0"], /Option --host must be a loopback address/],
    [["sign", "--timestamp", ""], /Timestamp must be a non-empty string/],
  ];
  for (const [argv, message] of cases) {
    const { code, stderr } = await run(argv);
    assertStrictEquals(code, 2, argv.join(" "));
    assertMatch(stderr, message, argv.join(" "));
    assertMatch(stderr, /Run 'smile-id-job-status( [\w-]+)? --help' for usage\./, argv.join(" "));
  }
});

test("main() names the exact variables when configuration is missing", async () => {
  const none = await run(["status", ...ids], { env: {} });
  assertStrictEquals(none.code, 2);
  assertMatch(
    none.stderr,
    /Missing configuration: set SMILE_PARTNER_ID \(or --partner-id\) and SMILE_API_KEY \(or --api-key\)/,
  );
  const noKey = await run(["sign"], { env: { SMILE_PARTNER_ID: "085", SMILE_API_KEY: "" } });
  assertStrictEquals(noKey.code, 2);
  assertMatch(noKey.stderr, /set SMILE_API_KEY \(or --api-key\)$/m);
  assertNotMatch(noKey.stderr, /SMILE_PARTNER_ID/);
  const noPartner = await run(["verify-callback", "x.json"], { env: { SMILE_API_KEY: apiKey } });
  assertStrictEquals(noPartner.code, 2);
  assertMatch(noPartner.stderr, /set SMILE_PARTNER_ID \(or --partner-id\)$/m);
});

test("main() takes flags over the environment and never prints the API key, even when misplaced", async () => {
  const fake = fakeWithJob();
  const flags = await run(["status", ...ids, "--partner-id", partnerId, "--api-key", apiKey], {
    env: { SMILE_PARTNER_ID: "999", SMILE_API_KEY: "wrong-key-from-env" },
    fetch: fake.fetch,
  });
  assertStrictEquals(flags.code, 0);
  // A key pasted into SMILE_SERVER by mistake is refused without being quoted or sent anywhere.
  const misplaced = await run(["status", ...ids], { env: { ...env, SMILE_SERVER: apiKey } });
  assertStrictEquals(misplaced.code, 2);
  assertMatch(misplaced.stderr, /SMILE_SERVER holds the API key; give the key only with --api-key or SMILE_API_KEY/);
});

// --- status and wait ------------------------------------------------------------------------

test("main() status prints the decision, result and Actions table", async () => {
  const fake = fakeWithJob({
    userId: "user-1",
    jobId: "job-1",
    result: {
      ResultCode: "1012",
      ResultText: "ID Number Validated",
      ResultType: "ID Verification",
      SmileJobID: "0000000042",
      ConfidenceValue: "99",
      IsFinalResult: "true",
      IsMachineResult: "true",
      Actions: { Verify_ID_Number: "Verified", Return_Personal_Info: "Returned" },
    },
  });
  const { code, stdout, stderr } = await run(["status", ...ids], { fetch: fake.fetch });
  assertStrictEquals(code, 0, stderr);
  assertMatch(stdout, /^Job job-1 of user user-1 on http:\/\/127\.0\.0\.1:9\/v1\n/);
  assertMatch(stdout, /^ {2}decision +approved$/m);
  assertMatch(stdout, /^ {2}result +1012 ID Number Validated$/m);
  assertMatch(stdout, /^ {2}final +yes \(machine result\)$/m);
  assertMatch(stdout, /^ {2}confidence +99$/m);
  assertMatch(stdout, /^Actions\n {2}Verify_ID_Number +Verified\n {2}Return_Personal_Info +Returned$/m);
  assertStrictEquals(fake.requests.length, 1);
});

test("main() status explains an undocumented code, and shows history and image links", async () => {
  const fake = fakeWithJob({
    userId: "user-1",
    jobId: "job-1",
    result: { ResultCode: "0810", ResultText: "Enroll User" },
  });
  const { code, stdout } = await run(["status", ...ids, "--history", "--image-links"], { fetch: fake.fetch });
  assertStrictEquals(code, 0);
  assertMatch(stdout, /decision +approved \(from job_success; Smile ID documents no category for code 0810\)/);
  assertMatch(stdout, /^History \(1 entry\)\n {2}1\. 0810 Enroll User$/m);
  assertMatch(
    stdout,
    /^Image links\n {2}selfie_image +https:\/\/fake-smile-id\.invalid\/images\/job-1\/selfie\.jpg$/m,
  );
});

test("main() status --json prints Smile ID's answer verbatim", async () => {
  const fake = fakeWithJob();
  const { code, stdout } = await run(["status", ...ids, "--json"], { fetch: fake.fetch });
  assertStrictEquals(code, 0);
  const json = JSON.parse(stdout);
  assertStrictEquals(json.job_complete, true);
  assertStrictEquals(json.result.PartnerParams.job_id, "job-1");
  assertStrictEquals(await createSigner({ partnerId, apiKey }).verify(json.timestamp, json.signature), true);
});

test("main() status exits 1 on Smile ID errors, with a hint for 2205", async () => {
  const fake = fakeWithJob();
  const wrongKey = await run(["status", ...ids, "--api-key", "not-the-right-key"], { fetch: fake.fetch });
  assertStrictEquals(wrongKey.code, 1);
  assertMatch(wrongKey.stderr, /^Error \(http\): Smile ID answered HTTP 401 with error 2205/m);
  assertMatch(wrongKey.stderr, /Hint: .*SMILE_PARTNER_ID.*SMILE_API_KEY.*SMILE_SERVER/);
  assertNotMatch(wrongKey.stderr, /not-the-right-key/);
  const unknown = await run(["status", "--user-id", "user-1", "--job-id", "nope"], { fetch: fake.fetch });
  assertStrictEquals(unknown.code, 1);
  assertMatch(unknown.stderr, /2210/);
  fake.injectFault({ badSignature: true });
  const forged = await run(["status", ...ids], { fetch: fake.fetch });
  assertStrictEquals(forged.code, 1);
  assertMatch(forged.stderr, /^Error \(signature_mismatch\)/m);
});

test("main() wait polls until complete and prints one progress line per attempt when piped", async () => {
  // The job completes once the fake has answered twice: a gate that counts, not a timer.
  const fake: FakeSmileId = createFakeSmileId({
    partnerId,
    apiKey,
    onRequest: () => fake.requests.length === 2 && fake.completeJob("job-1"),
  });
  fake.addJob({ userId: "user-1", jobId: "job-1", completesAfterMs: Infinity });
  const { code, stdout, stderr } = await run(["wait", ...ids, "--interval", "0.04", "--max-interval", "0.05"], {
    fetch: fake.fetch,
  });
  assertStrictEquals(code, 0, stderr);
  assertMatch(stderr, /^Waiting for job job-1 of user user-1 on http:\/\/127\.0\.0\.1:9\/v1 \(timeout 120 s\)$/m);
  const lines = stderr.trim().split("\n").slice(1);
  assertStrictEquals(lines.length, 3, stderr);
  assertMatch(lines[0]!, /^attempt 1, \d+\.\d s: not complete yet; next check in 0\.0 s$/);
  assertMatch(lines.at(-1)!, /^attempt \d+, \d+\.\d s: complete$/);
  assertNotMatch(stderr, /\r/);
  assertStrictEquals(lines.length, fake.requests.length);
  assertMatch(stdout, /complete +yes/);
});

test("main() wait redraws a single progress line on a terminal", async () => {
  // The job completes once the fake has answered twice: a gate that counts, not a timer.
  const fake: FakeSmileId = createFakeSmileId({
    partnerId,
    apiKey,
    onRequest: () => fake.requests.length === 2 && fake.completeJob("job-1"),
  });
  fake.addJob({ userId: "user-1", jobId: "job-1", completesAfterMs: Infinity });
  const { code, stderr } = await run(["wait", ...ids, "--interval", "0.04"], { fetch: fake.fetch, tty: true });
  assertStrictEquals(code, 0);
  const redraws = stderr.split("\r\x1b[2K").length - 1;
  assertStrictEquals(redraws, 3);
  assertStrictEquals(fake.requests.length, 3);
  const last = stderr.slice(stderr.lastIndexOf("\r\x1b[2K") + 5);
  assertMatch(last, /^attempt 3, \d+\.\d s: complete\n$/);
});

test("main() wait exits 1 with code timeout, and 1 at once on a permanent error", async () => {
  const fake = fakeThatGivesUp();
  const slow = await run(["wait", ...ids, "--interval", "0.04"], { fetch: fake.fetch });
  assertStrictEquals(slow.code, 1);
  assertMatch(slow.stderr, /^Error \(timeout\): Gave up waiting .* after 2 attempts/m);
  assertMatch(slow.stderr, /^attempt 1, \d+\.\d s: not complete yet/m);
  fake.clearRequests();
  const denied = await run(["wait", ...ids, "--api-key", "wrong-key-0000"], { fetch: fake.fetch });
  assertStrictEquals(denied.code, 1);
  assertMatch(denied.stderr, /2205/);
  assertStrictEquals(fake.requests.length, 1, "2205 is not retried");
});

test("main() wait stops cleanly with exit code 130 when aborted (Ctrl-C)", async () => {
  const fake = fakeWithJob({ userId: "user-1", jobId: "job-1", completesAfterMs: Infinity });
  const controller = new AbortController();
  const started = Date.now();
  const { code, stderr } = await run(["wait", ...ids, "--timeout", "7200", "--interval", "3600"], {
    fetch: fake.fetch,
    signal: controller.signal,
    // Ctrl-C once the first progress line is out, so during the hour's wait that follows it.
    onStderr: (text) =>
      text.startsWith("attempt 1") && queueMicrotask(() => controller.abort(new Error("Interrupted"))),
  });
  assertStrictEquals(code, 130);
  assertMatch(stderr, /next check in 3[2-6]\d\d\.\d s/); // an hour, less up to 10% of jitter
  assertMatch(stderr, /Interrupted\.\n$/);
  assertStrictEquals(fake.requests.length, 1);
  assert(Date.now() - started < 60_000, "did not sleep through the hour's interval (a generous bound)");
});

// --- sign -----------------------------------------------------------------------------------

test("main() sign prints the known-answer signature and the signed text", async () => {
  const vectorEnv = { SMILE_PARTNER_ID: "partner", SMILE_API_KEY: "apiKey" };
  const human = await run(["sign", "--timestamp", "2023-02-13T15:07:42.214Z"], { env: vectorEnv });
  assertStrictEquals(human.code, 0);
  assertMatch(human.stdout, /^ {2}signature +XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=$/m);
  assertMatch(human.stdout, /^ {2}signed text +2023-02-13T15:07:42\.214Zpartnersid_request$/m);
  const json = await run(["sign", "--json"]);
  assertStrictEquals(json.code, 0);
  const signed = JSON.parse(json.stdout);
  assertStrictEquals(signed.partner_id, partnerId);
  assertMatch(signed.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assertStrictEquals(await createSigner({ partnerId, apiKey }).verify(signed.timestamp, signed.signature), true);
});

// --- verify-callback ------------------------------------------------------------------------

test("main() verify-callback accepts a genuine callback from a file and from stdin", async () => {
  const fake = fakeWithJob();
  const body = JSON.stringify(await fake.buildCallback("job-1"));
  const file = await tempFile(body);
  try {
    const fromFile = await run(["verify-callback", file.path]);
    assertStrictEquals(fromFile.code, 0, fromFile.stdout + fromFile.stderr);
    assertMatch(fromFile.stdout, /^Valid callback\n/);
    assertMatch(fromFile.stdout, /^ {2}signature +valid for partner 085 at /m);
    assertMatch(fromFile.stdout, /^ {2}fresh +yes, \d+ s old \(tolerance 300 s\)$/m);
    assertMatch(fromFile.stdout, /^ {2}job +user-1 \/ job-1$/m);
    assertMatch(fromFile.stdout, /not confirmed: the signature does not cover the body/);
  } finally {
    await file.remove();
  }
  const fromStdin = await run(["verify-callback", "-", "--json"], { stdin: stdinOf(body) });
  assertStrictEquals(fromStdin.code, 0);
  assertEquals(JSON.parse(fromStdin.stdout), {
    valid: true,
    fresh: true,
    confirmed: false,
    userId: "user-1",
    jobId: "job-1",
    decision: "approved",
    resultCode: "1012",
  });
  const implicitStdin = await run(["verify-callback"], { stdin: stdinOf(body) });
  assertStrictEquals(implicitStdin.code, 0, "the same pair verifies again: a one-off check keeps no replay memory");
});

test("main() verify-callback exits 1 with the reason for forged, stale, unsigned and broken bodies", async () => {
  const fake = fakeWithJob();
  const cases: [string, RegExp][] = [
    [
      JSON.stringify(await fake.buildCallback("job-1", { badSignature: true })),
      /^Invalid callback \(signature_mismatch\)/,
    ],
    [
      JSON.stringify(await fake.buildCallback("job-1", { timestamp: "2020-01-01T00:00:00.000Z" })),
      /^Invalid callback \(stale_timestamp\)/,
    ],
    [
      JSON.stringify(await fake.buildCallback("job-1", { timestamp: new Date(Date.now() + 3_600_000).toISOString() })),
      /^Invalid callback \(future_timestamp\)/,
    ],
    [JSON.stringify({ ResultCode: "1012" }), /^Invalid callback \(missing_signature\)/],
    ["{not json", /^Invalid callback \(unexpected_response\)/],
  ];
  for (const [body, reason] of cases) {
    const { code, stdout } = await run(["verify-callback"], { stdin: stdinOf(body) });
    assertStrictEquals(code, 1, body.slice(0, 60));
    assertMatch(stdout, reason);
  }
  const json = await run(["verify-callback", "--json"], { stdin: stdinOf(cases[0]![0]) });
  assertStrictEquals(json.code, 1);
  assertStrictEquals(JSON.parse(json.stdout).valid, false);
  assertStrictEquals(JSON.parse(json.stdout).error.code, "signature_mismatch");
  assertStrictEquals(json.stderr, "");
});

test("main() verify-callback --tolerance off skips freshness, --tolerance N widens it", async () => {
  const fake = fakeWithJob();
  const old = JSON.stringify(
    await fake.buildCallback("job-1", { timestamp: new Date(Date.now() - 600_000).toISOString() }),
  );
  assertStrictEquals((await run(["verify-callback"], { stdin: stdinOf(old) })).code, 1);
  const off = await run(["verify-callback", "--tolerance", "off"], { stdin: stdinOf(old) });
  assertStrictEquals(off.code, 0);
  assertMatch(off.stdout, /fresh +not checked \(--tolerance off\)/);
  assertStrictEquals((await run(["verify-callback", "--tolerance", "900"], { stdin: stdinOf(old) })).code, 0);
});

test("main() verify-callback --confirm compares the body with the job status", async () => {
  const fake = fakeWithJob();
  const genuine = JSON.stringify(await fake.buildCallback("job-1"));
  const ok = await run(["verify-callback", "--confirm"], { stdin: stdinOf(genuine), fetch: fake.fetch });
  assertStrictEquals(ok.code, 0, ok.stdout + ok.stderr);
  assertMatch(ok.stdout, /body +matches the job status from http:\/\/127\.0\.0\.1:9\/v1/);
  const tampered = JSON.stringify(await fake.buildCallback("job-1", { overrides: { ResultCode: "0810" } }));
  const bad = await run(["verify-callback", "--confirm"], { stdin: stdinOf(tampered), fetch: fake.fetch });
  assertStrictEquals(bad.code, 1);
  assertMatch(
    bad.stdout,
    /^Invalid callback \(mismatch\): The body disagrees with Smile ID's job status in: ResultCode \(changed\)\n$/,
  );
  const json = await run(["verify-callback", "--confirm", "--json"], { stdin: stdinOf(tampered), fetch: fake.fetch });
  assertEquals(JSON.parse(json.stdout).mismatches, [{ path: "ResultCode", kind: "changed" }]);
});

test("main() verify-callback exits 2 for an unreadable file or a terminal on stdin", async () => {
  const missing = await run(["verify-callback", join(tmpdir(), "no-such-callback-file.json")]);
  assertStrictEquals(missing.code, 2);
  assertMatch(missing.stderr, /Cannot read the callback file .*ENOENT/);
  const terminal = Object.assign((async function* () {})(), { isTTY: true });
  const tty = await run(["verify-callback"], { stdin: terminal });
  assertStrictEquals(tty.code, 2);
  assertMatch(tty.stderr, /Give the callback body as a FILE, or pipe it to stdin/);
});

// --- fake-server ----------------------------------------------------------------------------

/** Starts `main(["fake-server", ...])` and resolves once it printed its base URL. */
async function startFakeServer(args: string[]) {
  const controller = new AbortController();
  let stdout = "";
  let announced: (value: void) => void;
  const ready = new Promise<void>((resolve) => (announced = resolve));
  const done = main(["fake-server", "--port", "0", ...args], {
    env,
    signal: controller.signal,
    stdout: {
      write: (text: string) => {
        stdout += text;
        if (text.includes("listening on")) announced();
      },
    },
    stderr: { write: (text: string) => (stdout += text) },
  });
  await Promise.race([ready, done]);
  const base = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(stdout)?.[1];
  const key = /^ {2}API key +(\S+)$/m.exec(stdout)?.[1];
  return {
    base,
    key,
    output: () => stdout,
    stop: async () => {
      controller.abort();
      return await done;
    },
  };
}

test("main() fake-server serves signed answers on 127.0.0.1 until aborted", async () => {
  const server = await startFakeServer(["--partner-id", "123", "--complete-after", "0"]);
  try {
    assert(server.base && server.key, server.output());
    assertMatch(server.output(), /partner id +123/);
    assertMatch(server.output(), new RegExp(`export SMILE_PARTNER_ID=123 SMILE_API_KEY=${server.key} SMILE_SERVER=`));
    assertNotMatch(server.output(), new RegExp(apiKey), "SMILE_API_KEY from the environment is not used");
    const fakeEnv = { SMILE_PARTNER_ID: "123", SMILE_API_KEY: server.key, SMILE_SERVER: server.base };
    const status = await run(["status", "--user-id", "u-9", "--job-id", "j-9", "--json"], { env: fakeEnv });
    assertStrictEquals(status.code, 0, status.stderr);
    assertStrictEquals(JSON.parse(status.stdout).result.PartnerParams.job_id, "j-9");
    const denied = await run(["status", "--user-id", "u-9", "--job-id", "j-9"], {
      env: { ...fakeEnv, SMILE_API_KEY: "another-key" },
    });
    assertStrictEquals(denied.code, 1);
    assertMatch(server.output(), /POST \/v1\/job_status -> 200 u-9\/j-9 complete/);
    assertMatch(server.output(), /POST \/v1\/job_status -> 401 u-9\/j-9 error 2205/);
  } finally {
    assertStrictEquals(await server.stop(), 0);
  }
  assertMatch(server.output(), /Fake Smile ID stopped\.\n$/);
});

test("main() fake-server does not print a key given with --api-key, and exits 1 on a busy port", async () => {
  const first = await startFakeServer(["--api-key", apiKey]);
  try {
    assertMatch(first.output(), /API key +\(the key you passed with --api-key\)/);
    assertMatch(first.output(), /SMILE_API_KEY=<your key>/);
    assertNotMatch(first.output(), new RegExp(apiKey));
    const port = new URL(first.base!).port;
    const busy = await run(["fake-server", "--port", port]);
    assertStrictEquals(busy.code, 1);
    assertMatch(busy.stderr, /Cannot listen on 127\.0\.0\.1:\d+: the address is in use/);
  } finally {
    await first.stop();
  }
});

// --- the real entry point, as a subprocess ----------------------------------------------------

function runtimeArgs(args: string[]): [string, string[]] {
  return "Deno" in globalThis ? [process.execPath, ["run", "-A", CLI, ...args]] : [process.execPath, [CLI, ...args]];
}

function spawnCli(args: string[], childEnv: Record<string, string> = {}) {
  const [command, argv] = runtimeArgs(args);
  return spawnCapture(command, argv, { env: bareEnv({ NO_COLOR: "1", ...childEnv }), stdin: "pipe" });
}

test("src/cli.ts as a process: --help exits 0 and missing configuration exits 2", async () => {
  const help = spawnCli(["--help"]);
  help.child.stdin!.end();
  assertStrictEquals(await help.exited, 0, help.stderr());
  assertMatch(help.stdout(), /^smile-id-job-status \d+\.\d+\.\d+: /);
  const missing = spawnCli(["status", ...ids]);
  missing.child.stdin!.end();
  assertStrictEquals(await missing.exited, 2);
  assertMatch(missing.stderr(), /Missing configuration: set SMILE_PARTNER_ID \(or --partner-id\) and SMILE_API_KEY/);
});

test("src/cli.ts as a process: verify-callback reads stdin and exits 0 or 1", async () => {
  const fake = fakeWithJob();
  const childEnv = { SMILE_PARTNER_ID: partnerId, SMILE_API_KEY: apiKey };
  for (const [body, expected] of [[await fake.buildCallback("job-1"), 0], [{ ResultCode: "1012" }, 1]] as const) {
    const verify = spawnCli(["verify-callback", "-"], childEnv);
    verify.child.stdin!.end(JSON.stringify(body));
    assertStrictEquals(await verify.exited, expected, verify.stdout() + verify.stderr());
    assert(!verify.stdout().includes(apiKey) && !verify.stderr().includes(apiKey));
  }
});

test("src/cli.ts as a process: fake-server answers over HTTP and stops on SIGINT", async () => {
  const server = spawnCli(["fake-server", "--port", "0", "--complete-after", "0"]);
  server.child.stdin!.end();
  try {
    const deadline = Date.now() + 60_000; // a generous bound on starting a runtime; it ends when the server is up
    while (!/Press Ctrl-C to stop/.test(server.stdout()) && Date.now() < deadline && server.child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const base = /listening on (\S+)/.exec(server.stdout())?.[1];
    const key = /^ {2}API key +(\S+)$/m.exec(server.stdout())?.[1];
    assert(base && key, server.stdout() + server.stderr());
    const client = createClient({ partnerId: "000", apiKey: key, server: base });
    assertStrictEquals((await client.getJobStatus({ userId: "u", jobId: "j" })).jobComplete, true);
  } finally {
    // process.kill rather than child.kill: Deno's child_process reports a child it signalled as killed by
    // the signal even when the child handled it and exited 0.
    process.kill(server.child.pid!, "SIGINT");
  }
  assertStrictEquals(await server.exited, 0, server.stdout() + server.stderr());
  assertMatch(server.stdout(), /Fake Smile ID stopped\.\n$/);
});

// --- no key, no escape sequence, root causes, JSON errors, exit codes ---------------------------

/** A port on 127.0.0.1 that was just free and is closed: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs `main` and returns what it printed, without run()'s own key check (the sweep plants other keys). */
async function runRaw(argv: string[], io: Omit<CliIo, "stdout" | "stderr"> = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdin: (async function* () {})(),
    signal: AbortSignal.abort(new Error("Interrupted")),
    ...io,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

const COMMAND_OPTIONS: Record<string, string[]> = {
  status: ["--user-id", "--job-id", "--partner-id", "--api-key", "--server"],
  wait: ["--user-id", "--job-id", "--timeout", "--interval", "--max-interval", "--partner-id", "--api-key", "--server"],
  sign: ["--timestamp", "--partner-id", "--api-key", "--server"],
  "verify-callback": ["--tolerance", "--partner-id", "--api-key", "--server"],
  "fake-server": ["--port", "--host", "--partner-id", "--complete-after"],
};
const BOOLEAN_OPTIONS = ["--json", "--verbose", "--history", "--image-links", "--confirm", "--help"];

test("main() never prints the API key, wherever it is planted (every command, option and position)", async () => {
  const keys = ["sweep-key-3f9c2a7be1d04c58", `long-${"k7Qz".repeat(30)}`];
  for (const key of keys) {
    const fake = createFakeSmileId({ partnerId, apiKey: key });
    fake.addJob({ userId: "user-1", jobId: "job-1" });
    const withKey = { SMILE_PARTNER_ID: partnerId, SMILE_API_KEY: key, SMILE_SERVER: "http://127.0.0.1:9/v1" };
    const noKey = { SMILE_PARTNER_ID: partnerId, SMILE_SERVER: "http://127.0.0.1:9/v1" };
    const cases: [string[], Record<string, string>][] = [];
    for (const [command, options] of Object.entries(COMMAND_OPTIONS)) {
      const base = command === "status" || command === "wait" ? [command, ...ids] : [command];
      const planted = [
        ...options.flatMap((option) => [[...base, option, key], [...base, `${option}=${key}`]]),
        [...base, key],
        [...base, `--${key}`],
        [...base, `--bogus=${key}`],
        [...base, "-x", key],
        ...BOOLEAN_OPTIONS.map((option) => [...base, `${option}=${key}`]),
        ["help", command, key],
      ];
      for (const argv of planted) {
        cases.push([argv, withKey], [[...argv, "--json"], withKey], [[...argv, "--verbose"], withKey]);
        // The key given only as --api-key (both spellings) is redacted as well.
        cases.push([[...argv, "--api-key", key], noKey], [[`--api-key=${key}`, ...argv], noKey]);
      }
      for (
        const server of [key, `https:/u:${key}@example.com`, `https:\\\\u:${key}@example.com`, `http://u:${key}@x`]
      ) {
        cases.push([[...base], { ...withKey, SMILE_SERVER: server }]);
        cases.push([[...base, "--json"], { ...withKey, SMILE_SERVER: server }]);
        cases.push([[...base, "--server", server, "--api-key", key], noKey]);
      }
      cases.push([[...base], { ...withKey, SMILE_PARTNER_ID: key }]);
    }
    cases.push([[key], withKey], [["help", key], withKey], [[`--${key}`], withKey], [["sign", key], withKey]);
    const fragment = key.slice(0, 16);
    for (const [argv, caseEnv] of cases) {
      const { stdout, stderr } = await runRaw(argv, { env: caseEnv, fetch: fake.fetch });
      const where = `${argv.join(" ").replaceAll(key, "KEY")} with ${JSON.stringify(caseEnv).replaceAll(key, "KEY")}`;
      assert(!stdout.includes(fragment), `stdout of ${where}: ${stdout.replaceAll(key, "KEY")}`);
      assert(!stderr.includes(fragment), `stderr of ${where}: ${stderr.replaceAll(key, "KEY")}`);
    }
  }
});

test("main() refuses the key anywhere but --api-key and SMILE_API_KEY, before anything is sent", async () => {
  const fake = fakeWithJob();
  for (const argv of [["sign", apiKey], ["status", "--user-id", apiKey, "--job-id", "j"], ["help", apiKey]]) {
    const { code, stderr } = await run(argv, { fetch: fake.fetch });
    assertStrictEquals(code, 2);
    assertMatch(stderr, /^smile-id-job-status: Argument \d holds the API key; give the key only with --api-key/m);
  }
  const userinfo = await run(["status", ...ids], { env: { ...env, SMILE_SERVER: `https:/u:${apiKey}@x.test` } });
  assertStrictEquals(userinfo.code, 2);
  assertMatch(userinfo.stderr, /SMILE_SERVER holds the API key/);
  assertStrictEquals(fake.requests.length, 0, "nothing was sent");
});

const HOSTILE =
  "\u001b]52;c;aGVsbG8=\u0007\u001b[8mhidden\u001b[0m\r\n  body       matches the job status\u202egnp.exe\u2028next\u0085";
// deno-lint-ignore no-control-regex -- the point: find raw control characters in the output
const RAW_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2028\u2029\u2066-\u2069]/;

test("main() verify-callback shows a callback's fields escaped, so they cannot drive the terminal or forge a line", async () => {
  const fake = fakeWithJob();
  const genuine = await fake.buildCallback("job-1") as Record<string, unknown>;
  const params = genuine.PartnerParams as Record<string, unknown>;
  // The signature covers only timestamp and partner id: the body's fields are the sender's to choose.
  const body = JSON.stringify({ ...genuine, ResultText: HOSTILE, PartnerParams: { ...params, user_id: HOSTILE } });
  const { code, stdout } = await run(["verify-callback"], { stdin: stdinOf(body) });
  assertStrictEquals(code, 0, stdout);
  assertNotMatch(stdout, RAW_CONTROLS);
  assertStrictEquals(stdout.match(/^ {2}body +/gm)?.length, 1, "one body line: the forged one is escaped");
  assertMatch(stdout, /\\u001b\]52;c;aGVsbG8=\\u0007/);
  assertMatch(stdout, /\\r\\n {2}body {7}matches the job status\\u202egnp\.exe\\u2028next\\u0085/);
  const json = await run(["verify-callback", "--json"], { stdin: stdinOf(body) });
  assertNotMatch(json.stdout, RAW_CONTROLS);
  assertStrictEquals(JSON.parse(json.stdout).userId, HOSTILE, "JSON escapes losslessly");
});

test("main() status shows the server's text escaped: result fields, Actions and error messages", async () => {
  const fake = fakeWithJob({
    userId: "user-1",
    jobId: "job-1",
    result: { ResultCode: "1012", ResultText: HOSTILE, Actions: { [HOSTILE]: HOSTILE } },
  });
  const ok = await run(["status", ...ids], { fetch: fake.fetch });
  assertStrictEquals(ok.code, 0, ok.stderr);
  assertNotMatch(ok.stdout, RAW_CONTROLS);
  assertMatch(ok.stdout, /^ {2}result +1012 \\u001b\]52;c;/m);
  const refused =
    (() => Promise.resolve(Response.json({ code: "2205", error: HOSTILE }, { status: 401 }))) as FetchLike;
  for (const argv of [["status", ...ids], ["status", ...ids, "--json"], ["status", ...ids, "--verbose"]]) {
    const { code, stdout, stderr } = await run(argv, { fetch: refused });
    assertStrictEquals(code, 1);
    assertNotMatch(stdout + stderr, RAW_CONTROLS, argv.join(" "));
    assertMatch(stdout + stderr, /2205/);
  }
});

test("main() names the root cause in one line when Smile ID cannot be reached, and the chain with --verbose", async () => {
  const port = await closedPort();
  const server = `http://127.0.0.1:${port}/v1`;
  const refusedText = /ECONNREFUSED|[Cc]onnection ?[Rr]efused/;
  const { code, stderr } = await run(["status", ...ids], { env: { ...env, SMILE_SERVER: server } });
  assertStrictEquals(code, 1);
  const first = stderr.split("\n")[0]!;
  assertMatch(
    first,
    new RegExp(`^Error \\(transport\\): Could not reach Smile ID at ${server.replaceAll(".", "\\.")}: `),
  );
  assertMatch(first, refusedText, "the root cause is on the first line");
  assertNotMatch(first, /: fetch failed$/);
  const verbose = await run(["status", ...ids, "--verbose"], { env: { ...env, SMILE_SERVER: server } });
  assertStrictEquals(verbose.code, 1);
  assertMatch(verbose.stderr, /^ {2}cause 1: \w+/m);
  const json = await run(["status", ...ids, "--json"], { env: { ...env, SMILE_SERVER: server } });
  assertStrictEquals(json.code, 1);
  const error = JSON.parse(json.stdout).error;
  assertStrictEquals(error.code, "transport");
  assertMatch(error.cause, refusedText);
  assertStrictEquals(error.exitCode, 1);
});

test("main() wait says Smile ID could not be reached when no attempt got an answer, not that the deadline passed", async () => {
  const server = `http://127.0.0.1:${await closedPort()}/v1`;
  const unreachable = await run(["wait", ...ids, "--timeout", "0.4", "--interval", "0.05"], {
    env: { ...env, SMILE_SERVER: server },
  });
  assertStrictEquals(unreachable.code, 1);
  assertMatch(
    unreachable.stderr,
    /^Error \(transport\): Could not reach Smile ID at http:\/\/127\.0\.0\.1:\d+\/v1 \(no answer to \d+ attempts? within 0\.4 s\): /m,
  );
  assertNotMatch(unreachable.stderr, /deadline passed|expected job_complete/);
  // Answers that arrived, for a job that never completes, keep the deadline's wording.
  const slow = await run(["wait", ...ids, "--interval", "0.04"], { fetch: fakeThatGivesUp().fetch });
  assertStrictEquals(slow.code, 1);
  assertMatch(slow.stderr, /^Error \(timeout\): Gave up waiting.*expected job_complete true/m);
});

test("main() --json prints every error as one JSON object on stdout, with text mode's exit code", async () => {
  const fake = fakeWithJob();
  const busy = await serveFetch(() => new Response("busy"));
  const port = String(busy.port);
  const closed = `http://127.0.0.1:${await closedPort()}/v1`;
  const forged = JSON.stringify(await fake.buildCallback("job-1", { badSignature: true }));
  const cases: [string[], Omit<CliIo, "stdout" | "stderr">, number, string][] = [
    [["status", ...ids], { env: { ...env, SMILE_SERVER: closed } }, 1, "transport"],
    [["status", ...ids, "--api-key", "wrong-key-0000"], { fetch: fake.fetch }, 1, "http"],
    [["status", ...ids, "--bogus"], {}, 2, "usage"],
    [["wait", ...ids, "--timeout", "-5"], {}, 2, "usage"],
    [["wait", ...ids], { fetch: fake.fetch, signal: AbortSignal.abort(new Error("Interrupted")) }, 130, "aborted"],
    [["sign", "extra"], {}, 2, "usage"],
    [["sign"], { env: {} }, 2, "usage"],
    [["verify-callback"], { stdin: stdinOf(forged) }, 1, "signature_mismatch"],
    [["verify-callback", join(tmpdir(), "no-such-callback.json")], {}, 2, "usage"],
    [["verify-callback", "--api-key", ""], {}, 2, "usage"],
    [["fake-server", "--port", port], {}, 1, "listen"],
    [["fake-server", "--port", "-1"], {}, 2, "usage"],
    [["launch"], {}, 2, "usage"],
  ];
  try {
    for (const [argv, io, exitCode, errorCode] of cases) {
      const name = argv.join(" ");
      const text = await run(argv, io);
      assertStrictEquals(text.code, exitCode, `${name}: ${text.stdout}${text.stderr}`);
      const json = await run([...argv, "--json"], {
        ...io,
        ...(io.stdin ? { stdin: stdinOf(forged) } : {}),
      });
      assertStrictEquals(json.code, exitCode, name);
      assertStrictEquals(json.stdout.trimEnd().split("\n").length, 1, `one line: ${json.stdout}`);
      const { error } = JSON.parse(json.stdout);
      assertStrictEquals(error.code, errorCode, name);
      assertStrictEquals(error.exitCode, exitCode, name);
      assert(typeof error.message === "string" && error.message.length > 0, name);
      // stderr carries only wait's progress in JSON mode, never the error.
      assertNotMatch(json.stderr, /^(?!Waiting for |attempt )./m, `${name}: ${json.stderr}`);
    }
  } finally {
    await busy.close();
  }
});

test("main() checks numbers itself: negative, non-numeric and infinite values get our message", async () => {
  const cases: [string[], string][] = [
    [["wait", ...ids, "--timeout", "-5"], 'Option --timeout must be a positive number of seconds, got "-5"'],
    [["wait", ...ids, "--timeout=-5"], 'Option --timeout must be a positive number of seconds, got "-5"'],
    [["wait", ...ids, "--timeout", "abc"], 'Option --timeout must be a positive number of seconds, got "abc"'],
    [["wait", ...ids, "--timeout", ""], 'Option --timeout must be a positive number of seconds, got ""'],
    [["wait", ...ids, "--interval", "1e999"], 'Option --interval must be a positive number of seconds, got "1e999"'],
    [["wait", ...ids, "--max-interval", "-1"], 'Option --max-interval must be a positive number of seconds, got "-1"'],
    [["verify-callback", "--tolerance", "-3"], 'Option --tolerance must be a non-negative number of seconds, got "-3"'],
    [
      ["fake-server", "--complete-after", "-1"],
      'Option --complete-after must be a non-negative number of seconds, got "-1"',
    ],
    [["fake-server", "--port", "-80"], 'Option --port must be a port number from 0 to 65535, got "-80"'],
  ];
  for (const [argv, message] of cases) {
    const { code, stderr } = await run(argv);
    assertStrictEquals(code, 2, argv.join(" "));
    assertStrictEquals(stderr.split("\n")[0], `smile-id-job-status: ${message}`);
    assertNotMatch(stderr, /ambiguous/);
  }
});

test("main() follows the exit-code table: 0, 1, 2 and 130, and 2 for an empty --api-key", async () => {
  const fake = fakeWithJob({ userId: "user-1", jobId: "job-1", completesAfterMs: Infinity });
  const forged = JSON.stringify(await fake.buildCallback("job-1", { badSignature: true }));
  assertStrictEquals((await run(["sign"])).code, 0);
  assertStrictEquals((await run(["verify-callback"], { stdin: stdinOf(forged) })).code, 1);
  const emptyKey = await run(["verify-callback", "--api-key", ""], { stdin: stdinOf(forged) });
  assertStrictEquals(emptyKey.code, 2);
  assertMatch(emptyKey.stderr, /^smile-id-job-status: Option --api-key must be a non-empty string, got ""$/m);
  assertStrictEquals((await run(["status", ...ids, "--partner-id="])).code, 2);
  const aborted = await run(["wait", ...ids], {
    fetch: fake.fetch,
    signal: AbortSignal.abort(new Error("Interrupted")),
  });
  assertStrictEquals(aborted.code, 130);
});

test("main() verify-callback --confirm blames Smile ID's answer, not the callback, when that answer does not verify", async () => {
  const fake = fakeWithJob();
  const genuine = JSON.stringify(await fake.buildCallback("job-1"));
  fake.injectFault({ badSignature: true });
  const { code, stdout, stderr } = await run(["verify-callback", "--confirm"], {
    stdin: stdinOf(genuine),
    fetch: fake.fetch,
  });
  assertStrictEquals(code, 1);
  assertStrictEquals(stdout, "");
  assertMatch(
    stderr,
    /^Error \(confirm_failed\): Could not confirm the callback: Smile ID's answer did not verify \(signature_mismatch\)/,
  );
  assertNotMatch(stderr, /Invalid callback/);
  fake.injectFault({ badSignature: true });
  const json = await run(["verify-callback", "--confirm", "--json"], { stdin: stdinOf(genuine), fetch: fake.fetch });
  const outcome = JSON.parse(json.stdout);
  assertStrictEquals(outcome.valid, undefined, "the callback was not judged");
  assertStrictEquals(outcome.error.code, "confirm_failed");
});

test("main() verify-callback never prints a refused body's claims as results", async () => {
  const fake = fakeWithJob({
    userId: "user-1",
    jobId: "job-1",
    result: { ResultCode: "1013", ResultText: "ID not found" },
  });
  const claims = { ResultCode: "1012", ResultText: "ID Number Validated" };
  const tampered = JSON.stringify(await fake.buildCallback("job-1", { overrides: claims }));
  const forged = JSON.stringify(await fake.buildCallback("job-1", { badSignature: true, overrides: claims }));
  for (const [body, argv] of [[tampered, ["--confirm"]], [forged, []], [forged, ["--confirm"]]] as const) {
    for (const json of [false, true]) {
      const args = ["verify-callback", ...argv, ...(json ? ["--json"] : [])];
      const { code, stdout, stderr } = await run(args, { stdin: stdinOf(body), fetch: fake.fetch });
      assertStrictEquals(code, 1, args.join(" "));
      assertNotMatch(stdout + stderr, /approved|1012|ID Number Validated|decision/, args.join(" "));
      if (json) assertStrictEquals(JSON.parse(stdout).valid, false);
      else assertMatch(stdout, /^Invalid callback \(\w+\): [^\n]+\n$/);
    }
  }
});

test("src/cli.ts dispatches to one file per command in src/cli/, each headed by a one-line comment", async () => {
  const dir = fileURLToPath(new URL("../../src/cli/", import.meta.url));
  const files = (await readdir(dir)).filter((name) => name.endsWith(".ts")).sort();
  for (const command of ["status", "wait", "sign", "verify_callback", "fake_server"]) {
    assert(files.includes(`${command}.ts`), `src/cli/${command}.ts`);
  }
  for (const name of files) {
    const first = (await readFile(join(dir, name), "utf8")).split("\n")[0]!;
    assertMatch(first, /^\/\/ \S.*\S$/, name);
  }
  const entry = await readFile(CLI, "utf8");
  assert(entry.split("\n").length < 200, "src/cli.ts only dispatches");
  assertNotMatch(entry, /export (async )?function serveFetch/, "serveFetch lives in ./testing/node");
});
