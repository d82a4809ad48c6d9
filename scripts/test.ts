// Every check and the whole test suite in every runtime, one step after another: `deno task test`.
//
// Each step prints one line, `<step>: N passed, N failed (seconds)`, counted from the runner's
// own summary (a check that is not a test runner counts as one test); the last line is the
// total, `N passed, N failed`, and the exit code is non-zero if anything failed. Each step's
// output goes to dist/test-logs/; a failing step's tail is printed.
//
// Works on a machine with only Node 20 and npm. Setup, before any step: the JSR registry is
// chosen (scripts/jsr.ts), the programs come from scripts/toolchain (`npm ci`), the libraries
// from scripts/dev_imports.json (`deno install`; deno.json names only what the library and the
// demo import, because Deno downloads every npm package of the import map a command runs with), node_modules/@std is laid out for Node and Bun
// (scripts/_std.ts), and Chromium and redis-server come from apt when missing (as root). A
// runtime that cannot be had is reported as SKIPPED on its own line; with CI=true a skip is a
// failure.
//
//   deno task test [--only=name,name] [--verbose]
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { useJsrRegistry } from "./jsr.ts";
import {
  BUN,
  checkDevImportMap,
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
// Node 20 as `node`, and this Deno as `deno` (tests that start the demo or the CLI under Node
// or Bun find it through DENO_BIN).
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
const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

// ---------------------------------------------------------------------------------------------
// Counting: each runner's own summary.

interface Counts {
  passed: number;
  failed: number;
}
type Counter = (output: string) => Counts | undefined;

/** The number captured by the last match of a global, multiline pattern. */
const num = (pattern: RegExp, text: string) => {
  const last = [...text.matchAll(pattern)].at(-1);
  return last ? Number(last[1]) : undefined;
};

/** `deno test`: `ok | 142 passed (3 steps) | 0 failed`. */
const denoTest: Counter = (out) => {
  const match = [...out.matchAll(/(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/g)].at(-1);
  return match ? { passed: Number(match[1]), failed: Number(match[2]) } : undefined;
};
/** `bun test`: ` 142 pass` / ` 0 fail`. */
const bunTest: Counter = (out) => {
  const passed = num(/^\s*(\d+) pass$/gm, out);
  const failed = num(/^\s*(\d+) fail$/gm, out);
  return passed === undefined || failed === undefined ? undefined : { passed, failed };
};
/** `node --test --test-reporter=tap`: `# pass 142` / `# fail 0` / `# cancelled 0`. */
const nodeTap: Counter = (out) => {
  const passed = num(/^# pass (\d+)$/gm, out);
  const failed = num(/^# fail (\d+)$/gm, out);
  if (passed === undefined || failed === undefined) return undefined;
  return { passed, failed: failed + (num(/^# cancelled (\d+)$/gm, out) ?? 0) };
};
/** This project's runners (workerd, Chromium, size): a final `<name>: N passed, N failed`. */
const plainLine: Counter = (out) => {
  const match = [...out.matchAll(/(\d+) passed, (\d+) failed/g)].at(-1);
  return match ? { passed: Number(match[1]), failed: Number(match[2]) } : undefined;
};

// ---------------------------------------------------------------------------------------------
// Runtimes a step may need: present, installable, or a reason why not.

type Need = "bun" | "node20" | "node22" | "node24" | "chromium" | "redis";

/** Runs a setup command (its output kept in `log` when given); a program that cannot start is not ok. */
async function probe(cmd: string[], log?: string): Promise<{ ok: boolean; text: string }> {
  const { ok, text } = await capture(cmd).then(
    (result) => ({ ok: result.success, text: result.output }),
    (error) => ({ ok: false, text: String(error) }),
  );
  if (log) writeFileSync(join(LOGS, log), text);
  return { ok, text };
}

const REDIS = "/usr/bin/redis-server";

/** Installs a Debian package that provides `path`; resolves to undefined, or why it could not. */
async function aptInstall(pkg: string, path: string): Promise<string | undefined> {
  if (Deno.uid() !== 0) return `${path} is missing and installing it needs root (apt-get install ${pkg})`;
  if (!existsSync("/usr/bin/apt-get")) return `${path} is missing and there is no apt-get to install it`;
  const log = `setup-${pkg}.log`;
  console.log(`setup: installing ${pkg} with apt-get (log: dist/test-logs/${log})`);
  // One apt-get update per run, shared by every package installed.
  aptUpdated ??= probe(["apt-get", "update"], "setup-apt-update.log").then(({ ok }) => ok);
  await aptUpdated;
  const { ok } = await probe(
    ["sh", "-c", `DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkg}`],
    log,
  );
  if (!ok) return `apt-get could not install ${pkg} (see dist/test-logs/${log})`;
  return existsSync(path) ? undefined : `apt-get installed ${pkg}, but ${path} is still missing`;
}
let aptUpdated: Promise<boolean> | undefined;

const needs = new Map<Need, Promise<string | undefined>>();
/** Resolves to undefined when the runtime is there (installing it if it can), else why not. */
function need(name: Need): Promise<string | undefined> {
  let pending = needs.get(name);
  if (!pending) {
    pending = (async () => {
      switch (name) {
        case "bun":
          return existsSync(BUN) ? undefined : `no Bun binary at ${BUN} (scripts/toolchain provides it on linux-x64)`;
        case "node22":
          return existsSync(NODE22) ? undefined : `no Node 22 at ${NODE22}`;
        case "node24":
          return existsSync(NODE24) ? undefined : `no Node 24 at ${NODE24}`;
        case "node20": {
          const { ok, text } = await probe(["node", "--version"]);
          if (!ok) return "no system node";
          // 20.19 is the first Node 20 whose require() loads ES modules, as the ESM-only package needs.
          const minor = /^v20\.(\d+)\./.exec(text)?.[1];
          return minor !== undefined && Number(minor) >= 19
            ? undefined
            : `the system node is ${text.trim()}, not Node 20.19 or a later Node 20`;
        }
        case "chromium":
          return existsSync(CHROMIUM) ? undefined : await aptInstall("chromium", CHROMIUM);
        case "redis":
          return existsSync(REDIS) ? undefined : await aptInstall("redis-server", REDIS);
      }
    })();
    needs.set(name, pending);
  }
  return pending;
}

// ---------------------------------------------------------------------------------------------
// The steps. Adding one is one line: a name, a command, and how to count (default: a check
// that passes when the command exits 0).

interface Step {
  readonly name: string;
  /** The command, or a function giving it when the step starts (for files an earlier step makes). */
  readonly cmd: readonly string[] | (() => string[] | Promise<string[]>);
  /** How to read the runner's counts; without it the step is one check, passed if it exits 0. */
  readonly count?: Counter;
  /** Runtimes and servers the step needs. */
  readonly needs?: readonly Need[];
  /** A step whose success this one depends on. */
  readonly after?: string;
}

/** The suite's files for `node --test`: portable and host tests, found by name. */
function testFiles(): string[] {
  const inDir = (dir: string) =>
    readdirSync(join(ROOT, dir)).filter((name) => name.endsWith("_test.ts")).sort().map((name) => `${dir}/${name}`);
  return [...inDir("tests"), ...(existsSync(join(ROOT, "tests/host")) ? inDir("tests/host") : [])];
}

/** The suite compiled against the built npm package, on `node` through `format`. */
const builtPackage = (node: string, format: "import" | "require") => async () =>
  (await import("./build_npm.ts")).packageSuiteCommand(node, format);

/** deno.json's exports: every public entry point. */
const ENTRY_POINTS: readonly string[] = Object.values(
  JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).exports as Record<string, string>,
).map((path) => path.replace(/^\.\//, ""));

const STEPS: readonly Step[] = [
  { name: "fmt", cmd: [DENO, "fmt", "--check"] },
  { name: "lint", cmd: [DENO, "lint"] },
  { name: "check", cmd: [DENO, "check", DEV, ...ENTRY_POINTS, "scripts/", "tests/"] },
  { name: "doc-lint", cmd: [DENO, "doc", "--lint", ...ENTRY_POINTS] },
  { name: "publish-dry-run", cmd: [DENO, "publish", "--dry-run", "--allow-dirty"] },
  {
    name: "deno",
    cmd: [DENO, "test", "-A", "--unstable-kv", DEV, "--doc", "tests/", "mod.ts", "src/", "README.md"],
    count: denoTest,
    needs: ["redis"],
  },
  { name: "bun", cmd: [BUN, "test", "./tests/"], count: bunTest, needs: ["bun", "redis"] },
  {
    name: "node22",
    cmd: () => [NODE22, "--test", "--test-reporter=tap", ...testFiles()],
    count: nodeTap,
    needs: ["node22", "redis"],
  },
  {
    name: "node24",
    cmd: () => [NODE24, "--test", "--test-reporter=tap", ...testFiles()],
    count: nodeTap,
    needs: ["node24", "redis"],
  },
  { name: "npm build", cmd: [DENO, "run", "-A", DEV, "scripts/build_npm.ts", "--no-test"] },
  {
    name: "node20 npm import",
    cmd: builtPackage("node", "import"),
    count: nodeTap,
    needs: ["node20"],
    after: "npm build",
  },
  {
    name: "node20 npm require",
    cmd: builtPackage("node", "require"),
    count: nodeTap,
    needs: ["node20"],
    after: "npm build",
  },
  {
    name: "node22 npm import",
    cmd: builtPackage(NODE22, "import"),
    count: nodeTap,
    needs: ["node22"],
    after: "npm build",
  },
  {
    name: "node22 npm require",
    cmd: builtPackage(NODE22, "require"),
    count: nodeTap,
    needs: ["node22"],
    after: "npm build",
  },
  {
    name: "node24 npm import",
    cmd: builtPackage(NODE24, "import"),
    count: nodeTap,
    needs: ["node24"],
    after: "npm build",
  },
  {
    name: "node24 npm require",
    cmd: builtPackage(NODE24, "require"),
    count: nodeTap,
    needs: ["node24"],
    after: "npm build",
  },
  { name: "workerd", cmd: [DENO, "run", "-A", DEV, "scripts/run_workerd.ts"], count: plainLine },
  { name: "chromium", cmd: [DENO, "run", "-A", DEV, "scripts/run_browser.ts"], count: plainLine, needs: ["chromium"] },
  { name: "core guards", cmd: [DENO, "run", "-A", DEV, "scripts/check_core.ts"] },
  { name: "core DOM types", cmd: ["node", TSC, "-p", "scripts/tsconfig.core.json"] },
  { name: "size budget", cmd: [DENO, "run", "-A", DEV, "scripts/size.ts"], count: plainLine },
  { name: "demo", cmd: [DENO, "task", "demo"] },
  {
    name: "bench (quick)",
    cmd: [DENO, "run", "-A", "--unstable-kv", DEV, "scripts/bench.ts", "--quick"],
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

const started = performance.now();
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
  const problem = checkDevImportMap();
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

let passed = 0;
let failed = 0;
const failedSteps: string[] = [];
const skippedSteps: string[] = [];
const steps = ONLY ? STEPS.filter((step) => ONLY.includes(step.name)) : STEPS;

for (const [index, step] of steps.entries()) {
  const since = performance.now();
  const logPath = join(LOGS, `${String(index + 1).padStart(2, "0")}-${step.name.replaceAll(" ", "-")}.log`);
  let missing: string | undefined;
  for (const name of step.needs ?? []) missing ??= await need(name);
  if (missing !== undefined) {
    if (CI) {
      console.log(`${step.name}: SKIPPED, which CI=true does not allow: ${missing}`);
      console.log(`${step.name}: 0 passed, 1 failed`);
      failed++;
      failedSteps.push(step.name);
    } else {
      console.log(`${step.name}: SKIPPED (${missing})`);
      skippedSteps.push(step.name);
    }
    continue;
  }
  if (step.after && failedSteps.includes(step.after)) {
    console.log(`${step.name}: 0 passed, 1 failed (not run: ${step.after} failed)`);
    failed++;
    failedSteps.push(step.name);
    continue;
  }
  let result: { code: number; text: string };
  try {
    const cmd = typeof step.cmd === "function" ? await step.cmd() : step.cmd;
    result = await runLogged(cmd, logPath);
  } catch (error) {
    result = { code: -1, text: String(error) };
    writeFileSync(logPath, result.text);
  }
  let counts: Counts;
  if (step.count) {
    counts = step.count(result.text) ?? { passed: 0, failed: 0 };
    // A runner that failed without counting a failure, or passed without running a test, failed.
    if (result.code !== 0 && counts.failed === 0) counts.failed = 1;
    if (result.code === 0 && counts.passed === 0 && counts.failed === 0) counts.failed = 1;
  } else {
    counts = result.code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
  }
  passed += counts.passed;
  failed += counts.failed;
  console.log(`${step.name}: ${counts.passed} passed, ${counts.failed} failed (${seconds(since)})`);
  if (counts.failed > 0) {
    failedSteps.push(step.name);
    console.log(`  ${step.name} failed; the end of its log (${logPath}):\n${tail(result.text)}`);
  } else if (VERBOSE) {
    console.log(tail(result.text, 10));
  }
}

console.log("");
if (skippedSteps.length > 0) console.log(`skipped: ${skippedSteps.join(", ")}`);
console.log(failedSteps.length > 0 ? `failed steps: ${failedSteps.join(", ")}` : `all ${steps.length} steps passed`);
console.log(`time: ${seconds(started)}`);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);
