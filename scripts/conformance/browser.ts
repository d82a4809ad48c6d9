// The conformance page's last module: runs every registered test (the test files were imported
// before it) and leaves the report on globalThis for scripts/conformance/chromium.ts to read.
import { runTests, type SuiteReport } from "./node_test.ts";
import { conformanceEnv } from "./env.ts";

const page = globalThis as unknown as {
  location: { origin: string };
  document?: { body: { textContent: string | null } };
  __conformance?: SuiteReport | { error: string };
};

conformanceEnv.fakeServer = `${page.location.origin}/v1`;
conformanceEnv.runtime = "chromium";
try {
  const report = await runTests("chromium");
  page.__conformance = report;
  if (page.document) page.document.body.textContent = `${report.passed} passed, ${report.failed} failed`;
} catch (error) {
  page.__conformance = { error: String(error) };
}
