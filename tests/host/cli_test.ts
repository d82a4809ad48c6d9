// The command line: most cases run main() in-process with the fake Smile ID as fetch; the
// fake-server cases listen on 127.0.0.1 for real; a few run src/cli.ts as a subprocess of the
// current runtime (Deno, Node or Bun) to cover the real entry point, exit codes and Ctrl-C.

import { test } from "node:test";
import { assert, assertEquals, assertMatch, assertNotMatch, assertStrictEquals } from "@std/assert";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createClient, createSigner } from "../../mod.ts";
import { type CliIo, main, serveFetch } from "../../src/cli.ts";
import { createFakeSmileId, type FakeSmileId } from "../../src/testing/mod.ts";
import { assertRejectsWithCode } from "../_helpers.ts";
import { bareEnv } from "./_children.ts";

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

async function run(argv: string[], io: Omit<CliIo, "stdout" | "stderr"> & { tty?: boolean } = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    env,
    stdin: (async function* () {})(),
    ...io,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: io.tty ?? false },
  });
  assert(!stdout.includes(apiKey) && !stderr.includes(apiKey), "the API key is never printed");
  return { code, stdout, stderr };
}

function fakeWithJob(options: Parameters<FakeSmileId["addJob"]>[0] = { userId: "user-1", jobId: "job-1" }) {
  const fake = createFakeSmileId({ partnerId, apiKey });
  fake.addJob(options);
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
  assertMatch(top.stdout, /Exit codes: 0 success, 1 failure/);
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
    [["status", ...ids, "--bogus"], /Unknown option '--bogus'$/m],
    [["status", "--user-id"], /--user-id/],
    [["status", "--job-id", "job-1"], /Missing required option --user-id/],
    [["status", "--user-id", "user-1"], /Missing required option --job-id/],
    [["status", ...ids, "extra"], /Unexpected argument "extra"/],
    [["wait", ...ids, "--timeout", "soon"], /--timeout must be a positive number of seconds, got "soon"/],
    [["wait", ...ids, "--interval", "0"], /--interval must be a positive number/],
    [["wait", ...ids, "--interval", "5", "--max-interval", "2"], /--max-interval must not be less than --interval/],
    [["verify-callback", "--tolerance=-1"], /--tolerance must be a non-negative number/],
    [["verify-callback", "a.json", "b.json"], /Expected one FILE, got 2/],
    [["fake-server", "--port", "99999"], /--port must be a port number/],
    [["fake-server", "--host", "0.0.0.0"], /--host must be a loopback address/],
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
  // A key pasted into SMILE_SERVER by mistake ends up quoted in the error: it is redacted.
  const misplaced = await run(["status", ...ids], { env: { ...env, SMILE_SERVER: apiKey } });
  assertStrictEquals(misplaced.code, 2);
  assertMatch(misplaced.stderr, /\[redacted\]/);
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
  const fake = fakeWithJob();
  const { code, stdout } = await run(["status", ...ids, "--history", "--image-links"], { fetch: fake.fetch });
  assertStrictEquals(code, 0);
  assertMatch(stdout, /decision +unknown \(Smile ID documents no category for code 0810\)/);
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
  const fake = fakeWithJob({ userId: "user-1", jobId: "job-1", completesAfterMs: 150 });
  const { code, stdout, stderr } = await run(["wait", ...ids, "--interval", "0.04", "--max-interval", "0.05"], {
    fetch: fake.fetch,
  });
  assertStrictEquals(code, 0, stderr);
  assertMatch(stderr, /^Waiting for job job-1 of user user-1 on http:\/\/127\.0\.0\.1:9\/v1 \(timeout 120 s\)$/m);
  const lines = stderr.trim().split("\n").slice(1);
  assert(lines.length >= 3, stderr);
  assertMatch(lines[0]!, /^attempt 1, 0\.\d s: not complete yet; next check in 0\.0 s$/);
  assertMatch(lines.at(-1)!, /^attempt \d+, \d+\.\d s: complete$/);
  assertNotMatch(stderr, /\r/);
  assertStrictEquals(lines.length, fake.requests.length);
  assertMatch(stdout, /complete +yes/);
});

test("main() wait redraws a single progress line on a terminal", async () => {
  const fake = fakeWithJob({ userId: "user-1", jobId: "job-1", completesAfterMs: 100 });
  const { code, stderr } = await run(["wait", ...ids, "--interval", "0.04"], { fetch: fake.fetch, tty: true });
  assertStrictEquals(code, 0);
  const redraws = stderr.split("\r\x1b[2K").length - 1;
  assertStrictEquals(redraws, fake.requests.length);
  assert(redraws >= 2);
  const last = stderr.slice(stderr.lastIndexOf("\r\x1b[2K") + 5);
  assertMatch(last, /^attempt \d+, \d+\.\d s: complete\n$/);
});

test("main() wait exits 1 with code timeout, and 1 at once on a permanent error", async () => {
  const fake = fakeWithJob({ userId: "user-1", jobId: "job-1", completesAfterMs: Infinity });
  const slow = await run(["wait", ...ids, "--timeout", "0.15", "--interval", "0.04"], { fetch: fake.fetch });
  assertStrictEquals(slow.code, 1);
  assertMatch(slow.stderr, /^Error \(timeout\): Gave up waiting/m);
  fake.clearRequests();
  const denied = await run(["wait", ...ids, "--api-key", "wrong-key-0000"], { fetch: fake.fetch });
  assertStrictEquals(denied.code, 1);
  assertMatch(denied.stderr, /2205/);
  assertStrictEquals(fake.requests.length, 1, "2205 is not retried");
});

test("main() wait stops cleanly with exit code 130 when aborted (Ctrl-C)", async () => {
  const fake = fakeWithJob({ userId: "user-1", jobId: "job-1", completesAfterMs: Infinity });
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("Interrupted")), 120);
  const started = Date.now();
  const { code, stderr } = await run(["wait", ...ids, "--interval", "5"], {
    fetch: fake.fetch,
    signal: controller.signal,
  });
  assertStrictEquals(code, 130);
  assertMatch(stderr, /Interrupted\.\n$/);
  assert(Date.now() - started < 2000, "did not sleep through the 5 s interval");
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
    signature: "valid",
    fresh: true,
    confirmed: false,
    userId: "user-1",
    jobId: "job-1",
    decision: "unknown",
    resultCode: "0810",
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
  assertStrictEquals(JSON.parse(json.stdout).code, "signature_mismatch");
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
  const tampered = JSON.stringify(await fake.buildCallback("job-1", { overrides: { ResultCode: "1012" } }));
  const bad = await run(["verify-callback", "--confirm"], { stdin: stdinOf(tampered), fetch: fake.fetch });
  assertStrictEquals(bad.code, 1);
  assertMatch(bad.stdout, /^Invalid callback: the body disagrees/);
  assertMatch(bad.stdout, /differs from the job status in: ResultCode/);
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

// --- fake-server and serveFetch ----------------------------------------------------------------

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
    assertMatch(busy.stderr, /cannot listen on 127\.0\.0\.1:\d+: the address is in use/);
  } finally {
    await first.stop();
  }
});

test("serveFetch() drops the connection for a network fault and aborts the request when the client leaves", async () => {
  const fake = createFakeSmileId({ partnerId, apiKey });
  fake.addJob({ userId: "user-1", jobId: "job-1" });
  const server = await serveFetch(fake.fetch);
  try {
    const client = createClient({ partnerId, apiKey, server: `${server.url}/v1` });
    // First, on a fresh connection: Deno's fetch silently re-sends a request once when a reused
    // keep-alive connection closes without an answer, which would hide the fault.
    fake.injectFault({ networkError: true });
    await assertRejectsWithCode(() => client.getJobStatus({ userId: "user-1", jobId: "job-1" }), "transport");
    assertStrictEquals((await client.getJobStatus({ userId: "user-1", jobId: "job-1" })).jobComplete, true);
    assertEquals(fake.requests.map((r) => r.status), [0, 200]);
    fake.injectFault({ latencyMs: 10_000 });
    const started = Date.now();
    await assertRejectsWithCode(
      () => client.getJobStatus({ userId: "user-1", jobId: "job-1" }, { timeoutMs: 100 }),
      "timeout",
    );
    assert(Date.now() - started < 2000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assertStrictEquals(fake.requests.length, 2, "the abandoned request was cut short, never answered");
  } finally {
    await server.close();
  }
});

// --- the real entry point, as a subprocess ----------------------------------------------------

function runtimeArgs(args: string[]): [string, string[]] {
  return "Deno" in globalThis ? [process.execPath, ["run", "-A", CLI, ...args]] : [process.execPath, [CLI, ...args]];
}

function spawnCli(args: string[], childEnv: Record<string, string> = {}) {
  const [command, argv] = runtimeArgs(args);
  const child = spawn(command, argv, {
    env: bareEnv({ NO_COLOR: "1", ...childEnv }),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | string | null>((resolve) =>
    child.on("close", (code, signal) => resolve(code ?? signal))
  );
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

test("src/cli.ts as a process: --help exits 0 and missing configuration exits 2", async () => {
  const help = spawnCli(["--help"]);
  help.child.stdin.end();
  assertStrictEquals(await help.exited, 0, help.stderr());
  assertMatch(help.stdout(), /^smile-id-job-status \d+\.\d+\.\d+: /);
  const missing = spawnCli(["status", ...ids]);
  missing.child.stdin.end();
  assertStrictEquals(await missing.exited, 2);
  assertMatch(missing.stderr(), /Missing configuration: set SMILE_PARTNER_ID \(or --partner-id\) and SMILE_API_KEY/);
});

test("src/cli.ts as a process: verify-callback reads stdin and exits 0 or 1", async () => {
  const fake = fakeWithJob();
  const childEnv = { SMILE_PARTNER_ID: partnerId, SMILE_API_KEY: apiKey };
  for (const [body, expected] of [[await fake.buildCallback("job-1"), 0], [{ ResultCode: "1012" }, 1]] as const) {
    const verify = spawnCli(["verify-callback", "-"], childEnv);
    verify.child.stdin.end(JSON.stringify(body));
    assertStrictEquals(await verify.exited, expected, verify.stdout() + verify.stderr());
    assert(!verify.stdout().includes(apiKey) && !verify.stderr().includes(apiKey));
  }
});

test("src/cli.ts as a process: fake-server answers over HTTP and stops on SIGINT", async () => {
  const server = spawnCli(["fake-server", "--port", "0", "--complete-after", "0"]);
  server.child.stdin.end();
  try {
    const deadline = Date.now() + 15_000;
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
