// Prints a conformance report: one line per failed test with its error, then the summary line
// `<runtime>: N passed, N failed, N skipped` that scripts/test.ts reads.
import type { SuiteReport, TestOutcome } from "./node_test.ts";

/** Prints `report` and returns whether everything passed. */
export function printReport(report: SuiteReport, verbose: boolean): boolean {
  for (const result of report.results) printOutcome(result, verbose);
  console.log(`${report.runtime}: ${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped`);
  return report.failed === 0 && report.passed > 0;
}

/** Prints one outcome: always when it failed, else only when verbose. */
export function printOutcome(result: TestOutcome, verbose: boolean): void {
  if (result.status === "failed") {
    console.log(`FAIL ${result.name}\n${(result.error ?? "").replace(/^/gm, "    ")}`);
  } else if (verbose) {
    console.log(`${result.status === "passed" ? "ok  " : "skip"} ${result.name} (${result.ms} ms)`);
  }
}
