// Dropped replies on the real stores: each store operation a delivery makes, in turn, runs in
// the store but its reply never reaches the guard (see assertDroppedReplies in _guard_checks.ts).
//
// - Redis: a TCP proxy on 127.0.0.1 (_redis_proxy.ts) drops the connection instead of forwarding
//   the reply to one guard command, with node-redis and ioredis configured as the /redis module
//   documents (node-redis `disableOfflineQueue: true`, ioredis `maxRetriesPerRequest: 1`, their
//   default reconnection). ioredis re-sends the command after reconnecting; node-redis rejects it.
// - Deno KV: the real `Deno.Kv` behind a wrapper whose chosen `get` or `commit` runs and then
//   throws, as a remote KV whose answer was lost would (a local SQLite file cannot lose one).
// The Durable Object equivalent is in cloudflare_test.ts.

import { test } from "node:test";
import { assert } from "@std/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { Redis } from "ioredis";
import { createRedisReplayGuard } from "../../src/redis.ts";
import { createKvReplayGuard, type KvLike } from "../../src/deno_kv.ts";
import { startRedis } from "./_redis_server.ts";
import { startRedisProxy } from "./_redis_proxy.ts";
import { assertDroppedReplies, type FaultHarness, interceptKv } from "./_guard_checks.ts";

test("node-redis (as documented) through a proxy that drops each guard command's reply in turn: never a false duplicate, never a lost result", async () => {
  const server = await startRedis();
  const proxy = await startRedisProxy(server.port);
  const client = createClient({ url: proxy.url, disableOfflineQueue: true });
  client.on("error", () => {}); // each dropped connection is reported here; the client reconnects
  try {
    await client.connect();
    const harness: FaultHarness = {
      guard: createRedisReplayGuard(client),
      operations: () => proxy.commands(),
      dropNth: (n) => proxy.dropNth(n),
      ready: () => client.isReady ? Promise.resolve() : new Promise((resolve) => client.once("ready", resolve)),
    };
    const log = await assertDroppedReplies(harness);
    console.log(log.join("\n"));
    assert(proxy.connections() > 1, "the connection was dropped and made again");
  } finally {
    if (client.isOpen) await client.close().catch(() => {});
    await proxy.close();
    await server.stop();
  }
});

test("ioredis (as documented) through a proxy that drops each guard command's reply in turn: never a false duplicate, never a lost result", async () => {
  const server = await startRedis();
  const proxy = await startRedisProxy(server.port);
  const client = new Redis(proxy.port, "127.0.0.1", { maxRetriesPerRequest: 1 });
  client.on("error", () => {});
  try {
    await client.ping();
    const harness: FaultHarness = {
      guard: createRedisReplayGuard(client),
      operations: () => proxy.commands(),
      dropNth: (n) => proxy.dropNth(n),
      ready: () =>
        client.status === "ready" ? Promise.resolve() : new Promise((resolve) => client.once("ready", resolve)),
    };
    const log = await assertDroppedReplies(harness);
    console.log(log.join("\n"));
    assert(proxy.connections() > 1, "the connection was dropped and made again");
  } finally {
    client.disconnect();
    await proxy.close();
    await server.stop();
  }
});

interface Kv extends KvLike {
  close(): void;
}
const deno = (globalThis as { Deno?: { openKv?: (path: string) => Promise<Kv> } }).Deno;

test("deno-kv with each read and commit's answer lost in turn: never a false duplicate, never a lost result", {
  skip: deno === undefined ? "Deno KV exists only in Deno" : false,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "smile-kv-fault-"));
  const kv = await deno!.openKv!(join(dir, "replay.sqlite"));
  try {
    let seen = 0;
    let target = 0;
    /** Runs `operation` in the store; if it is the chosen one, throws instead of answering. */
    const maybeLose = async <T>(operation: () => Promise<T>): Promise<T> => {
      const result = await operation();
      if (++seen === target) throw new Error("connection reset: the answer was lost");
      return result;
    };
    const faulty = interceptKv(kv, maybeLose);
    const harness: FaultHarness = {
      guard: createKvReplayGuard(faulty),
      operations: () => seen,
      dropNth: (n) => void (target = seen + n),
      ready: () => Promise.resolve(),
    };
    console.log((await assertDroppedReplies(harness)).join("\n"));
  } finally {
    kv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
