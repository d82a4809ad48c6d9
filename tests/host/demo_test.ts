// `deno task demo` as a newcomer runs it: a Deno subprocess from the repository root, whatever
// runtime runs this test. It must exit 0 and print every step's expected outcome.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The Deno binary: this process under `deno test`, else the npm `deno` package's launcher. */
function deno(): string {
  return "Deno" in globalThis ? process.execPath : `${ROOT}node_modules/.bin/deno`;
}

test("deno task demo runs the whole flow offline and exits 0", async () => {
  const started = Date.now();
  const child = spawn(deno(), ["task", "demo"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on("close", (exit) => resolve(exit)));
  const elapsed = Date.now() - started;

  assert.equal(code, 0, stdout + stderr);
  for (
    const line of [
      /^1\. Start a fake Smile ID$/m,
      /^ {3}listening on http:\/\/127\.0\.0\.1:\d+\/v1, partner id 085/m,
      /^ {3}✓ an unsigned request gets HTTP 400 with code 2213/m,
      /^ {3}check 1 at 0\.\d s: not complete yet, next check in/m,
      /^ {3}✓ complete after \d+ checks in [3-9]\.\d s/m,
      /^ {3}decision {4}approved$/m,
      /^ {3}✓ HTTP 200: signature valid, timestamp fresh, first use, body matches the job status$/m,
      /^ {3}✓ HTTP 401 signature_mismatch$/m,
      /^ {3}✓ HTTP 409 replayed$/m,
      /^ {3}✓ HTTP 422: the body differs from Smile ID's job status in ResultCode, ResultText$/m,
      /^All 7 checks passed\./m,
    ]
  ) {
    assert.match(stdout, line);
  }
  assert.doesNotMatch(stdout, /✗/);
  assert.doesNotMatch(stdout, /\r/, "no terminal redraws when piped");
  // Only Deno's own "Task demo …" line on stderr: no warnings, no stack traces.
  assert.deepEqual(stderr.trim().split("\n").filter((line) => !/^Task demo /.test(line)), []);
  assert.ok(elapsed >= 3000, `the job takes about 3 s (${elapsed} ms)`);
});
