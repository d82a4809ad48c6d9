// Every check and the whole test suite in every runtime, one step after another: `deno task test`.
//
// Each step prints one line, `<step>: N passed, N failed, N skipped (seconds)`, counted from the
// runner's own summary (a check that is not a test runner counts as one test); the summary ends
// with `skipped: N tests (<step> N, …)` and then the total, `N passed, N failed` (the last line is
// CI's contract), and the exit code is non-zero if anything failed.
// Each step's output goes to dist/test-logs/; for a failed step the runner prints the name of
// each failing test with the first lines of its failure (read from Deno's, Bun's and TAP output),
// or the end of the log for a check that is not a test runner.
//
// Works on a machine with only Node and npm. Setup, before any step: the JSR registry is chosen
// (scripts/jsr.ts), the programs come from scripts/toolchain (`npm ci`), the libraries from
// scripts/dev_imports.json (`deno install`; deno.json names only what the library and the demo
// import, because Deno downloads every npm package of the import map a command runs with), and
// node_modules/@std is laid out for Node and Bun (scripts/_std.ts). The runner changes nothing
// else on the machine: a step that needs Chromium or redis-server when it is missing is SKIPPED,
// with the command that installs it (.ci/run installs both before running this). With CI=true a
// step that cannot run is a failure, never a skip.
//
//   deno task test [--only=name,name] [--verbose]
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { useJsrRegistry } from "./jsr.ts";
import {
  BUN,
  checkImportMaps,
  DEV_IMPORT_MAP,
  installToolchainCommand,
  NODE22,
  NODE24,
  toolchainStale,
  TSC,
} from "./_toolchain.ts";
import { capture } from "./_run.ts";

await useJsrRegistry();
const ROOT = fileURLToPath(new URL("../", import.meta.url));
Deno.chdir(ROOT);
// `deno task` may put node_modules/.bin first on PATH; the steps must see the machine's own
// Node as `node`, and this Deno as `deno` (tests that start the CLI under Node or Bun find it
// through DENO_BIN).
Deno.env.set(
  "PATH",
  [
    dirname(Deno.execPath()),
    ...(Deno.env.get("PATH") ?? "").split(":").filter((dir) => !dir.includes("node_modules/.bin")),
  ]
    .join(":"),
);
Deno.env.set("DENO_BIN", Deno.execPath());
const CI = Deno.env.get("CI") === "true" || Deno.env.get("CI") === "1";
const VERBOSE = Deno.args.includes("--verbose");
const ONLY = Deno.args.find((arg) => arg.startsWith("--only="))?.slice(7).split(",");
const LOGS = join(ROOT, "dist", "test-logs");
const STEP_TIMEOUT_MS = 15 * 60_000;

const DENO = Deno.execPath();
/** The development import map: deno.json's imports plus the libraries tests and scripts import. */
const DEV = `--import-map=${DEV_IMPORT_MAP}`;
/** The npm build's import map: deno.json's imports plus esbuild and TypeScript, nothing else. */
const NPM_BUILD = "--import-map=scripts/npm/imports.json";
const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

// ---------------------------------------------------------------------------------------------
// Counting: each runner's own summary.

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}
type Counter = (output: string) => Counts | undefined;

/** A failed test: its name and the first lines of its failure. */
interface Failure {
  readonly name: string;
  readonly lines: readonly string[];
}
/** Finds the failed tests in a runner's output. */
type FailureReader = (output: string) => Failure[];

/** The number captured by the last match of a global, multiline pattern. */
const num = (pattern: RegExp, text: string) => {
  const last = [...text.matchAll(pattern)].at(-1);
  return last ? Number(last[1]) : undefined;
};

/** How many lines of each failure the summary shows. */
const FAILURE_LINES = 6;

/** `deno test`: `ok | 142 passed (3 steps) | 0 failed | 2 ignored`. */
const denoTest: Counter = (out) => {
  const line = [...out.matchAll(/^(?:ok|FAILED) \| (\d+) passed.*$/gm)].at(-1);
  if (!line) return undefined;
  const field = (name: string) => Number(new RegExp(`\\| (\\d+) ${name}`).exec(line[0])?.[1] ?? 0);
  return { passed: Number(line[1]), failed: field("failed"), skipped: field("ignored") };
};
/** `deno test`'s ERRORS section: `<name> => <file>:<line>:<col>`, then `error: …`. */
const denoFailures: FailureReader = (out) => {
  const errors = out.split(/^ ERRORS $/m)[1]?.split(/^ FAILURES $/m)[0] ?? "";
  const failures: Failure[] = [];
  for (const block of errors.split(/\n(?=\S.* => \S+:\d+:\d+$)/m)) {
    const [head, ...rest] = block.trim().split("\n");
    const name = /^(.*) => \S+:\d+:\d+$/.exec(head ?? "")?.[1];
    if (!name) continue;
    const detail = rest.filter((line) => line.trim() !== "" && !/^\s+at /.test(line));
    failures.push({ name, lines: detail.slice(0, FAILURE_LINES) });
  }
  return failures;
};
/** `bun test`: ` 142 pass` / ` 0 fail` / ` 3 skip`. */
const bunTest: Counter = (out) => {
  const passed = num(/^\s*(\d+) pass$/gm, out);
  const failed = num(/^\s*(\d+) fail$/gm, out);
  if (passed === undefined || failed === undefined) return undefined;
  return { passed, failed, skipped: num(/^\s*(\d+) skip$/gm, out) ?? 0 };
};
/** `bun test`: `(fail) <name> [1.00ms]`, after the failure's code frame and message. */
const bunFailures: FailureReader = (out) => {
  const failures: Failure[] = [];
  let block: string[] = [];
  for (const line of out.split("\n")) {
    const fail = /^\(fail\) (.*?)(?: \[[\d.]+m?s\])?$/.exec(line);
    // Bun lists each failure again at the end, without its detail: keep the first.
    if (fail && !failures.some((failure) => failure.name === fail[1])) {
      const detail = block.filter((l) =>
        l.trim() !== "" && !/^\s*\d+ \|/.test(l) && !/^\s*\^\s*$/.test(l) && !/^\s+at /.test(l)
      );
      failures.push({ name: fail[1]!, lines: detail.slice(0, FAILURE_LINES) });
    }
    if (/^\((pass|fail|skip|todo)\) |^\S+_test\.ts:$/.test(line)) block = [];
    else block.push(line);
  }
  return failures;
};
/** `node --test --test-reporter=tap`: `# pass 142` / `# fail 0` / `# cancelled 0` / `# skipped 0`. */
const nodeTap: Counter = (out) => {
  const passed = num(/^# pass (\d+)$/gm, out);
  const failed = num(/^# fail (\d+)$/gm, out);
  if (passed === undefined || failed === undefined) return undefined;
  return {
    passed,
    failed: failed + (num(/^# cancelled (\d+)$/gm, out) ?? 0),
    skipped: (num(/^# skipped (\d+)$/gm, out) ?? 0) + (num(/^# todo (\d+)$/gm, out) ?? 0),
  };
};
/** TAP: `not ok 3 - <name>`, then a YAML block with `location:` and `error:`. */
const tapFailures: FailureReader = (out) => {
  const failures: Failure[] = [];
  const lines = out.split("\n");
  for (const [index, line] of lines.entries()) {
    const fail = /^(\s*)not ok \d+ - (.*?)(?: # .*)?$/.exec(line);
    if (!fail) continue;
    const indent = fail[1]!;
    const yaml: string[] = [];
    for (const next of lines.slice(index + 1)) {
      if (next.startsWith(`${indent}  ...`)) break;
      yaml.push(next.slice(indent.length + 2));
    }
    if (yaml.some((y) => /^failureType: 'subtestsFailed'/.test(y))) continue; // its failed subtest is listed
    const at = yaml.findIndex((y) => y.startsWith("error:"));
    const error = at === -1 ? [] : [yaml[at]!, ...yaml.slice(at + 1).filter((y) => y.startsWith("  "))];
    const location = yaml.find((y) => y.startsWith("location:"));
    failures.push({
      name: fail[2]!,
      lines: [...(location ? [location] : []), ...error.filter((y) => y.trim() !== "")].slice(0, FAILURE_LINES),
    });
  }
  return failures;
};
/** This project's runners (workerd, Chromium, size): a final `<name>: N passed, N failed[, N skipped]`. */
const plainLine: Counter = (out) => {
  const match = [...out.matchAll(/(\d+) passed, (\d+) failed(?:, (\d+) skipped)?/g)].at(-1);
  return match ? { passed: Number(match[1]), failed: Number(match[2]), skipped: Number(match[3] ?? 0) } : undefined;
};
/** This project's runners: `FAIL <name>`, then the failure's lines, indented. */
const plainFailures: FailureReader = (out) => {
  const failures: Failure[] = [];
  const lines = out.split("\n");
  for (const [index, line] of lines.entries()) {
    const fail = /^FAIL (.*)$/.exec(line);
    if (!fail) continue;
    const detail: string[] = [];
    for (const next of lines.slice(index + 1)) {
      if (!/^\s/.test(next) || next.trim() === "") break;
      detail.push(next.trim());
    }
    failures.push({ name: fail[1]!, lines: detail.slice(0, FAILURE_LINES) });
  }
  return failures;
};

/** How a test runner's output is read: its counts and its failures. */
interface Reader {
  readonly count: Counter;
  readonly failures: FailureReader;
}
const DENO_TEST: Reader = { count: denoTest, failures: denoFailures };
const BUN_TEST: Reader = { count: bunTest, failures: bunFailures };
const NODE_TAP: Reader = { count: nodeTap, failures: tapFailures };
const PLAIN: Reader = { count: plainLine, failures: plainFailures };

// ---------------------------------------------------------------------------------------------
// Runtimes a step may need: present, installable, or a reason why not.

type Need = "bun" | "node22" | "node24" | "chromium" | "redis";

const REDIS = "/usr/bin/redis-server";

/** Debian's package for each server the runner does not install itself (.ci/run installs them). */
const APT_PACKAGES: Readonly<Record<"chromium" | "redis", { readonly path: string; readonly pkg: string }>> = {
  chromium: { path: CHROMIUM, pkg: "chromium" },
  redis: { path: REDIS, pkg: "redis-server" },
};

/** The command that installs Debian's `pkg`, as root or through sudo. */
export function installCommand(pkg: string): string {
  return `${Deno.uid() === 0 ? "" : "sudo "}apt-get install -y --no-install-recommends ${pkg}`;
}

/** Resolves to undefined when the runtime is there, else why not (with how to get it). */
function need(name: Need): string | undefined {
  switch (name) {
    case "bun":
      return existsSync(BUN) ? undefined : `no Bun binary at ${BUN} (scripts/toolchain provides it on linux-x64)`;
    case "node22":
      return existsSync(NODE22) ? undefined : `no Node 22 at ${NODE22}`;
    case "node24":
      return existsSync(NODE24) ? undefined : `no Node 24 at ${NODE24}`;
    case "chromium":
    case "redis": {
      const { path, pkg } = APT_PACKAGES[name];
      return existsSync(path) ? undefined : `${path} is missing; install it with: ${installCommand(pkg)}`;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The steps. Adding one is one line: a name, a command, and how to count (default: a check
// that passes when the command exits 0).

interface Step {
  readonly name: string;
  /** The command, or a function giving it when the step starts (for files an earlier step makes). */
  readonly cmd: readonly string[] | (() => string[] | Promise<string[]>);
  /** How to read the runner's counts and failures; without it the step is one check, passed if it exits 0. */
  readonly reader?: Reader;
  /** Runtimes and servers the step needs. */
  readonly needs?: readonly Need[];
  /** A step whose success this one depends on. */
  readonly after?: string;
  /** Where the step runs (default: the repository). */
  readonly cwd?: string;
}

/** The suite's files for `node --test`: portable and host tests, found by name. */
function testFiles(): string[] {
  const inDir = (dir: string) =>
    readdirSync(join(ROOT, dir)).filter((name) => name.endsWith("_test.ts")).sort().map((name) => `${dir}/${name}`);
  return [...inDir("tests"), ...(existsSync(join(ROOT, "tests/host")) ? inDir("tests/host") : [])];
}

/** deno.json's exports: every public entry point. */
const ENTRY_POINTS: readonly string[] = Object.values(
  JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).exports as Record<string, string>,
).map((path) => path.replace(/^\.\//, ""));

const { PACKAGE_RUNS, packageSuiteCommand, SUITE } = await import("./npm/check.ts");
const NODES = { node22: NODE22, node24: NODE24 } as const;

const STEPS: readonly Step[] = [
  { name: "fmt", cmd: [DENO, "fmt", "--check"] },
  { name: "lint", cmd: [DENO, "lint"] },
  { name: "check", cmd: [DENO, "check", DEV, ...ENTRY_POINTS, "scripts/", "tests/"] },
  { name: "doc-lint", cmd: [DENO, "doc", "--lint", ...ENTRY_POINTS] },
  { name: "publish-dry-run", cmd: [DENO, "publish", "--dry-run", "--allow-dirty"] },
  {
    name: "deno",
    cmd: [DENO, "test", "-A", "--unstable-kv", DEV, "--doc", "tests/", "mod.ts", "src/", "README.md", "docs/"],
    reader: DENO_TEST,
    needs: ["redis"],
  },
  { name: "bun", cmd: [BUN, "test", "./tests/"], reader: BUN_TEST, needs: ["bun", "redis"] },
  ...(["node22", "node24"] as const).map((node): Step => ({
    name: node,
    cmd: () => [NODES[node], "--test", "--test-reporter=tap", ...testFiles()],
    reader: NODE_TAP,
    needs: [node, "redis"],
  })),
  { name: "npm build", cmd: [DENO, "run", "-A", NPM_BUILD, "scripts/npm/build.ts"] },
  { name: "npm checks", cmd: [DENO, "run", "-A", DEV, "scripts/npm/check.ts"], after: "npm build" },
  {
    name: "npm readme",
    cmd: [DENO, "run", "-A", DEV, "scripts/npm/readme.ts"],
    reader: PLAIN,
    needs: ["node22", "bun"],
    after: "npm checks",
  },
  { name: "npm publish-dry-run", cmd: ["npm", "publish", "--dry-run"], cwd: "npm", after: "npm checks" },
  ...PACKAGE_RUNS.map(({ node, format }): Step => ({
    name: `${node} npm ${format}`,
    cmd: () => packageSuiteCommand(NODES[node], format),
    reader: NODE_TAP,
    needs: [node],
    after: "npm checks",
  })),
  // Bun through the package's `import` condition (it has no separate require path for an ES module).
  {
    name: "bun npm import",
    cmd: [BUN, "test", `${SUITE}/esm/`],
    reader: BUN_TEST,
    needs: ["bun"],
    after: "npm checks",
  },
  { name: "workerd", cmd: [DENO, "run", "-A", DEV, "scripts/conformance/workerd.ts"], reader: PLAIN },
  {
    name: "chromium",
    cmd: [DENO, "run", "-A", DEV, "scripts/conformance/chromium.ts"],
    reader: PLAIN,
    needs: ["chromium"],
  },
  { name: "core types", cmd: ["node", TSC, "-p", "scripts/tsconfig.core.json"] },
  { name: "size budget", cmd: [DENO, "run", "-A", DEV, "scripts/size.ts"], reader: PLAIN },
  {
    name: "bench (quick)",
    cmd: [DENO, "run", "-A", "--unstable-kv", DEV, "scripts/bench/bench.ts", "--quick"],
    needs: ["redis"],
  },
];

// ---------------------------------------------------------------------------------------------
// Running.

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** Runs a command with stdout and stderr interleaved into one log; kills it after the timeout. */
async function runLogged(
  cmd: readonly string[],
  logPath: string,
  cwd?: string,
): Promise<{ code: number; text: string }> {
  const result = await capture(cmd, {
    ...(cwd ? { cwd } : {}),
    env: { NO_COLOR: "1", FORCE_COLOR: "0" },
    timeoutMs: STEP_TIMEOUT_MS,
  });
  const killed = result.timedOut ? `\n[scripts/test.ts] killed after ${STEP_TIMEOUT_MS / 60_000} minutes\n` : "";
  const text = (result.output + killed).replace(ANSI, "");
  writeFileSync(logPath, text);
  return { code: result.code, text };
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).map((line) => `    ${line}`).join("\n");
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** What a failed step prints: each failing test with the first lines of its failure, or the log's end. */
function failureReport(step: Step, text: string): string {
  const failures = step.reader?.failures(text) ?? [];
  if (failures.length === 0) return `  the end of its log:\n${tail(text)}`;
  return failures.map((failure) =>
    [`  ✗ ${failure.name}`, ...failure.lines.map((line) => `      ${line.trimEnd()}`)].join("\n")
  ).join("\n");
}

const unknown = (ONLY ?? []).filter((name) => !STEPS.some((step) => step.name === name));
if (unknown.length > 0) {
  console.log(`--only names no step ${unknown.map((name) => JSON.stringify(name)).join(", ")}; the steps are:`);
  console.log(STEPS.map((step) => `  ${step.name}`).join("\n"));
  Deno.exit(2);
}

const started = performance.now();
// This run's logs only: an older run's, numbered for other steps, would mislead.
rmSync(LOGS, { recursive: true, force: true });
mkdirSync(LOGS, { recursive: true });
console.log(
  `smile-id-job-status: every check and the suite in every runtime${CI ? " (CI: nothing may be skipped)" : ""}`,
);
console.log(`logs: ${LOGS}`);

// Setup: programs (scripts/toolchain), libraries (deno.json), and std for Node and Bun.
async function setup(name: string, cmd: string[], cwd?: string): Promise<void> {
  const since = performance.now();
  const log = join(LOGS, `setup-${name.replace(/[^A-Za-z0-9]+/g, "-").replace(/-$/, "")}.log`);
  const result = await runLogged(cmd, log, cwd);
  if (result.code !== 0) {
    console.log(`setup: ${name} failed\n${tail(result.text)}`);
    console.log("0 passed, 1 failed");
    Deno.exit(1);
  }
  console.log(`setup: ${name} ok (${seconds(since)})`);
}
{
  const problem = checkImportMaps();
  if (problem) {
    console.log(`setup: ${problem}\n0 passed, 1 failed`);
    Deno.exit(1);
  }
}
if (CI || toolchainStale()) {
  const { cmd, cwd } = installToolchainCommand();
  await setup("npm ci (scripts/toolchain)", cmd, cwd);
}
await setup("deno install", [DENO, "install", DEV]);
await setup("std for Node and Bun", [DENO, "run", "-A", DEV, "scripts/_std.ts"]);

const total: Counts = { passed: 0, failed: 0, skipped: 0 };
const failedSteps: string[] = [];
const skippedSteps: string[] = [];
/** `<step> <count>` for each step that skipped tests, for the summary. */
const skippedIn: string[] = [];
const skippedBy = () => (skippedIn.length > 0 ? ` (${skippedIn.join(", ")})` : "");
const steps = ONLY ? STEPS.filter((step) => ONLY.includes(step.name)) : STEPS;

for (const [index, step] of steps.entries()) {
  const since = performance.now();
  const logPath = join(LOGS, `${String(index + 1).padStart(2, "0")}-${step.name.replaceAll(" ", "-")}.log`);
  let missing: string | undefined;
  for (const name of step.needs ?? []) missing ??= need(name);
  if (missing !== undefined) {
    if (CI) {
      console.log(`${step.name}: SKIPPED, which CI=true does not allow: ${missing}`);
      console.log(`${step.name}: 0 passed, 1 failed, 0 skipped`);
      total.failed++;
      failedSteps.push(step.name);
    } else {
      console.log(`${step.name}: SKIPPED (${missing})`);
      total.skipped++;
      skippedSteps.push(step.name);
    }
    continue;
  }
  if (step.after && failedSteps.includes(step.after)) {
    console.log(`${step.name}: 0 passed, 1 failed, 0 skipped (not run: ${step.after} failed)`);
    total.failed++;
    failedSteps.push(step.name);
    continue;
  }
  let result: { code: number; text: string };
  try {
    const cmd = typeof step.cmd === "function" ? await step.cmd() : step.cmd;
    result = await runLogged(cmd, logPath, step.cwd ? join(ROOT, step.cwd) : undefined);
  } catch (error) {
    result = { code: -1, text: String(error) };
    writeFileSync(logPath, result.text);
  }
  let counts: Counts;
  if (step.reader) {
    counts = step.reader.count(result.text) ?? { passed: 0, failed: 0, skipped: 0 };
    // A runner that failed without counting a failure, or passed without running a test, failed.
    if (result.code !== 0 && counts.failed === 0) counts.failed = 1;
    if (result.code === 0 && counts.passed === 0 && counts.failed === 0) counts.failed = 1;
  } else {
    counts = result.code === 0 ? { passed: 1, failed: 0, skipped: 0 } : { passed: 0, failed: 1, skipped: 0 };
  }
  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
  if (counts.skipped > 0) skippedIn.push(`${step.name} ${counts.skipped}`);
  console.log(
    `${step.name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped (${seconds(since)})`,
  );
  if (counts.failed > 0) {
    failedSteps.push(step.name);
    console.log(`  ${step.name} failed (log: ${logPath}):\n${failureReport(step, result.text)}`);
  } else if (VERBOSE) {
    console.log(tail(result.text, 10));
  }
}

console.log("");
if (skippedSteps.length > 0) console.log(`skipped steps: ${skippedSteps.join(", ")}`);
console.log(failedSteps.length > 0 ? `failed steps: ${failedSteps.join(", ")}` : `all ${steps.length} steps passed`);
console.log(`time: ${seconds(started)}`);
// The skipped tests on their own line: the last line is CI's contract, `N passed, N failed`.
console.log(`skipped: ${total.skipped} test${total.skipped === 1 ? "" : "s"}${skippedBy()}`);
console.log(`${total.passed} passed, ${total.failed} failed`);
Deno.exit(total.failed === 0 ? 0 : 1);
