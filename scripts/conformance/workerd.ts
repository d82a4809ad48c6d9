// Runs the portable suite inside workerd (Cloudflare Workers' runtime, through miniflare) with
// no `nodejs_compat` flag, so any use of a Node API fails. Then drives a callback-handler Worker
// end to end: the fake Smile ID posts tampered, genuine, forged, late and malformed callbacks
// to it over HTTP, and the Worker confirms them with the fake. Prints `workerd: N passed, N failed`; exits non-zero on any failure.
//
//   deno run -A scripts/conformance/workerd.ts [--verbose]
import { Miniflare } from "miniflare";
import { bundleEntry, bundleSuite, stopBundler } from "./bundle.ts";
import { type RunningFake, startFakeSmileId } from "./fake_server.ts";
import type { SuiteReport, TestOutcome } from "./node_test.ts";
import { printReport } from "./report.ts";

// A fixed date keeps the run reproducible; it must not be newer than the bundled workerd.
const COMPATIBILITY_DATE = "2026-01-01";
const verbose = Deno.args.includes("--verbose");

/** A Worker running `script` without nodejs_compat, with the fake Smile ID's URL as FAKE_SMILE_ID. */
function worker(script: string, fake: RunningFake): Miniflare {
  return new Miniflare({
    modules: true,
    script,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: [],
    bindings: { FAKE_SMILE_ID: fake.server },
  });
}

async function runSuite(fake: RunningFake): Promise<SuiteReport> {
  const mf = worker(await bundleSuite("workerd"), fake);
  try {
    const response = await mf.dispatchFetch("http://conformance.invalid/");
    const text = await response.text();
    if (!response.ok) throw new Error(`the conformance Worker answered ${response.status}: ${text.slice(0, 2000)}`);
    return JSON.parse(text) as SuiteReport;
  } finally {
    await mf.dispose();
  }
}

async function runCallbackHandler(fake: RunningFake): Promise<TestOutcome[]> {
  const mf = worker(
    await bundleEntry(`export { default } from "./scripts/conformance/callback_worker.ts";`, "workerd"),
    fake,
  );
  const results: TestOutcome[] = [];
  try {
    const url = (await mf.ready).href;
    fake.fake.addJob({ userId: "callback-user", jobId: "callback-job" });
    const post = async (body: string) => {
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
      return { status: response.status, json: await response.json() as { ok: boolean; code: string } };
    };
    const check = async (name: string, body: () => Promise<string>, want: { status: number; code: string }) => {
      const started = Date.now();
      try {
        const got = await post(await body());
        const fine = got.status === want.status && got.json.code === want.code;
        results.push({
          name: `callback Worker > ${name}`,
          status: fine ? "passed" : "failed",
          ms: Date.now() - started,
          ...(fine ? {} : { error: `expected ${JSON.stringify(want)}, got ${got.status} ${JSON.stringify(got.json)}` }),
        });
      } catch (error) {
        results.push({
          name: `callback Worker > ${name}`,
          status: "failed",
          ms: Date.now() - started,
          error: String(error),
        });
      }
    };
    const genuine = JSON.stringify(await fake.fake.buildCallback("callback-job"));
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    await check(
      "processes a tampered body under a genuine pair as Smile ID's status, with 200",
      () => Promise.resolve(JSON.stringify({ ...JSON.parse(genuine), ResultCode: "1012" })),
      { status: 200, code: "processed" },
    );
    await check("answers the genuine callback after it with 200 duplicate", () => Promise.resolve(genuine), {
      status: 200,
      code: "duplicate",
    });
    await check(
      "refuses a forged callback with 401 signature_mismatch",
      async () => JSON.stringify(await fake.fake.buildCallback("callback-job", { badSignature: true })),
      { status: 401, code: "signature_mismatch" },
    );
    await check(
      "confirms a late callback (signed an hour ago): the same result, 200 duplicate",
      async () => JSON.stringify(await fake.fake.buildCallback("callback-job", { timestamp: hourAgo })),
      { status: 200, code: "duplicate" },
    );
    await check("refuses a body that is not JSON with 400", () => Promise.resolve("<html>"), {
      status: 400,
      code: "unexpected_response",
    });
  } finally {
    await mf.dispose();
  }
  return results;
}

// Miniflare's scratch folders go in one folder of ours, removed at the end (its own removal on
// dispose is fire-and-forget and may not finish before this process exits).
const scratch = await Deno.makeTempDir({ prefix: "conformance-workerd-" });
Deno.env.set("TMPDIR", scratch);
let ok = false;
const fake = startFakeSmileId("workerd");
try {
  const suite = await runSuite(fake);
  const callbacks = await runCallbackHandler(fake);
  const results = [...suite.results, ...callbacks];
  const count = (status: TestOutcome["status"]) => results.filter((r) => r.status === status).length;
  ok = printReport(
    { runtime: "workerd", passed: count("passed"), failed: count("failed"), skipped: count("skipped"), results },
    verbose,
  );
} catch (error) {
  console.error(error);
  console.log("workerd: 0 passed, 1 failed");
} finally {
  await fake.close();
  await stopBundler();
  await Deno.remove(scratch, { recursive: true }).catch(() => {});
}
Deno.exit(ok ? 0 : 1);
