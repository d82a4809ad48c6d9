// The callback handler under load (scripts/bench/bench.ts): createCallbackHandler with each replay guard
// (in memory, Redis, Deno KV), each against its own floor, and with confirm over real HTTP
// against a bare confirming handler. Runs in the Deno bench process and in Node (through
// scripts/bench/_child.ts); Deno KV only where `Deno.openKv` exists (Deno with --unstable-kv).
// The handler is called directly with Request objects, no HTTP server in front of it, so the
// figures measure the library and not an HTTP stack; only the confirm cases talk HTTP, to a fake
// Smile ID in a process of its own (scripts/bench/_fake.ts, started by bench.ts). Starts its own
// redis-server on a free 127.0.0.1 port without persistence (tests/host/_redis_server.ts) and
// stops it afterwards.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { createClient as createRedisClient } from "redis";
import { verifyCallback } from "../../src/callback.ts";
import { createClient } from "../../src/client.ts";
import { createKvReplayGuard, type KvLike } from "../../src/deno_kv.ts";
import { createCallbackHandler } from "../../src/handler.ts";
import { createRedisReplayGuard, type NodeRedisLikeClient } from "../../src/redis.ts";
import { createMemoryReplayGuard, type ReplayGuard } from "../../src/replay_guard.ts";
import { type RedisServer, startRedis } from "../../tests/host/_redis_server.ts";
import { API_KEY, callbackBody, CONCURRENCY, PARTNER_ID, TIMESTAMP } from "./_suite.ts";

/** The rows of the table, in order; each handler row comes after its floor. */
export type HandlerCaseId =
  | "floor"
  | "answer"
  | "memory"
  | "redis-floor"
  | "redis"
  | "kv-floor"
  | "kv"
  | "confirm-floor"
  | "confirm";

/** Each handler case and the floor it is judged against. */
export const FLOOR_OF: Partial<Record<HandlerCaseId, HandlerCaseId>> = {
  answer: "floor",
  memory: "floor",
  redis: "redis-floor",
  kv: "kv-floor",
  confirm: "confirm-floor",
};

/** One round of one case: a batch of deliveries, `CONCURRENCY` in flight. */
export interface HandlerRound {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** One row: its rounds in round order, or why it was skipped. */
export interface HandlerCase {
  readonly id: HandlerCaseId;
  readonly skipped?: string;
  /** Deliveries in each of its rounds (each a distinct genuine callback). */
  readonly batch: number;
  readonly rounds: HandlerRound[];
}

/** Store operations the handler made, counted through a wrapper of the store's client. */
export interface OperationCount {
  readonly store: "memory" | "redis" | "kv";
  /** What was counted: guard calls, Redis commands, Deno KV commits and reads. */
  readonly unit: string;
  /** A genuine first delivery (the instance's second or later). */
  readonly first: string;
  /** Another body under a pair already processed (`confirm: false`): a duplicate. */
  readonly duplicate: string;
  /** The very same bytes again. */
  readonly exact: string;
}

/** What the handler section measured. */
export interface HandlerResult {
  readonly concurrency: number;
  readonly rounds: number;
  /** Most deliveries in one round of a case; a slower case runs what its warm-up rate gives in `windowMs`. */
  readonly batch: number;
  /** Fewest deliveries in one round of a case. */
  readonly minBatch: number;
  /** Round length a slower case's batch is sized for, in milliseconds. */
  readonly windowMs: number;
  /** Untimed deliveries per case before the first round. */
  readonly warmup: number;
  readonly bodyBytes: number;
  readonly operations: OperationCount[];
  readonly redisVersion: string | undefined;
  readonly nodeRedisVersion: string | undefined;
  readonly cases: HandlerCase[];
}

const ROOT = new URL("../..", import.meta.url).pathname;
const deno = (globalThis as { Deno?: typeof Deno }).Deno;
const URL_ = "http://localhost/smile-id/callback";
const BASE = Date.parse(TIMESTAMP);
/** Fixed clock for freshness: every timestamp below is BASE + n ms, well within 300 s of it. */
const NOW = BASE + 60_000;
/** Deliveries whose timestamps stay within the 300 s window of NOW (BASE … BASE + 360 s). */
const MAX_DELIVERIES = 300_000;
const PROCESSED = '200 {"ok":true,"code":"processed"}';
const DUPLICATE = '200 {"ok":true,"code":"duplicate"}';

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`Benchmark sanity check failed: ${what}`);
}

/** Nearest-rank percentile of an unsorted array (copied and sorted here). */
function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/** Why Deno KV cannot run here, or undefined when it can. */
export function kvUnavailable(): string | undefined {
  if (deno === undefined) return "not in Deno";
  return typeof (deno as { openKv?: unknown }).openKv === "function"
    ? undefined
    : "Deno.openKv is missing: run the benchmark with --unstable-kv (deno task bench has it)";
}

function versionOf(command: string[], pattern: RegExp): string | undefined {
  try {
    return pattern.exec(execFileSync(command[0]!, command.slice(1), { encoding: "utf8" }))?.[1];
  } catch {
    return undefined;
  }
}

async function text(response: Response): Promise<string> {
  return `${response.status} ${JSON.stringify(await response.json())}`;
}

export async function runHandlerBench(
  options: { quick: boolean; progress: (message: string) => void; fakeBase?: string | undefined },
): Promise<HandlerResult> {
  const rounds = 3;
  // A round is `batch` deliveries, or fewer for a case too slow to run them within `windowMs`
  // (sized from its warm-up rate), so that a slow store does not lengthen the run by minutes;
  // never under `minBatch`, several times the deliveries in flight.
  const batch = options.quick ? 256 : 2000;
  const minBatch = options.quick ? 256 : 500;
  const windowMs = options.quick ? 250 : 1500;
  const warmup = options.quick ? 128 : 500;
  // confirm is off but in the confirm cases: this client must never be asked for a job status.
  const client = createClient({
    partnerId: PARTNER_ID,
    apiKey: API_KEY,
    fetch: () => Promise.reject(new Error("the benchmark's handler runs with confirm: false: no request expected")),
  });
  // The handler verifies with its client's signer; the floor uses the same one, and signing uses its key.
  const signer = client.signer;

  // Every delivery is a distinct genuine callback: its own signed timestamp, so its own replay
  // key; for the confirm cases also its own job, so its own result.
  let delivered = 0;
  const template = JSON.parse(callbackBody("3k", await signer.sign(new Date(BASE)))) as Record<string, unknown>;
  const deliveries = async (count: number, distinctJobs = false): Promise<Request[]> => {
    check(delivered + count <= MAX_DELIVERIES, "timestamps stay within the freshness window");
    const pairs = await Promise.all(
      Array.from({ length: count }, (_, i) => signer.sign(new Date(BASE + delivered + i))),
    );
    const first = delivered;
    delivered += count;
    return pairs.map((pair, i) => {
      let body = callbackBody("3k", pair);
      if (distinctJobs) {
        const params = { ...(template.PartnerParams as object), job_id: `bench-job-${first + i}` };
        body = JSON.stringify({ ...JSON.parse(body), PartnerParams: params });
      }
      return new Request(URL_, { method: "POST", headers: { "content-type": "application/json" }, body });
    });
  };
  const bodyBytes = new TextEncoder().encode(callbackBody("3k", await signer.sign(new Date(BASE)))).length;

  let redis: RedisServer | undefined;
  let redisSkip: string | undefined;
  let redisClient: ReturnType<typeof createRedisClient> | undefined;
  let kv: Deno.Kv | undefined;
  let kvDir: string | undefined;
  try {
    options.progress("handler: starting redis-server");
    try {
      redis = await startRedis();
    } catch (error) {
      if (!(error instanceof Error && error.message.includes("not on PATH"))) throw error;
      redisSkip = "skipped: redis-server not found";
    }
    if (redis) {
      redisClient = createRedisClient({ url: redis.url });
      redisClient.on("error", () => {}); // a failure shows as a rejected command, which fails the run
      await redisClient.connect();
    }
    const kvSkip = kvUnavailable();
    if (!kvSkip) {
      kvDir = mkdtempSync(join(tmpdir(), "smile-bench-kv-"));
      kv = await deno!.openKv(`${kvDir}/guard.sqlite3`);
    }

    // Counting wrappers of the real clients: every store operation the guards make goes through them.
    const ops = { guard: 0, redis: 0, kvCommits: 0, kvReads: 0 };
    const counted = (guard: ReplayGuard): ReplayGuard => ({
      begin: (key, seconds) => (ops.guard++, guard.begin(key, seconds)),
      finish: (key, token, seconds) => (ops.guard++, guard.finish(key, token, seconds)),
      abandon: (key, token) => (ops.guard++, guard.abandon(key, token)),
    });
    const redisCounting: NodeRedisLikeClient | undefined = redisClient &&
      { sendCommand: (args) => (ops.redis++, redisClient!.sendCommand(args)) };
    const kvCounting: KvLike | undefined = kv && {
      get: (key) => (ops.kvReads++, kv!.get(key as Deno.KvKey)),
      atomic: () => {
        const op = kv!.atomic();
        const wrap = {
          check: (...checks: { key: readonly unknown[]; versionstamp: string | null }[]) => (
            op.check(...checks as Deno.AtomicCheck[]), wrap
          ),
          set: (key: readonly unknown[], value: unknown, o?: { expireIn?: number }) => (
            op.set(key as Deno.KvKey, value, o), wrap
          ),
          delete: (key: readonly unknown[]) => (op.delete(key as Deno.KvKey), wrap),
          commit: () => (ops.kvCommits++, op.commit()),
        };
        return wrap as unknown as ReturnType<KvLike["atomic"]>;
      },
    };

    const guards: ["memory" | "redis" | "kv", ReplayGuard | undefined, string | undefined][] = [
      ["memory", counted(createMemoryReplayGuard()), undefined],
      ["redis", redisCounting && createRedisReplayGuard(redisCounting, { prefix: "bench:" }), redisSkip],
      ["kv", kvCounting && createKvReplayGuard(kvCounting, { prefix: ["bench"] }), kvSkip],
    ];

    // The floors: what the handler runs before its guard (verifyCallback with the options it
    // passes), then one atomic operation on the same store, then the answer every handler builds.
    const verifyOptions = { confirm: false, clock: { now: () => NOW }, replayGuard: false } as const;
    const floor = (request: Request) => verifyCallback(signer, request, { ...verifyOptions, reader: client });
    check((await floor((await deliveries(1))[0]!)).replayKey.startsWith("pair:"), "floor verifies a delivery");
    const answer = () => Response.json({ ok: true, code: "processed" });

    let processed = 0;
    const handlerFor = (guard: ReplayGuard) =>
      createCallbackHandler({
        client,
        confirm: false,
        clock: { now: () => NOW },
        replayGuard: guard,
        onCallback: () => void processed++,
      });
    const served = (id: string, handler: (request: Request) => Promise<Response>) => async (request: Request) => {
      const response = await handler(request);
      if (response.status !== 200) throw new Error(`${id}: the handler answered ${response.status}`);
      return response;
    };

    const cases: { id: HandlerCaseId; skipped?: string; run?: (request: Request) => Promise<unknown> }[] = [
      { id: "floor", run: floor },
      { id: "answer", run: async (request) => (await floor(request), answer()) },
    ];
    const operations: OperationCount[] = [];
    for (const [store, guard, skipped] of guards) {
      if (store === "redis") {
        cases.push(
          redisClient
            ? {
              id: "redis-floor",
              run: async (request) => {
                const { replayKey } = await floor(request);
                await redisClient!.sendCommand(["SET", `bench-floor:${replayKey}`, "1", "NX", "EX", "300"]);
                return answer();
              },
            }
            : { id: "redis-floor", skipped: skipped ?? "skipped" },
        );
      }
      if (store === "kv") {
        cases.push(
          kv
            ? {
              id: "kv-floor",
              run: async (request) => {
                const { replayKey } = await floor(request);
                const key = ["bench-floor", replayKey];
                await kv!.atomic().check({ key, versionstamp: null }).set(key, 1, { expireIn: 300_000 }).commit();
                return answer();
              },
            }
            : { id: "kv-floor", skipped: skipped ?? "skipped" },
        );
      }
      if (!guard) {
        cases.push({ id: store, skipped: skipped ?? "skipped" });
        continue;
      }
      // Count the store operations of a genuine first delivery (the instance's second), of a
      // duplicate (another body under its pair) and of the same bytes again, before any timing.
      const handler = handlerFor(guard);
      const [warm, first] = await deliveries(2);
      check(await text(await handler(warm!)) === PROCESSED, `${store}: a genuine delivery is processed`);
      const again = first!.clone();
      const body = JSON.parse(await first!.clone().text());
      const other = new Request(URL_, { method: "POST", body: JSON.stringify({ ...body, ResultText: "Another" }) });
      const unit = store === "memory" ? "guard calls" : store === "redis" ? "commands" : "commits + reads";
      const count = () =>
        store === "memory" ? ops.guard : store === "redis" ? ops.redis : `${ops.kvCommits} + ${ops.kvReads}`;
      const measured: string[] = [];
      for (const [request, expected] of [[first!, PROCESSED], [other, DUPLICATE], [again, DUPLICATE]] as const) {
        Object.assign(ops, { guard: 0, redis: 0, kvCommits: 0, kvReads: 0 });
        check(await text(await handler(request)) === expected, `${store}: ${expected}`);
        measured.push(String(count()));
      }
      operations.push({ store, unit, first: measured[0]!, duplicate: measured[1]!, exact: measured[2]! });
      cases.push({ id: store, run: served(store, handler) });
    }

    // Confirm over real HTTP: the fake Smile ID in its own process. The floor does what any
    // confirming handler must: verify, then sign, send and parse one job-status request and
    // verify its answer (getJobStatus), then answer.
    const fakeBase = options.fakeBase;
    if (fakeBase === undefined) {
      cases.push({ id: "confirm-floor", skipped: "skipped: no fake server" }, {
        id: "confirm",
        skipped: "skipped: no fake server",
      });
    } else {
      const confirming = createClient({ partnerId: PARTNER_ID, apiKey: API_KEY, server: fakeBase });
      const bareFloor = async (request: Request) => {
        const { payload } = await verifyCallback(signer, request, { ...verifyOptions, reader: confirming });
        // What confirm asks for a body with history and image links: the same.
        await confirming.getJobStatus({
          userId: payload.userId!,
          jobId: payload.jobId!,
          includeHistory: payload.raw.history !== undefined,
          includeImageLinks: payload.raw.image_links !== undefined,
        });
        return answer();
      };
      const handler = createCallbackHandler({
        client: confirming,
        clock: { now: () => NOW },
        replayGuard: createMemoryReplayGuard(),
        onCallback: () => void processed++,
      });
      const [probe] = await deliveries(1, true);
      check(await text(await handler(probe!)) === PROCESSED, "confirm: a genuine delivery is processed");
      cases.push({ id: "confirm-floor", run: bareFloor }, { id: "confirm", run: served("confirm", handler) });
    }

    const measure = async (c: (typeof cases)[number], count: number): Promise<HandlerRound> => {
      const requests = await deliveries(count, c.id.startsWith("confirm"));
      const latencies = new Float64Array(count);
      const before = processed;
      let next = 0;
      const start = performance.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < count; i = next++) {
          const t0 = performance.now();
          await c.run!(requests[i]!);
          latencies[i] = performance.now() - t0;
        }
      }));
      const elapsed = performance.now() - start;
      if (FLOOR_OF[c.id] !== undefined && c.id !== "answer") {
        check(processed - before === count, `${c.id}: every delivery processed once`);
      }
      return { rps: (count * 1000) / elapsed, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) };
    };
    const live = cases.filter((c) => c.run);
    const sizes = new Map<HandlerCaseId, number>();
    for (const c of live) {
      const { rps } = await measure(c, warmup);
      sizes.set(c.id, Math.min(batch, Math.max(minBatch, Math.round((rps * windowMs) / 1000))));
    }
    options.progress(
      `handler: ${rounds} rounds, ${CONCURRENCY} in flight, deliveries per round: ${
        live.map((c) => `${c.id} ${sizes.get(c.id)}`).join(", ")
      }`,
    );
    const results: HandlerCase[] = cases.map((c) => ({
      id: c.id,
      ...(c.skipped ? { skipped: c.skipped } : {}),
      batch: sizes.get(c.id) ?? 0,
      rounds: [],
    }));
    for (let round = 0; round < rounds; round++) {
      const order = live.map((_, i) => (round % 2 ? live.length - 1 - i : i));
      for (const i of order) {
        const c = live[i]!;
        results.find((r) => r.id === c.id)!.rounds.push(await measure(c, sizes.get(c.id)!));
      }
    }
    return {
      concurrency: CONCURRENCY,
      rounds,
      batch,
      minBatch,
      windowMs,
      warmup,
      bodyBytes,
      operations,
      redisVersion: redis ? versionOf(["redis-server", "--version"], /v=(\S+)/) : undefined,
      nodeRedisVersion: JSON.parse(readFileSync(`${ROOT}node_modules/redis/package.json`, "utf8")).version,
      cases: results,
    };
  } finally {
    if (redisClient?.isOpen) await redisClient.close().catch(() => {});
    await redis?.stop();
    kv?.close();
    if (kvDir) rmSync(kvDir, { recursive: true, force: true });
  }
}
