// Runs the portable suite in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): the bundle is served with its page from 127.0.0.1 (a secure context, so
// crypto.subtle works), next to the fake Smile ID that the round-trip tests call over HTTP.
// Prints `chromium: N passed, N failed`; exits non-zero on any failure.
//
//   deno run -A scripts/conformance/chromium.ts [--verbose]     (CHROMIUM_PATH overrides /usr/bin/chromium)
import { chromium } from "playwright-core";
import { bundleSuite, stopBundler } from "./bundle.ts";
import { startFakeSmileId } from "./fake_server.ts";
import type { SuiteReport } from "./node_test.ts";
import { printReport } from "./report.ts";

const verbose = Deno.args.includes("--verbose");
const executablePath = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const PAGE = `<!doctype html><meta charset="utf-8"><title>smile-id-job-status conformance</title>
<body>running…</body><script type="module" src="/suite.js"></script>`;

const script = await bundleSuite("chromium");
await stopBundler();
const fake = startFakeSmileId("chromium", (request) => {
  const path = new URL(request.url).pathname;
  if (path === "/") return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
  if (path === "/suite.js") return new Response(script, { headers: { "content-type": "text/javascript" } });
  if (path === "/favicon.ico") return new Response(null, { status: 204 });
  return undefined;
});
const profile = await Deno.makeTempDir({ prefix: "conformance-chromium-" });
let ok = false;
try {
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: ARGS });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(`console: ${message.text()}`);
    });
    await page.goto(`${fake.origin}/`);
    await page.waitForFunction(() => "__conformance" in globalThis, undefined, { timeout: 300_000 });
    const report = await page.evaluate(() => (globalThis as { __conformance?: unknown }).__conformance) as
      | SuiteReport
      | { error: string };
    if ("error" in report) throw new Error(`the conformance page failed: ${report.error}`);
    ok = printReport(report, verbose);
    if (pageErrors.length > 0 && !ok) console.log(`page errors:\n${pageErrors.join("\n")}`);
  } finally {
    await context.close();
  }
} catch (error) {
  console.error(error);
  console.log("chromium: 0 passed, 1 failed");
} finally {
  await fake.close();
  await Deno.remove(profile, { recursive: true }).catch(() => {});
}
Deno.exit(ok ? 0 : 1);
