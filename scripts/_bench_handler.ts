// The callback handler under load (scripts/bench.ts): createCallbackHandler with each replay guard
// (in memory, Redis, Deno KV) against verifyCallback alone, the floor. Runs in the Deno bench
// process and in Node (through scripts/_bench_child.ts); Deno KV only where `Deno.openKv` exists
// (Deno with --unstable-kv). The handler is called directly with Request objects, no HTTP server,
// so the figures measure the library and not an HTTP stack. Starts its own redis-server on a
// free 127.0.0.1 port without persistence (tests/host/_redis_server.ts) and stops it afterwards.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { createClient as createRedisClient } from "redis";
import { verifyCallback } from "../src/callback.ts";
import { createClient } from "../src/client.ts";
import { createKvReplayGuard } from "../src/deno_kv.ts";
import { createCallbackHandler } from "../src/handler.ts";
import { createRedisReplayGuard } from "../src/redis.ts";
import { createMemoryReplayGuard, type ReplayGuard } from "../src/replay_guard.ts";
import { type RedisServer, startRedis } from "../tests/host/_redis_server.ts";
import { API_KEY, callbackBody, CONCURRENCY, PARTNER_ID, TIMESTAMP } from "./_bench_suite.ts";

/** The rows of the table, in order: the floor first. */
export type HandlerCaseId = "floor" | "answer" | "memory" | "redis" | "kv";

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

/** What section 6 measured. */
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
  /** What the handler did on the guard for one genuine first delivery, counted before timing. */
  readonly guardCalls: { readonly claims: number; readonly releases: number };
  readonly redisVersion: string | undefined;
  readonly nodeRedisVersion: string | undefined;
  readonly cases: HandlerCase[];
}

const ROOT = new URL("..", import.meta.url).pathname;
const deno = (globalThis as { Deno?: typeof Deno }).Deno;
const URL_ = "http://localhost/smile-id/callback";
const BASE = Date.parse(TIMESTAMP);
/** Fixed clock for freshness: every timestamp below is BASE + n ms, well within 300 s of it. */
const NOW = BASE + 60_000;
/** Deliveries whose timestamps stay within the 300 s window of NOW (BASE … BASE + 360 s). */
const MAX_DELIVERIES = 300_000;

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

export async function runHandlerBench(
  options: { quick: boolean; progress: (message: string) => void },
): Promise<HandlerResult> {
  const rounds = options.quick ? 2 : 15;
  // A round is `batch` deliveries, or fewer for a case too slow to run them within `windowMs`
  // (sized from its warm-up rate), so that a slow store does not lengthen the run by minutes;
  // never under `minBatch`, several times the deliveries in flight.
  const batch = options.quick ? 256 : 1000;
  const minBatch = options.quick ? 256 : 500;
  const windowMs = 1000;
  const warmup = options.quick ? 128 : 500;
  // confirm is off: the client must never be asked for a job status.
  const client = createClient({
    partnerId: PARTNER_ID,
    apiKey: API_KEY,
    fetch: () => Promise.reject(new Error("the benchmark's handler runs with confirm: false: no request expected")),
  });
  // The handler verifies with its client's signer; the floor uses the same one, and signing uses its key.
  const signer = client.signer;

  // Every delivery is a distinct genuine callback: its own signed timestamp, so its own replay key.
  let delivered = 0;
  const deliveries = async (count: number): Promise<Request[]> => {
    check(delivered + count <= MAX_DELIVERIES, "timestamps stay within the freshness window");
    const pairs = await Promise.all(
      Array.from({ length: count }, (_, i) => signer.sign(new Date(BASE + delivered + i))),
    );
    delivered += count;
    return pairs.map((pair) =>
      new Request(URL_, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: callbackBody("3k", pair),
      })
    );
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
      redisClient.on("error", () => {}); // a failure shows as a rejected claim, which fails the run
      await redisClient.connect();
    }
    const kvSkip = kvUnavailable();
    if (!kvSkip) {
      kvDir = mkdtempSync(join(tmpdir(), "smile-bench-kv-"));
      kv = await deno!.openKv(`${kvDir}/guard.sqlite3`);
    }

    const guards: [HandlerCaseId, ReplayGuard | undefined][] = [
      ["memory", createMemoryReplayGuard()],
      ["redis", redisClient ? createRedisReplayGuard(redisClient, { prefix: "bench:" }) : undefined],
      ["kv", kv ? createKvReplayGuard(kv, { prefix: ["bench"] }) : undefined],
    ];

    // The floor: what the handler runs before it touches the guard, with the same options.
    const verifyOptions = { confirm: false, clock: { now: () => NOW }, replayGuard: false } as const;
    const floor = (request: Request) => verifyCallback(signer, request, { ...verifyOptions, reader: client });
    check((await floor((await deliveries(1))[0]!)).replayKey.startsWith("pair:"), "floor verifies a delivery");

    let processed = 0;
    const handlerFor = (guard: ReplayGuard) =>
      createCallbackHandler({
        client,
        confirm: false,
        clock: { now: () => NOW },
        replayGuard: guard,
        onCallback: () => void processed++,
      });

    // Count what the handler does on the guard for one genuine first delivery, and check that a
    // redelivery of it is a duplicate (the guard is real), before anything is timed.
    let guardCalls: { claims: number; releases: number } | undefined;
    const cases: { id: HandlerCaseId; skipped?: string; run?: (request: Request) => Promise<unknown> }[] = [
      { id: "floor", run: floor },
      // The floor plus the answer every handler builds: tells the runtime's Response from the handler's own work.
      { id: "answer", run: async (request) => (await floor(request), Response.json({ ok: true, code: "processed" })) },
    ];
    for (const [id, guard] of guards) {
      if (!guard) {
        cases.push({ id, skipped: (id === "kv" ? kvSkip : redisSkip) ?? "skipped" });
        continue;
      }
      const count = { claims: 0, releases: 0 };
      const counting = createCallbackHandler({
        client,
        confirm: false,
        clock: { now: () => NOW },
        replayGuard: {
          claim: (key, ttl) => (count.claims++, guard.claim(key, ttl)),
          release: (key) => (count.releases++, guard.release(key)),
        },
        onCallback: () => {},
      });
      const answer = async (request: Request) => {
        const response = await counting(request);
        return `${response.status} ${JSON.stringify(await response.json())}`;
      };
      const [first] = await deliveries(1);
      const again = first!.clone();
      check(await answer(first!) === '200 {"ok":true,"code":"processed"}', `${id}: a genuine delivery is processed`);
      guardCalls ??= { ...count };
      check(
        count.claims === guardCalls.claims && count.releases === guardCalls.releases,
        `${id}: the same guard calls as the other guards`,
      );
      check(await answer(again) === '200 {"ok":true,"code":"duplicate"}', `${id}: its redelivery is a duplicate`);
      const handler = handlerFor(guard);
      cases.push({
        id,
        run: async (request) => {
          const response = await handler(request);
          if (response.status !== 200) throw new Error(`${id}: the handler answered ${response.status}`);
          return response;
        },
      });
    }

    const measure = async (c: (typeof cases)[number], count: number): Promise<HandlerRound> => {
      const requests = await deliveries(count);
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
      if (c.id !== "floor" && c.id !== "answer") {
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
      guardCalls: guardCalls!,
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
