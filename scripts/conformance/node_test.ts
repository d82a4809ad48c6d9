// Stand-in for `node:test` in the bundles that run the portable suite inside workerd and
// Chromium. The portable suite uses only `test(name, fn)`; tests are recorded here and run one
// after another by `runTests()`. Anything else in node:test is deliberately missing, so a
// portable test that uses it fails to bundle instead of passing vacuously.

/** A registered test. */
export interface RegisteredTest {
  readonly name: string;
  readonly file: string;
  readonly fn: (context: TestContext) => unknown;
  readonly skip: boolean;
}

/** The small part of node:test's context object that a portable test may touch. */
export interface TestContext {
  readonly name: string;
  diagnostic(message: string): void;
}

/** Options accepted by `test(name, options, fn)`. */
export interface TestOptions {
  readonly skip?: boolean | string;
  readonly todo?: boolean | string;
}

/** One test's outcome. */
export interface TestOutcome {
  readonly name: string;
  readonly status: "passed" | "failed" | "skipped";
  readonly ms: number;
  readonly error?: string;
}

/** What a conformance run reports back to its runner. */
export interface SuiteReport {
  readonly runtime: string;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly results: readonly TestOutcome[];
}

const registry: RegisteredTest[] = [];
let currentFile = "";

/** Called by the bundler at the top of each test file so results name their file. */
export function enterFile(file: string): void {
  currentFile = file;
}

/** Registers a test, as `node:test`'s `test(name, fn)` or `test(name, options, fn)` does. */
export function test(
  name: string,
  optionsOrFn: TestOptions | ((context: TestContext) => unknown),
  maybeFn?: (context: TestContext) => unknown,
): Promise<void> {
  const options = typeof optionsOrFn === "function" ? {} : optionsOrFn;
  const fn = typeof optionsOrFn === "function" ? optionsOrFn : maybeFn;
  if (typeof name !== "string" || typeof fn !== "function") {
    throw new TypeError(`conformance shim: test() needs a name and a function (in ${currentFile})`);
  }
  const skip = Boolean(options.skip) || Boolean(options.todo);
  registry.push({ name, file: currentFile, fn, skip });
  return Promise.resolve();
}

/** `it` is `test` in node:test. */
export const it: typeof test = test;

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const stack = typeof error.stack === "string" ? error.stack.split("\n").slice(0, 6).join("\n") : "";
    return stack.includes(error.message) ? stack : `${error.name}: ${error.message}\n${stack}`;
  }
  try {
    return `non-error thrown: ${JSON.stringify(error)}`;
  } catch {
    return `non-error thrown: ${String(error)}`;
  }
}

/** Runs every registered test in order, each after the previous one settled. */
export async function runTests(runtime: string, timeoutMs = 30_000): Promise<SuiteReport> {
  const results: TestOutcome[] = [];
  for (const entry of registry) {
    const name = `${entry.file} > ${entry.name}`;
    if (entry.skip) {
      results.push({ name, status: "skipped", ms: 0 });
      continue;
    }
    const started = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const context: TestContext = { name: entry.name, diagnostic() {} };
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`test did not settle within ${timeoutMs} ms`)), timeoutMs);
      });
      await Promise.race([Promise.resolve().then(() => entry.fn(context)), timeout]);
      results.push({ name, status: "passed", ms: Date.now() - started });
    } catch (error) {
      results.push({ name, status: "failed", ms: Date.now() - started, error: describeError(error) });
    } finally {
      clearTimeout(timer);
    }
  }
  const count = (status: TestOutcome["status"]) => results.filter((r) => r.status === status).length;
  return { runtime, passed: count("passed"), failed: count("failed"), skipped: count("skipped"), results };
}
