// `deno task demo` as a newcomer runs it: a Deno subprocess from the repository root. It must
// exit 0 and print every step's expected outcome. The demo is the same program whichever runtime
// starts it, so it runs once per suite: in the Deno run (skipped, and counted as skipped, in Bun
// and Node).

import { test } from "node:test";
import { assert, assertEquals, assertMatch, assertNotMatch, assertStrictEquals } from "@std/assert";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { bareEnv, spawnCapture } from "./_children.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const skip = "Deno" in globalThis ? false : "the demo runs once per suite, in the Deno run";

test("deno task demo runs the whole flow offline and exits 0", { skip }, async () => {
  const started = Date.now();
  const demo = spawnCapture(process.execPath, ["task", "demo"], { cwd: ROOT, env: bareEnv({ NO_COLOR: "1" }) });
  const code = await demo.exited;
  const elapsed = Date.now() - started;
  const stdout = demo.stdout();
  const stderr = demo.stderr();

  assertStrictEquals(code, 0, stdout + stderr);
  for (
    const line of [
      /^1\. Start a fake Smile ID$/m,
      /^ {3}listening on http:\/\/127\.0\.0\.1:\d+\/v1, partner id 085/m,
      /^ {3}✓ an unsigned request gets HTTP 400 with code 2213/m,
      /^ {3}attempt 1, \d+\.\d s: not complete yet; next check in/m,
      /^ {3}✓ complete after \d+ checks in \d+\.\d s/m,
      /^ {3}decision {4}approved$/m,
      /^ {3}✓ HTTP 200 processed: signature valid, confirmed with Smile ID, onCallback saved decision approved$/m,
      /^ {3}✓ HTTP 401 signature_mismatch$/m,
      /^ {3}✓ HTTP 200 duplicate: onCallback did not run again$/m,
      /^ {3}✓ tampered first: HTTP 200 processed; saved Smile ID's decision rejected, ignoring the body's ResultCode, ResultText$/m,
      /^ {3}✓ genuine second: HTTP 200 duplicate; the result was processed exactly once$/m,
      /^All 8 checks passed\./m,
    ]
  ) {
    assertMatch(stdout, line);
  }
  assertNotMatch(stdout, /✗/);
  assertNotMatch(stdout, /\r/, "no terminal redraws when piped");
  // Only Deno's own "Task demo …" line on stderr: no warnings, no stack traces.
  assertEquals(stderr.trim().split("\n").filter((line) => !/^Task demo /.test(line)), []);
  assert(elapsed >= 3000, `the job takes about 3 s (${elapsed} ms)`);
});
