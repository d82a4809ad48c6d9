// Benchmarks: figures and ratios measured in one run on one machine, against bare WebCrypto, the
// official Node SDK (smile-identity-core@3.2.1) and our own floors. Not a test: it prints the
// generated tables, and judges the targets of BENCHMARKS.md (PASS/MISS) except in quick mode.
//
//   deno task bench                 full run (about 4-6 minutes on 2 cores), prints the tables
//   deno task bench --quick         a few seconds per part: proves it works, judges nothing
//   deno task bench --write         full run, and rewrites the generated regions of BENCHMARKS.md
//   deno task bench --only=handler  the callback handler section alone (with --write: its regions,
//                                   its lines of the target list, and the handler's own run line)
//
// BENCHMARKS.md is written by hand except for its regions between `<!-- bench:NAME -->` and
// `<!-- /bench -->`, which --write replaces with this run's tables (REGIONS below). A region this
// script makes but the file lacks, or the reverse, stops --write before anything is written.
//
// Deno is measured in this process; Node 22 and Bun in child processes (scripts/bench/_child.ts),
// one runtime at a time so that they never compete for the CPU. Work files go to .bench/. The
// callback handler's load test (scripts/bench/_handler.ts) runs in Deno (with Deno KV, so the task
// passes --unstable-kv) and in Node 22, and starts its own redis-server when one is installed.

import { createClient } from "../../src/client.ts";
import { waitForJobStatus, type WaitForJobStatusOptions } from "../../src/poll.ts";
import { createFakeSmileId } from "../../src/testing/mod.ts";
import { API_KEY, PARTNER_ID, runSuite, type SuiteResult, TIMESTAMP } from "./_suite.ts";
import { FLOOR_OF, type HandlerCaseId, type HandlerResult, kvUnavailable, runHandlerBench } from "./_handler.ts";
import { ENTRIES, measure, type Measured, stop as stopEsbuild } from "../size.ts";
import { BUN, NODE22 } from "../_toolchain.ts";
import { capture } from "../_run.ts";
import { gzipSync } from "node:zlib";

const ROOT = new URL("../..", import.meta.url).pathname;
const WORK = `${ROOT}.bench/`;
const ESBUILD = `${ROOT}node_modules/.bin/esbuild`;
const OFFICIAL_DIR = `${ROOT}node_modules/smile-identity-core/`;

const flags = new Set(Deno.args);
for (const flag of flags) {
  if (!["--quick", "--write", "--only=handler"].includes(flag)) {
    console.error(`Unknown option ${JSON.stringify(flag)}: expected --quick, --write and/or --only=handler`);
    Deno.exit(2);
  }
}
const QUICK = flags.has("--quick");
const HANDLER_ONLY = flags.has("--only=handler");
const WRITE = flags.has("--write");
if (QUICK && WRITE) {
  console.error("--write records a full run; run it without --quick");
  Deno.exit(2);
}
if (kvUnavailable()) {
  console.error(kvUnavailable());
  Deno.exit(2);
}

/** The targets, judged on ratios measured in this run. */
const OVERHEAD_MAX = 1.15;
const COLD_IMPORT_MAX = 0.12;

// ---------------------------------------------------------------------------------------------
// Small helpers

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function fmtOps(ops: number): string {
  if (ops >= 100_000) return `${Math.round(ops / 1000)}k`;
  if (ops >= 10_000) return `${(ops / 1000).toFixed(1)}k`;
  if (ops >= 1000) return `${(ops / 1000).toFixed(2)}k`;
  return ops.toFixed(ops >= 100 ? 0 : 1);
}

const fmtRatio = (ratio: number) => `${ratio.toFixed(2)}×`;
const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const fmtLatency = (ms: number) => (ms >= 10 ? fmtMs(ms) : ms.toFixed(2));
const fmtBytes = (bytes: number) => `${bytes.toLocaleString("en-US")} B`;
const modeName = (mode: string) => (mode === "seq" ? "one at a time" : "64 in flight");

/** One judged target: what, whether it passed, and the measured figure with its reason. */
interface Verdict {
  readonly what: string;
  readonly pass: boolean;
  readonly clause: string;
}
const verdicts: Verdict[] = [];

/** Records a target and returns its table cell: PASS, **MISS**, or a note in quick mode. */
function judge(what: string, pass: boolean, clause: string): string {
  verdicts.push({ what, pass, clause });
  return QUICK ? "(quick: not judged)" : pass ? "PASS" : "**MISS**";
}

/** Runs a program in the repository and returns its stdout; throws, naming `what`, if it fails. */
async function run(command: string, args: string[], what: string): Promise<string> {
  const output = await capture([command, ...args], { cwd: ROOT });
  if (!output.success) throw new Error(`${what} failed (exit ${output.code}):\n${output.stderr}\n${output.stdout}`);
  return output.stdout;
}

function progress(message: string): void {
  console.error(`[bench] ${message}`);
}

/** A Markdown table from its header cells, alignment ("l" or "r" per column) and rows. */
function table(header: string[], align: string, rows: string[][]): string[] {
  return [
    `| ${header.join(" | ")} |`,
    `|${[...align].map((a) => (a === "r" ? "---:" : "---")).join("|")}|`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ];
}

// ---------------------------------------------------------------------------------------------
// Machine and versions

async function machine(started: Date, seconds: number, load: [string, string]): Promise<string[]> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const memKb = Number(/^MemTotal:\s*(\d+)/m.exec(meminfo)?.[1] ?? NaN);
  const pkg = async (path: string) => JSON.parse(await Deno.readTextFile(`${ROOT}${path}/package.json`)).version;
  const rows: [string, string][] = [
    ["cpus", `${(await run("nproc", [], "nproc")).trim()} (nproc)`],
    ["cpu", /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown"],
    ["memory", Number.isFinite(memKb) ? `${(memKb / 1024 / 1024).toFixed(1)} GiB` : "unknown"],
    ["os", `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`],
    ["Deno", `${Deno.version.deno} (V8 ${Deno.version.v8})`],
    ["Node 22", (await run(NODE22, ["--version"], "node22 --version")).trim()],
    ["Bun", (await run(BUN, ["--version"], "bun --version")).trim()],
    ["workerd (miniflare)", `miniflare ${await pkg("node_modules/miniflare")}`],
    ["esbuild", await pkg("node_modules/esbuild")],
    ["official SDK", `smile-identity-core ${await pkg("node_modules/smile-identity-core")}`],
    ["command", `\`deno task bench${QUICK ? " --quick" : WRITE ? " --write" : ""}\``],
    ["date", started.toISOString()],
    ["duration", `${seconds.toFixed(0)} s`],
    ["load average before / after", `${load[0]} / ${load[1]}`],
  ];
  return table(["", ""], "ll", rows);
}

function loadavg(): string {
  return Deno.loadavg().map((n) => n.toFixed(2)).join(" ");
}

// ---------------------------------------------------------------------------------------------
// Throughput: signing, verifying, callbacks in Deno, Node 22 and Bun

async function throughput(): Promise<SuiteResult[]> {
  const results: SuiteResult[] = [];
  progress("throughput: Deno (in this process)");
  results.push(await runSuite({ runtime: "Deno", quick: QUICK }));
  progress("throughput: Node 22 with the official SDK in the same process");
  const child = (runtime: string, official: boolean) =>
    JSON.stringify({ runtime, quick: QUICK, ...(official ? { official } : {}) });
  results.push(JSON.parse(await run(NODE22, ["scripts/bench/_child.ts", child("Node 22", true)], "Node 22 suite")));
  progress("throughput: Bun");
  results.push(JSON.parse(await run(BUN, ["scripts/bench/_child.ts", child("Bun", false)], "Bun suite")));
  return results;
}

function rounds(suite: SuiteResult, id: string): number[] {
  const found = suite.cases.find((c) => c.id === id);
  if (!found) throw new Error(`${suite.runtime} has no case ${id}`);
  return found.rounds;
}

/** Median ops/s of a case. */
const ops = (suite: SuiteResult, id: string) => median(rounds(suite, id));

/**
 * Median over rounds of `numerator ops/s ÷ denominator ops/s`, paired round by round (the cases of
 * one round ran back to back, so drift in machine load cancels out).
 */
function pairedRatio(suite: SuiteResult, numerator: string, denominator: string): number {
  const b = rounds(suite, denominator);
  return median(rounds(suite, numerator).map((x, i) => x / b[i]!));
}

/** Cost ratio (time per operation) of `slower` over `faster`: the ops/s ratio the other way up. */
const cost = (suite: SuiteResult, faster: string, slower: string) => pairedRatio(suite, faster, slower);

function overheadTable(suites: SuiteResult[]): string[] {
  const rows: string[][] = [];
  for (const suite of suites) {
    for (const op of ["sign", "verify"]) {
      for (const mode of ["seq", "c64"]) {
        const [bare, base64, ours] = ["bare", "base64", "ours"].map((impl) => `${op}.${impl}.${mode}`) as [
          string,
          string,
          string,
        ];
        const total = cost(suite, bare, ours);
        const std = cost(suite, bare, base64);
        const own = cost(suite, base64, ours);
        const verdict = judge(
          `${suite.runtime} ${op}, ${modeName(mode)}: ours ≤ ${OVERHEAD_MAX}× bare WebCrypto`,
          total <= OVERHEAD_MAX,
          total <= OVERHEAD_MAX
            ? fmtRatio(total)
            : `${fmtRatio(total)}; bare WebCrypto with std's base64 alone is ${fmtRatio(std)}, our code on top ${
              fmtRatio(own)
            }`,
        );
        rows.push([
          suite.runtime,
          op,
          modeName(mode),
          fmtOps(ops(suite, bare)),
          fmtOps(ops(suite, base64)),
          fmtOps(ops(suite, ours)),
          fmtRatio(total),
          verdict,
          fmtRatio(std),
          fmtRatio(own),
        ]);
      }
    }
  }
  return table(
    [
      "runtime",
      "operation",
      "mode",
      "bare WebCrypto ops/s",
      "bare + std base64 ops/s",
      "ours ops/s",
      "ours ÷ bare (cost)",
      `target ≤ ${OVERHEAD_MAX}×`,
      "of which std base64: (bare + base64) ÷ bare",
      "our code: ours ÷ (bare + base64)",
    ],
    "lllrrrrlrr",
    rows,
  );
}

function oneShotTable(suites: SuiteResult[]): string[] {
  return table(
    [
      "runtime",
      "mode",
      "`signer.verify` (key cached) ops/s",
      "`verifySignature()` (key imported per call) ops/s",
      "cost one-shot ÷ cached",
    ],
    "llrrr",
    suites.flatMap((suite) =>
      ["seq", "c64"].map((mode) => [
        suite.runtime,
        modeName(mode),
        fmtOps(ops(suite, `verify.ours.${mode}`)),
        fmtOps(ops(suite, `verify.oneshot.${mode}`)),
        fmtRatio(cost(suite, `verify.ours.${mode}`, `verify.oneshot.${mode}`)),
      ])
    ),
  );
}

function callbackTable(suites: SuiteResult[]): string[] {
  const rows: string[][] = [];
  for (const suite of suites) {
    for (const size of ["3k", "1500k"]) {
      for (const mode of ["seq", "c64"]) {
        const official = `cb${size}.official.${mode}`;
        rows.push([
          suite.runtime,
          size === "3k" ? "3 kB" : "1.5 MB",
          modeName(mode),
          fmtOps(ops(suite, `cb${size}.floor.${mode}`)),
          fmtOps(ops(suite, `cb${size}.ours.${mode}`)),
          fmtRatio(cost(suite, `cb${size}.floor.${mode}`, `cb${size}.ours.${mode}`)),
          suite.cases.some((c) => c.id === official) ? fmtOps(ops(suite, official)) : "—",
        ]);
      }
    }
  }
  return table(
    [
      "runtime",
      "body",
      "mode",
      "floor ops/s (parse + bare verify)",
      "ours ops/s (verify + validate)",
      "cost ours ÷ floor",
      "official ops/s (parse + confirm)",
    ],
    "lllrrrr",
    rows,
  );
}

function guardTable(suites: SuiteResult[]): string[] {
  return table(
    [
      "runtime",
      "default replay guard, full (10000 keys): begin one new key",
      "µs per begin",
      "3 kB callback, ours, one at a time",
      "µs per callback",
    ],
    "lrrrr",
    suites.map((suite) => {
      const guard = ops(suite, "guard.full.seq");
      const cb = ops(suite, "cb3k.ours.seq");
      return [
        suite.runtime,
        `${fmtOps(guard)} ops/s`,
        (1e6 / guard).toFixed(1),
        `${fmtOps(cb)} ops/s`,
        (1e6 / cb).toFixed(1),
      ];
    }),
  );
}

/** Retired target (context): ours against the official SDK in Node 22, same process. */
function officialTable(node: SuiteResult): string[] {
  const rows: [string, string, string][] = [
    ["sign: cached signer vs `generate_signature`", "sign", "c64"],
    ["sign", "sign", "seq"],
    ["verify: cached signer vs `confirm_signature`", "verify", "c64"],
    ["verify", "verify", "seq"],
    ["callback 3 kB: ours validates, official parses + confirms", "cb3k", "c64"],
    ["callback 3 kB", "cb3k", "seq"],
    ["callback 1.5 MB", "cb1500k", "c64"],
    ["callback 1.5 MB", "cb1500k", "seq"],
  ];
  return table(
    [
      "operation",
      "mode",
      "ours ops/s",
      "official ops/s (synchronous)",
      "ours ÷ official",
      "bare WebCrypto (or floor) ÷ official",
    ],
    "llrrrr",
    rows.map(([what, op, mode]) => {
      const floor = op.startsWith("cb") ? `${op}.floor.${mode}` : `${op}.bare.${mode}`;
      return [
        what,
        modeName(mode),
        fmtOps(ops(node, `${op}.ours.${mode}`)),
        fmtOps(ops(node, `${op}.official.${mode}`)),
        fmtRatio(pairedRatio(node, `${op}.ours.${mode}`, `${op}.official.${mode}`)),
        fmtRatio(pairedRatio(node, floor, `${op}.official.${mode}`)),
      ];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// The callback handler under load (scripts/bench/_handler.ts), in Deno and in Node 22

interface HandlerRun {
  readonly runtime: string;
  readonly result: HandlerResult;
}

/** Starts the fake Smile ID of the confirm cases in a Node 22 process of its own; resolves its base URL. */
async function startBenchFake(): Promise<{ base: string; stop: () => Promise<void> }> {
  const child = new Deno.Command(NODE22, {
    args: ["scripts/bench/_fake.ts"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("the benchmark's fake Smile ID exited before printing its URL");
    line += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const { url } = JSON.parse(line.slice(0, line.indexOf("\n"))) as { url: string };
  return {
    base: url,
    stop: async () => {
      await child.stdin.close();
      await child.status;
    },
  };
}

async function handlers(): Promise<HandlerRun[]> {
  const fake = await startBenchFake();
  try {
    progress(`handler: Deno (in this process), the fake Smile ID at ${fake.base} (Node 22)`);
    const deno = await runHandlerBench({ quick: QUICK, progress, fakeBase: fake.base });
    progress("handler: Node 22");
    const args = JSON.stringify({ runtime: "Node 22", quick: QUICK, handler: true, fakeBase: fake.base });
    const node = JSON.parse(await run(NODE22, ["scripts/bench/_child.ts", args], "Node 22 handler")) as HandlerResult;
    return [{ runtime: "Deno", result: deno }, { runtime: "Node 22", result: node }];
  } finally {
    await fake.stop();
  }
}

const HANDLER_ROWS: Record<HandlerCaseId, string> = {
  floor: "floor: `verifyCallback` alone (`replayGuard: false`)",
  answer: "floor + `Response.json(…)`: what any handler pays before its own work",
  memory: "handler, in-memory guard (`createMemoryReplayGuard`)",
  "redis-floor": "Redis floor: `verifyCallback` + one `SET … NX EX` + `Response.json(…)`",
  redis: "handler, Redis guard (`createRedisReplayGuard`, node-redis)",
  "kv-floor": "Deno KV floor: `verifyCallback` + one atomic commit + `Response.json(…)`",
  kv: "handler, Deno KV guard (`createKvReplayGuard`, SQLite file)",
  "confirm-floor": "confirm floor over HTTP: `verifyCallback` + `getJobStatus` + `Response.json(…)`",
  confirm: "handler with `confirm` over HTTP, in-memory guard",
};

/** The targets: each handler case against its floor, req/s (and p99 for confirm). */
const HANDLER_TARGETS: Partial<Record<HandlerCaseId, { rps: number; p99?: number; what: string }>> = {
  memory: { rps: 0.8, what: "in-memory guard ÷ verifyCallback alone" },
  redis: { rps: 0.6, what: "Redis guard ÷ (verifyCallback + one SET NX + Response.json)" },
  kv: { rps: 0.4, what: "Deno KV guard ÷ (verifyCallback + one atomic commit + Response.json)" },
  confirm: { rps: 0.7, p99: 1.5, what: "confirm over HTTP ÷ the bare confirming handler" },
};

/** Median over rounds of `pick(case) ÷ pick(its floor)`, paired round by round. */
function handlerRatio(
  result: HandlerResult,
  id: HandlerCaseId,
  pick: (r: HandlerResult["cases"][number]["rounds"][number]) => number,
) {
  const floor = result.cases.find((c) => c.id === (FLOOR_OF[id] ?? "floor"))!.rounds;
  return median(result.cases.find((c) => c.id === id)!.rounds.map((r, i) => pick(r) / pick(floor[i]!)));
}

function handlerTable(runs: HandlerRun[]): string[] {
  const rows: string[][] = [];
  for (const { runtime, result } of runs) {
    for (const c of result.cases) {
      if (c.skipped) {
        if (!c.id.startsWith("kv") || runtime === "Deno") {
          rows.push([runtime, HANDLER_ROWS[c.id], c.skipped, "", "", "", "", ""]);
        }
        continue;
      }
      const floorOf = FLOOR_OF[c.id];
      const floorSkipped = floorOf !== undefined && result.cases.find((f) => f.id === floorOf)!.skipped;
      const share = floorOf === undefined || floorSkipped ? undefined : handlerRatio(result, c.id, (r) => r.rps);
      const p99 = share === undefined ? undefined : handlerRatio(result, c.id, (r) => r.p99Ms);
      let verdict = "";
      const target = HANDLER_TARGETS[c.id];
      if (target && share !== undefined && p99 !== undefined) {
        const pass = share >= target.rps && (target.p99 === undefined || p99 <= target.p99);
        verdict = judge(
          `${runtime} callback handler, 64 in flight, ${target.what}: req/s ≥ ${target.rps}×${
            target.p99 === undefined ? "" : `, p99 ≤ ${target.p99}×`
          }`,
          pass,
          `${fmtRatio(share)}${target.p99 === undefined ? "" : `, p99 ${fmtRatio(p99)}`}`,
        );
      }
      rows.push([
        runtime,
        HANDLER_ROWS[c.id],
        fmtOps(median(c.rounds.map((r) => r.rps))),
        fmtLatency(median(c.rounds.map((r) => r.p50Ms))),
        fmtLatency(median(c.rounds.map((r) => r.p99Ms))),
        share === undefined ? "—" : fmtRatio(share),
        p99 === undefined ? "—" : fmtRatio(p99),
        verdict,
      ]);
    }
  }
  return table(
    ["runtime", "what", "req/s", "p50 ms", "p99 ms (64 in flight)", "req/s ÷ its floor", "p99 ÷ its floor", "target"],
    "llrrrrrl",
    rows,
  );
}

function handlerSetup(runs: HandlerRun[]): string[] {
  const { result } = runs[0]!;
  const redis = result.cases.find((c) => c.id === "redis")!;
  return table(["", ""], "ll", [
    ["deliveries in flight", String(result.concurrency)],
    ["rounds per case (after untimed deliveries)", `${result.rounds}, interleaved (after ${result.warmup})`],
    [
      "deliveries per round",
      runs.map((r) =>
        `${r.runtime}: ${r.result.cases.filter((c) => !c.skipped).map((c) => `${c.id} ${c.batch}`).join(", ")}`
      ).join("; "),
    ],
    ["body", `${result.bodyBytes} bytes (the 3 kB callback)`],
    [
      "Redis",
      redis.skipped ??
        `redis-server ${result.redisVersion ?? "?"} on 127.0.0.1, node-redis ${result.nodeRedisVersion ?? "?"}`,
    ],
  ]);
}

/** Store operations per delivery, counted through wrappers of the real clients. */
function handlerOperations(runs: HandlerRun[]): string[] {
  const rows: string[][] = [];
  for (const { runtime, result } of runs) {
    for (const o of result.operations) {
      rows.push([runtime, o.store, o.unit, o.first, o.duplicate, o.exact]);
    }
  }
  return table(
    [
      "runtime",
      "guard",
      "counted",
      "genuine first delivery",
      "duplicate (another body under its pair)",
      "the same bytes again",
    ],
    "lllrrr",
    rows,
  );
}

// ---------------------------------------------------------------------------------------------
// Cold start

interface ColdVariant {
  readonly name: string;
  readonly runtime: string;
  readonly command: string;
  readonly args: string[];
}

interface ColdSample {
  /** Spawn to the "verified" line on stdout, measured here. */
  readonly wallMs: number;
  /** Inside the child: runtime time origin to verified. */
  readonly originMs: number;
  /** Inside the child: start of the entry script to verified (import + first verification). */
  readonly importMs: number;
}

async function timedSpawn(variant: ColdVariant): Promise<ColdSample> {
  const start = performance.now();
  const child = new Deno.Command(variant.command, {
    args: variant.args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let wallMs: number | undefined;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
    if (wallMs === undefined && text.includes("\n")) wallMs = performance.now() - start;
  }
  const status = await child.status;
  const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
  if (!status.success || wallMs === undefined) {
    throw new Error(`Cold start ${variant.name} failed (exit ${status.code}): ${stderr}${text}`);
  }
  const line = JSON.parse(text.trim().split("\n").pop()!) as { ok: boolean; startMs: number; doneMs: number };
  if (line.ok !== true) throw new Error(`Cold start ${variant.name} did not verify`);
  return { wallMs, originMs: line.doneMs, importMs: line.doneMs - line.startMs };
}

async function esbuild(args: string[], what: string): Promise<void> {
  await run(ESBUILD, [...args, "--log-level=warning"], `esbuild ${what}`);
}

interface Cold {
  readonly results: ColdResult[];
  readonly workerd: WorkerdResult;
  /** The npm build's import entry, relative to the repository, when there is a build. */
  readonly npmEntry: string | undefined;
}

interface ColdResult {
  readonly variant: ColdVariant;
  readonly samples: ColdSample[];
}

interface WorkerdResult {
  readonly empty: { readyMs: number; firstMs: number; totalMs: number }[];
  readonly ours: { readyMs: number; firstMs: number; totalMs: number }[];
}

/**
 * The file that `import "smile-id-job-status"` loads from the npm build: `exports["."]` of
 * npm/package.json, its `import` condition (then `default`) followed through nested conditions.
 * Undefined when there is no build (`deno task build:npm` makes one).
 */
async function npmImportEntry(): Promise<string | undefined> {
  const manifest = await Deno.readTextFile(`${ROOT}npm/package.json`).then(JSON.parse, () => undefined);
  let target: unknown = manifest?.exports?.["."] ?? manifest?.module ?? manifest?.main;
  while (typeof target === "object" && target !== null) {
    const conditions = target as Record<string, unknown>;
    target = conditions.import ?? conditions.node ?? conditions.default;
  }
  if (typeof target !== "string") return undefined;
  const path = new URL(target, `file://${ROOT}npm/`).pathname;
  return await Deno.stat(path).then(() => path, () => undefined);
}

async function coldStart(): Promise<Cold> {
  const dir = `${WORK}cold/`;
  await Deno.mkdir(dir, { recursive: true });
  // What a Node user runs is JavaScript: the npm build when it exists, and always our sources
  // bundled into one unminified ESM file (valibot included).
  await esbuild(
    [`${ROOT}mod.ts`, "--bundle", "--format=esm", "--platform=neutral", `--outfile=${dir}ours.mjs`],
    "cold",
  );
  const npmEntry = await npmImportEntry();
  const entry = "scripts/bench/_cold.mjs";
  const variants: ColdVariant[] = [
    { name: "official", runtime: "Node 22", command: NODE22, args: [entry, "official", "smile-identity-core"] },
    { name: "ours-bundle", runtime: "Node 22", command: NODE22, args: [entry, "ours", `${dir}ours.mjs`] },
    ...(npmEntry ? [{ name: "ours-npm", runtime: "Node 22", command: NODE22, args: [entry, "ours", npmEntry] }] : []),
    { name: "ours-ts", runtime: "Node 22", command: NODE22, args: [entry, "ours", `${ROOT}mod.ts`] },
    { name: "empty", runtime: "Node 22", command: NODE22, args: [entry, "empty"] },
    { name: "ours-ts", runtime: "Deno", command: Deno.execPath(), args: ["run", "-A", entry, "ours", `${ROOT}mod.ts`] },
    { name: "empty", runtime: "Deno", command: Deno.execPath(), args: ["run", "-A", entry, "empty"] },
    { name: "ours-ts", runtime: "Bun", command: BUN, args: [entry, "ours", `${ROOT}mod.ts`] },
    { name: "ours-bundle", runtime: "Bun", command: BUN, args: [entry, "ours", `${dir}ours.mjs`] },
    { name: "empty", runtime: "Bun", command: BUN, args: [entry, "empty"] },
  ];
  const reps = QUICK ? 3 : 21;
  const results: ColdResult[] = variants.map((variant) => ({ variant, samples: [] }));
  progress(`cold start: ${variants.length} variants × ${reps} fresh processes`);
  for (const result of results) await timedSpawn(result.variant); // warm disk and transpile caches
  for (let i = 0; i < reps; i++) {
    for (const result of results) result.samples.push(await timedSpawn(result.variant));
  }

  progress("cold start: workerd through miniflare");
  await esbuild([
    `${ROOT}scripts/bench/_worker.ts`,
    "--bundle",
    "--format=esm",
    "--platform=neutral",
    `--outfile=${dir}worker_ours.js`,
  ], "worker");
  await Deno.writeTextFile(
    `${dir}worker_empty.js`,
    'export default { fetch() { return new Response("verified"); } };\n',
  );
  const workerd = JSON.parse(
    await run(NODE22, [
      "scripts/bench/_workerd.mjs",
      JSON.stringify({
        workers: { empty: `${dir}worker_empty.js`, ours: `${dir}worker_ours.js` },
        reps: QUICK ? 2 : 15,
      }),
    ], "workerd cold start"),
  ) as WorkerdResult;
  return { results, workerd, npmEntry: npmEntry?.slice(ROOT.length) };
}

function coldTable(cold: Cold): string[] {
  const labels: Record<string, string> = {
    "official": "official SDK: `require('smile-identity-core')`, `confirm_signature`",
    "ours-bundle": "ours: one ESM file (esbuild bundle of mod.ts, not minified), `verifySignature`",
    "ours-npm": `ours: the npm build's import entry (\`${cold.npmEntry}\`), \`verifySignature\``,
    "ours-ts": "ours: TypeScript sources (`mod.ts`), `verifySignature`",
    "empty": "the runtime alone (entry script that imports nothing)",
  };
  const m = (samples: ColdSample[], k: keyof ColdSample) => median(samples.map((s) => s[k]));
  const official = cold.results.find((r) => r.variant.name === "official")!.samples;
  const rows = cold.results.map(({ variant, samples }) => [
    variant.runtime,
    labels[variant.name]!,
    fmtMs(m(samples, "wallMs")),
    fmtMs(m(samples, "importMs")),
    variant.runtime === "Node 22" && variant.name !== "official"
      ? `${fmtRatio(m(samples, "wallMs") / m(official, "wallMs"))} / ${
        fmtRatio(m(samples, "importMs") / m(official, "importMs"))
      }`
      : "",
  ]);
  for (const name of ["empty", "ours"] as const) {
    const samples = cold.workerd[name];
    rows.push([
      "workerd",
      name === "ours" ? "ours: worker bundle calling `verifySignature` on its first request" : "an empty worker",
      fmtMs(median(samples.map((s) => s.totalMs))),
      `${fmtMs(median(samples.map((s) => s.firstMs)))} (first request only)`,
      "",
    ]);
  }
  return table(
    [
      "runtime",
      "what",
      "fresh process → verified, wall ms (median)",
      "of which import + first verification, ms (median)",
      "ratio to official (wall / import)",
    ],
    "llrrl",
    rows,
  );
}

/** The judged cold-start figure (import + first verification) and the retired wall-clock one. */
function coldFigures(cold: Cold): { target: string[]; context: string[][] } {
  const pick = (name: string) => cold.results.find((r) => r.variant.runtime === "Node 22" && r.variant.name === name);
  const m = (r: ColdResult, k: keyof ColdSample) => median(r.samples.map((s) => s[k]));
  const official = pick("official")!;
  const ours = pick("ours-npm") ?? pick("ours-bundle")!;
  const empty = pick("empty")!;
  const form = cold.npmEntry ? `npm build, \`${cold.npmEntry}\`` : "no npm build: the one-file bundle";
  const importRatio = m(ours, "importMs") / m(official, "importMs");
  const verdict = judge(
    `Node 22 cold start, import + first verification (${form}): ≤ ${COLD_IMPORT_MAX}× official`,
    importRatio <= COLD_IMPORT_MAX,
    `${importRatio.toFixed(3)}× (${fmtMs(m(ours, "importMs"))} ms against ${fmtMs(m(official, "importMs"))} ms)`,
  );
  const wallRatio = m(ours, "wallMs") / m(official, "wallMs");
  return {
    target: table(
      ["measure (Node 22)", "ours ms", "official ms", "ratio", `target ≤ ${COLD_IMPORT_MAX}×`],
      "lrrrl",
      [[
        `import + first verification (${form}), inside the process after Node's start-up`,
        fmtMs(m(ours, "importMs")),
        fmtMs(m(official, "importMs")),
        `${importRatio.toFixed(3)}×`,
        verdict,
      ]],
    ),
    context: [
      [
        "Node 22 cold start, wall clock (fresh process → first verified signature)",
        "≤ 0.20× official",
        `${wallRatio.toFixed(3)}× (${fmtMs(m(ours, "wallMs"))} ms against ${fmtMs(m(official, "wallMs"))} ms)`,
        `Node with an entry that imports nothing takes ${fmtMs(m(empty, "wallMs"))} ms, ${
          fmtRatio(m(empty, "wallMs") / m(official, "wallMs"))
        } of the official's wall time`,
      ],
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Bundle sizes (the entries and the measurement of scripts/size.ts, the CI "size budget" step)

interface BundleRow {
  readonly label: string;
  readonly target?: number;
  readonly budget?: number;
  readonly measured: Measured;
}

async function bundles(): Promise<BundleRow[]> {
  progress("bundle sizes");
  const rows: BundleRow[] = [];
  try {
    for (const entry of ENTRIES) rows.push({ ...entry, measured: await measure(entry.source) });
  } finally {
    await stopEsbuild();
  }
  const out = `${WORK}official.js`;
  await esbuild(
    [`${OFFICIAL_DIR}dist/index.js`, "--bundle", "--minify", "--platform=node", `--outfile=${out}`],
    "official",
  );
  const bytes = await Deno.readFile(out);
  rows.push({
    label: "official SDK: `smile-identity-core` (platform node, axios and jszip included)",
    measured: { minified: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, inputs: {} },
  });
  return rows;
}

const dependencyBytes = (m: Measured) =>
  Object.entries(m.inputs).reduce((sum, [input, bytes]) => sum + (input.startsWith("src/") ? 0 : bytes), 0);

function bundleTable(rows: BundleRow[]): string[] {
  return table(
    ["bundle", "minified", "gzip -9", "target (gzip)", "CI budget (gzip)", "of the minified bytes: valibot + std"],
    "lrrlrr",
    rows.map(({ label, target, budget, measured }) => {
      const deps = dependencyBytes(measured);
      const verdict = target === undefined ? "" : `≤ ${fmtBytes(target)}: ${
        judge(
          `bundle ${label} ≤ ${fmtBytes(target)} gzip`,
          measured.gzip <= target,
          `${fmtBytes(measured.gzip)}${
            measured.gzip <= target
              ? ""
              : `; valibot and std are ${fmtBytes(deps)} of its ${fmtBytes(measured.minified)} minified`
          }`,
        )
      }`;
      return [
        label,
        fmtBytes(measured.minified),
        fmtBytes(measured.gzip),
        verdict,
        budget === undefined ? "" : fmtBytes(budget),
        Object.keys(measured.inputs).length ? fmtBytes(deps) : "",
      ];
    }),
  );
}

/** Minified bytes per input of the judged bundles (esbuild's metafile). */
function compositionTable(rows: BundleRow[]): string[] {
  const judged = rows.filter((r) => r.target !== undefined);
  const widest = judged[judged.length - 1]!.measured.inputs;
  const inputs = [...new Set(judged.flatMap((r) => Object.keys(r.measured.inputs)))]
    .sort((a, b) => (widest[b] ?? 0) - (widest[a] ?? 0));
  return table(
    ["input", ...judged.map((r) => r.label)],
    `l${"r".repeat(judged.length)}`,
    inputs.map((input) => [
      input === "valibot" || input.startsWith("@std") ? input : `\`${input}\``,
      ...judged.map((r) => String(r.measured.inputs[input] ?? 0)),
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Polling (context: its request-ratio targets are retired; the trade-off table serves users)

const JOB_SECONDS = [3, 10, 30, 60, 120];

/** The official SDK's schedule, read from its source (see officialScheduleCheck). */
function officialPoll(jobMs: number): { requests: number; delayMs?: number; gaveUpAtMs?: number } {
  // WebApi.submit_job → queryJobStatus: first call at once; after call k (counter k-1) it waits
  // 2 s while counter < 4, else 4 s; an incomplete answer on call 22 rejects with a timeout.
  let time = 0;
  for (let call = 1; call <= 22; call++) {
    if (time >= jobMs) return { requests: call, delayMs: time - jobMs };
    if (call < 22) time += call - 1 < 4 ? 2000 : 4000;
  }
  return { requests: 22, gaveUpAtMs: time };
}

/** The same schedule without its 22-call limit, for reference. */
function officialUncapped(jobMs: number): { requests: number; delayMs: number } {
  let time = 0;
  for (let call = 1;; call++) {
    if (time >= jobMs) return { requests: call, delayMs: time - jobMs };
    time += call - 1 < 4 ? 2000 : 4000;
  }
}

/** Confirms that the installed official SDK still has the constants the simulation uses. */
async function officialScheduleCheck(): Promise<string> {
  const source = await Deno.readTextFile(`${OFFICIAL_DIR}dist/src/web-api.js`);
  const waits = /const timeout = counter < 4 \? 2000 : 4000;/.test(source);
  const limit = /if \(updatedCounter > 21\)/.test(source);
  return waits && limit
    ? "confirmed in the installed `dist/src/web-api.js` (`counter < 4 ? 2000 : 4000`, `updatedCounter > 21`)"
    : "**could not be confirmed** in the installed `dist/src/web-api.js`: the simulation follows protocol §6";
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface PollRun {
  readonly requests: number;
  readonly delayMs?: number;
  readonly timedOut: boolean;
}

/** One waitForJobStatus run against the fake with a virtual clock: no real sleeping. */
async function pollOurs(jobMs: number, options: WaitForJobStatusOptions, random: () => number): Promise<PollRun> {
  let time = Date.parse(TIMESTAMP);
  const start = time;
  const clock = {
    now: () => time,
    sleep: (ms: number) => {
      time += ms;
      return Promise.resolve();
    },
  };
  const fake = createFakeSmileId({ partnerId: PARTNER_ID, apiKey: API_KEY, clock });
  fake.addJob({ userId: "user-1", jobId: "job-1", completesAfterMs: jobMs });
  const client = createClient({ partnerId: PARTNER_ID, apiKey: API_KEY, fetch: fake.fetch, clock });
  try {
    const status = await waitForJobStatus(client, { userId: "user-1", jobId: "job-1" }, { ...options, clock, random });
    if (!status.jobComplete) throw new Error("waitForJobStatus returned an incomplete status");
    return { requests: fake.requests.length, delayMs: time - start - jobMs, timedOut: false };
  } catch (error) {
    if ((error as { code?: string }).code !== "timeout") throw error;
    return { requests: fake.requests.length, timedOut: true };
  }
}

interface PollSummary {
  readonly requestsMedian: number;
  readonly requestsMax: number;
  readonly delayMedianMs: number | undefined;
  readonly delayMaxMs: number | undefined;
  readonly timeouts: number;
  readonly trials: number;
}

async function pollMany(jobMs: number, options: WaitForJobStatusOptions, trials: number): Promise<PollSummary> {
  const runs: PollRun[] = [];
  for (let seed = 1; seed <= trials; seed++) runs.push(await pollOurs(jobMs, options, mulberry32(seed)));
  const delays = runs.flatMap((r) => (r.delayMs === undefined ? [] : [r.delayMs]));
  return {
    requestsMedian: median(runs.map((r) => r.requests)),
    requestsMax: Math.max(...runs.map((r) => r.requests)),
    delayMedianMs: delays.length ? median(delays) : undefined,
    delayMaxMs: delays.length ? Math.max(...delays) : undefined,
    timeouts: runs.filter((r) => r.timedOut).length,
    trials,
  };
}

interface PollingResult {
  readonly trials: number;
  readonly check: string;
  readonly defaults: { seconds: number; ours: PollSummary }[];
  readonly tradeoff: { label: string; options: WaitForJobStatusOptions; perJob: PollSummary[] }[];
}

async function polling(): Promise<PollingResult> {
  progress("polling with the fake and a virtual clock");
  const trials = QUICK ? 3 : 41;
  const defaults: PollingResult["defaults"] = [];
  for (const seconds of JOB_SECONDS) defaults.push({ seconds, ours: await pollMany(seconds * 1000, {}, trials) });
  const choices: [string, WaitForJobStatusOptions][] = [
    ["1 s → 4 s", { intervalMs: 1000, maxIntervalMs: 4000 }],
    ["2 s → 8 s (default schedule)", {}],
    ["2 s → 10 s", { intervalMs: 2000, maxIntervalMs: 10_000 }],
    ["2 s → 12 s", { intervalMs: 2000, maxIntervalMs: 12_000 }],
    ["2 s → 15 s", { intervalMs: 2000, maxIntervalMs: 15_000 }],
    ["3 s → 10 s", { intervalMs: 3000, maxIntervalMs: 10_000 }],
    ["5 s → 15 s", { intervalMs: 5000, maxIntervalMs: 15_000 }],
    ["5 s → 30 s", { intervalMs: 5000, maxIntervalMs: 30_000 }],
  ];
  const tradeoff: PollingResult["tradeoff"] = [];
  for (const [label, options] of choices) {
    const perJob: PollSummary[] = [];
    for (const seconds of JOB_SECONDS) {
      perJob.push(await pollMany(seconds * 1000, { ...options, timeoutMs: 300_000 }, trials));
    }
    tradeoff.push({ label, options, perJob });
  }
  return { trials, check: await officialScheduleCheck(), defaults, tradeoff };
}

/** The request targets of BENCHMARKS.md: share of the official schedule's requests, by job length. */
function requestLimit(seconds: number): number | undefined {
  return seconds >= 60 ? 0.6 : seconds >= 30 ? 0.75 : undefined;
}

/** Whether a set of polling results meets every polling target (requests and delay). */
function meetsPollingTargets(perJob: readonly PollSummary[], maxIntervalMs: number): boolean {
  return perJob.every((p, i) => {
    const seconds = JOB_SECONDS[i]!;
    const limit = requestLimit(seconds);
    const official = officialPoll(seconds * 1000).requests;
    return p.timeouts === 0 && p.delayMaxMs !== undefined && p.delayMaxMs <= maxIntervalMs &&
      (limit === undefined || p.requestsMax / official <= limit);
  });
}

function pollingTable(result: PollingResult): string[] {
  const rows = result.defaults.map(({ seconds, ours }) => {
    const official = officialPoll(seconds * 1000);
    const ratio = ours.requestsMax / official.requests;
    const limit = requestLimit(seconds);
    const officialDelay = official.delayMs === undefined
      ? `never: rejects at ${official.gaveUpAtMs! / 1000} s`
      : `${official.delayMs / 1000} s`;
    const oursDelay = ours.timeouts === ours.trials
      ? "never: times out at 120 s"
      : `${fmtDelay(ours.delayMedianMs)} (${fmtDelay(ours.delayMaxMs)})${
        ours.timeouts ? `, ${ours.timeouts}/${ours.trials} time out` : ""
      }`;
    return [
      `${seconds} s`,
      String(official.requests),
      officialDelay,
      `${ours.requestsMedian} (${ours.requestsMax})`,
      oursDelay,
      fmtRatio(ratio),
      limit === undefined ? "" : `≤ ${limit * 100}%: ${ratio <= limit ? "met" : "not met"}`,
    ];
  });
  return table(
    [
      "job finishes after",
      "official: requests",
      "official: detection delay",
      "ours (defaults): requests, median (max)",
      "ours: detection delay, median (max)",
      "requests ours (max) ÷ official",
      "retired request target",
    ],
    "rrrrrrl",
    rows,
  ).concat("", `The official SDK's schedule constants: ${result.check}.`);
}

function fmtDelay(ms: number | undefined): string {
  return ms === undefined ? "—" : `${(ms / 1000).toFixed(1)} s`;
}

function tradeoffTable(result: PollingResult): string[] {
  const head = JOB_SECONDS.map((s) => `${s} s`).join(" | ");
  const lines = [
    `| intervalMs → maxIntervalMs | ${head} | meets the retired polling targets |`,
    `|---|${JOB_SECONDS.map(() => "---:").join("|")}|---|`,
    `| official SDK (faithful schedule) | ${
      JOB_SECONDS.map((s) => {
        const o = officialPoll(s * 1000);
        return o.delayMs === undefined ? `${o.requests} · never` : `${o.requests} · ${o.delayMs / 1000} s`;
      }).join(" | ")
    } | |`,
    `| official schedule without its 22-call limit | ${
      JOB_SECONDS.map((s) => {
        const o = officialUncapped(s * 1000);
        return `${o.requests} · ${o.delayMs / 1000} s`;
      }).join(" | ")
    } | |`,
  ];
  for (const { label, options, perJob } of result.tradeoff) {
    const maxInterval = options.maxIntervalMs ?? 8000;
    lines.push(
      `| ${label} | ${perJob.map((p) => `${p.requestsMax} · ≤ ${fmtDelay(p.delayMaxMs)}`).join(" | ")} | ${
        meetsPollingTargets(perJob, maxInterval) ? "yes" : "no"
      } |`,
    );
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Report: the generated regions, printed or written into BENCHMARKS.md

/** Retired targets, kept as context with this run's figures. */
function retiredTable(node: SuiteResult, cold: string[][], poll: PollingResult): string[] {
  const rows: string[][] = [];
  for (
    const [what, op] of [["sign, 64 in flight", "sign"], ["verify, 64 in flight", "verify"], [
      "3 kB callback, 64 in flight",
      "cb3k",
    ]]
  ) {
    const floor = op === "cb3k" ? `${op}.floor.c64` : `${op}.bare.c64`;
    rows.push([
      `Node 22 ${what}: ours ÷ official SDK`,
      "≥ 0.5×",
      fmtRatio(pairedRatio(node, `${op}.ours.c64`, `${op}.official.c64`)),
      `${op === "cb3k" ? "the floor (parse + bare verify)" : "bare WebCrypto"} reaches ${
        fmtRatio(pairedRatio(node, floor, `${op}.official.c64`))
      }`,
    ]);
  }
  rows.push(...cold);
  for (const { seconds, ours } of poll.defaults) {
    const limit = requestLimit(seconds);
    if (limit === undefined) continue;
    rows.push([
      `polling a ${seconds} s job: requests ours (max) ÷ official`,
      `≤ ${limit * 100}%`,
      fmtRatio(ours.requestsMax / officialPoll(seconds * 1000).requests),
      "see the trade-off table",
    ]);
  }
  return table(["retired target", "was", "this run", "context"], "llrl", rows);
}

function targetList(): string[] {
  if (QUICK) return ["Quick run: targets are not judged."];
  return [
    `${verdicts.filter((v) => v.pass).length} of ${verdicts.length} targets met.`,
    "",
    ...verdicts.map((v) => `- ${v.pass ? "PASS" : "MISS"}: ${v.what}: ${v.clause}`),
  ];
}

/**
 * Replaces each `<!-- bench:NAME -->` … `<!-- /bench -->` region of `text`; fails on any mismatch
 * (with `partial`, only on a region given here that the file lacks).
 */
function fillRegions(text: string, regions: Record<string, string[]>, partial = false): string {
  const pattern = /(<!-- bench:([a-z-]+) -->\n)[\s\S]*?(<!-- \/bench -->)/g;
  const found = [...text.matchAll(pattern)].map((m) => m[2]!);
  const missing = Object.keys(regions).filter((name) => !found.includes(name));
  const unknown = partial ? [] : found.filter((name) => !(name in regions));
  if (missing.length || unknown.length) {
    throw new Error(
      `BENCHMARKS.md does not match the generated regions: ${missing.length ? `missing ${missing.join(", ")}` : ""}${
        missing.length && unknown.length ? "; " : ""
      }${unknown.length ? `unknown ${unknown.join(", ")}` : ""}. Nothing was written.`,
    );
  }
  return text.replace(
    pattern,
    (whole: string, open: string, name: string, close: string) =>
      regions[name] === undefined ? whole : `${open}${regions[name]!.join("\n")}\n${close}`,
  );
}

/** The target list of `text` with its callback handler lines replaced by this run's, the count redone. */
function mergeHandlerTargets(text: string): string[] {
  const region = /<!-- bench:targets -->\n([\s\S]*?)<!-- \/bench -->/.exec(text)?.[1] ?? "";
  const kept = region.split("\n").filter((line) => /^- (PASS|MISS): /.test(line) && !line.includes("callback handler"));
  const lines = [...kept, ...verdicts.map((v) => `- ${v.pass ? "PASS" : "MISS"}: ${v.what}: ${v.clause}`)];
  const met = lines.filter((line) => line.startsWith("- PASS")).length;
  return [`${met} of ${lines.length} targets met.`, "", ...lines];
}

/** The callback handler section alone: `--only=handler`. */
async function handlerOnly(): Promise<void> {
  const started = new Date();
  const t0 = performance.now();
  const before = loadavg();
  const handler = await handlers();
  const seconds = (performance.now() - t0) / 1000;
  const regions: Record<string, string[]> = {
    handler: handlerTable(handler),
    "handler-setup": [
      ...handlerSetup(handler),
      `| run | \`deno task bench --only=handler${WRITE ? " --write" : ""}\`, ${started.toISOString()}, ${
        seconds.toFixed(0)
      } s, load average before / after ${before} / ${loadavg()} |`,
    ],
    "handler-operations": handlerOperations(handler),
  };
  for (const [name, lines] of Object.entries(regions)) console.log(`\n<!-- bench:${name} -->\n${lines.join("\n")}`);
  console.log(`\n${targetList().join("\n")}`);
  if (WRITE) {
    const path = `${ROOT}BENCHMARKS.md`;
    const text = await Deno.readTextFile(path);
    regions.targets = mergeHandlerTargets(text);
    await Deno.writeTextFile(path, fillRegions(text, regions, true));
    progress("wrote the callback handler's regions of BENCHMARKS.md");
  }
  progress(`done in ${seconds.toFixed(0)} s`);
}

async function main(): Promise<void> {
  const started = new Date();
  const t0 = performance.now();
  await Deno.mkdir(WORK, { recursive: true });
  const loadBefore = loadavg();
  const suites = await throughput();
  const handler = await handlers();
  const cold = await coldStart();
  const bundleRows = await bundles();
  const poll = await polling();
  const seconds = (performance.now() - t0) / 1000;
  const node = suites.find((s) => s.runtime === "Node 22")!;
  const coldJudged = coldFigures(cold);

  const regions: Record<string, string[]> = {
    machine: await machine(started, seconds, [loadBefore, loadavg()]),
    overhead: overheadTable(suites),
    oneshot: oneShotTable(suites),
    callback: callbackTable(suites),
    guard: guardTable(suites),
    handler: handlerTable(handler),
    "handler-setup": handlerSetup(handler),
    "handler-operations": handlerOperations(handler),
    cold: coldTable(cold),
    "cold-target": coldJudged.target,
    bundles: bundleTable(bundleRows),
    composition: compositionTable(bundleRows),
    official: officialTable(node),
    polling: pollingTable(poll),
    tradeoff: tradeoffTable(poll),
    retired: retiredTable(node, coldJudged.context, poll),
  };
  regions.targets = targetList();
  for (const [name, lines] of Object.entries(regions)) console.log(`\n<!-- bench:${name} -->\n${lines.join("\n")}`);
  await Deno.writeTextFile(
    `${WORK}results.json`,
    JSON.stringify({ suites, handler, cold, bundleRows, poll, verdicts }, null, 2),
  );
  if (WRITE) {
    const path = `${ROOT}BENCHMARKS.md`;
    await Deno.writeTextFile(path, fillRegions(await Deno.readTextFile(path), regions));
    progress("wrote the generated regions of BENCHMARKS.md");
  }
  progress(`done in ${seconds.toFixed(0)} s`);
}

if (HANDLER_ONLY) await handlerOnly();
else await main();
