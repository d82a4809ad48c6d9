// createRedisReplayGuard against a real redis-server (started here on a free 127.0.0.1 port,
// without persistence, and stopped after each test) through both real npm clients: node-redis
// (`redis`) and `ioredis`. Ends with the two-process proofs.

import { test } from "node:test";
import { assert, assertEquals, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { createClient } from "redis";
import { Redis } from "ioredis";
import { SmileIdError } from "../../src/errors.ts";
import { createRedisReplayGuard, type RedisLikeClient } from "../../src/redis.ts";
import { type RedisServer, startRedis } from "./_redis_server.ts";
import { assertStoreFailure, claimProof, handlerProof } from "./_guard_proof.ts";
import { sleep } from "../_helpers.ts";

/** One connected client of either package, with a raw command for the test's own checks. */
interface TestClient {
  readonly client: RedisLikeClient;
  raw(...args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

type Kind = "node-redis" | "ioredis";
const KINDS: readonly Kind[] = ["node-redis", "ioredis"];

/** A client that fails fast when Redis is gone instead of queueing commands until it returns. */
async function connect(kind: Kind, server: RedisServer): Promise<TestClient> {
  if (kind === "node-redis") {
    const client = createClient({
      url: server.url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: false },
    });
    client.on("error", () => {}); // the store-failure test stops the server under it
    await client.connect();
    return {
      client,
      raw: (...args) => client.sendCommand(args),
      close: async () => {
        if (client.isOpen) await client.close();
      },
    };
  }
  const client = new Redis(server.port, "127.0.0.1", {
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  client.on("error", () => {});
  await client.connect();
  return {
    client,
    raw: (command, ...args) => client.call(command!, ...args),
    close: () => Promise.resolve(client.disconnect()),
  };
}

/** Runs `body` with a fresh redis-server and clients of `kind`; stops both whatever happens. */
async function withRedis(
  kind: Kind,
  body: (connect: () => Promise<TestClient>, server: RedisServer) => Promise<void>,
): Promise<void> {
  const server = await startRedis();
  const clients: TestClient[] = [];
  try {
    await body(async () => {
      const client = await connect(kind, server);
      clients.push(client);
      return client;
    }, server);
  } finally {
    await Promise.all(clients.map((client) => client.close().catch(() => {})));
    await server.stop();
  }
}

for (const kind of KINDS) {
  test(`${kind}: claim records the key once; release lets it be claimed again`, async () => {
    await withRedis(kind, async (open) => {
      const { client, raw } = await open();
      const guard = createRedisReplayGuard(client);
      assertStrictEquals(await guard.claim("pair-1", 300), true);
      assertStrictEquals(await guard.claim("pair-1", 300), false);
      assertStrictEquals(await guard.claim("pair-2", 300), true, "another key is independent");
      const stored = await raw("GET", "smile-id:replay:pair-1");
      assert(typeof stored === "string" && stored.length >= 32, `a random token is stored, got ${stored}`);
      const ttl = Number(await raw("TTL", "smile-id:replay:pair-1"));
      assert(ttl > 298 && ttl <= 300, `EX 300 was set, TTL is ${ttl}`);
      await guard.release("pair-1");
      assertStrictEquals(await raw("EXISTS", "smile-id:replay:pair-1"), 0);
      assertStrictEquals(await guard.claim("pair-1", 300), true);
      await guard.release("never-claimed"); // a no-op
    });
  });

  test(`${kind}: concurrent claims of one key on one client: exactly one wins`, async () => {
    await withRedis(kind, async (open) => {
      const { client } = await open();
      const guards = Array.from({ length: 5 }, () => createRedisReplayGuard(client));
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => guards[i % 5]!.claim("contended", 60)));
      assertEquals(results.filter(Boolean).length, 1);
    });
  });

  test(`${kind}: the prefix option namespaces the keys`, async () => {
    await withRedis(kind, async (open) => {
      const { client, raw } = await open();
      const a = createRedisReplayGuard(client, { prefix: "shop-a:" });
      const b = createRedisReplayGuard(client, { prefix: "shop-b:" });
      assertStrictEquals(await a.claim("pair", 60), true);
      assertStrictEquals(await b.claim("pair", 60), true, "other prefix, other key");
      assertEquals(((await raw("KEYS", "shop-*")) as string[]).sort(), ["shop-a:pair", "shop-b:pair"]);
    });
  });

  test(`${kind}: ttl is rounded up to whole seconds, at least 1, and the claim expires`, async () => {
    await withRedis(kind, async (open) => {
      const { client, raw } = await open();
      const guard = createRedisReplayGuard(client, { prefix: "" });
      assertStrictEquals(await guard.claim("long", 2.1), true);
      assertStrictEquals(Number(await raw("TTL", "long")), 3);
      assertStrictEquals(await guard.claim("short", 0.2), true);
      const pttl = Number(await raw("PTTL", "short"));
      assert(pttl > 500 && pttl <= 1000, `EX 1, PTTL is ${pttl}`);
      assertStrictEquals(await guard.claim("short", 0.2), false);
      await sleep(1100);
      assertStrictEquals(await raw("EXISTS", "short"), 0, "Redis expired the claim");
      assertStrictEquals(await guard.claim("short", 1), true, "an expired claim can be taken again");
      for (const ttl of [0, -1, Number.NaN, Infinity]) {
        const error = await assertRejects(() => guard.claim("bad-ttl", ttl), SmileIdError);
        assertStrictEquals(error.code, "invalid_argument");
      }
    });
  });

  test(`${kind}: release never deletes a claim another instance took after expiry`, async () => {
    await withRedis(kind, async (open) => {
      const first = createRedisReplayGuard((await open()).client, { prefix: "" });
      const { client, raw } = await open();
      const second = createRedisReplayGuard(client, { prefix: "" });

      // Expiry as Redis sees it: the key is gone before the first instance's own clock says so.
      assertStrictEquals(await first.claim("pair", 60), true);
      await raw("DEL", "pair");
      assertStrictEquals(await second.claim("pair", 60), true);
      const secondToken = await raw("GET", "pair");
      await first.release("pair"); // compare-and-delete: the token is not the first's any more
      assertStrictEquals(await raw("GET", "pair"), secondToken, "the second instance's claim survived");
      assertStrictEquals(await first.claim("pair", 60), false);

      // Real expiry: the first's claim lapses, the second takes the key, the first releases late.
      assertStrictEquals(await first.claim("lapsing", 1), true);
      await sleep(1100);
      assertStrictEquals(await second.claim("lapsing", 60), true);
      await first.release("lapsing");
      assertStrictEquals(await raw("EXISTS", "lapsing"), 1, "the late release deleted nothing");

      // A guard that did not claim a key cannot release it.
      await first.release("pair");
      await second.release("lapsing");
      assertStrictEquals(await raw("EXISTS", "lapsing"), 0, "the owner's release deletes it");
    });
  });

  test(`${kind}: a store failure rejects with a SmileIdError (code replay_guard) and its cause`, async () => {
    await withRedis(kind, async (open, server) => {
      const { client } = await open();
      const guard = createRedisReplayGuard(client);
      assertStrictEquals(await guard.claim("held", 60), true);
      await server.stop();
      await sleep(100); // let the client notice the closed connection
      await assertStoreFailure(guard, "held");
    });
  });
}

test("createRedisReplayGuard refuses what is not a supported client, and bad options", () => {
  for (const client of [null, undefined, {}, { get: () => Promise.resolve(null) }, "redis://127.0.0.1"]) {
    const error = assertThrows(() => createRedisReplayGuard(client as unknown as RedisLikeClient), SmileIdError);
    assertStrictEquals(error.code, "invalid_argument");
  }
  const send = () => Promise.resolve("OK");
  const cluster = { sendCommand: send, getMasters: () => [], getSlotMaster: () => ({}) };
  assertThrows(() => createRedisReplayGuard(cluster), SmileIdError, "cluster");
  const sentinel = { sendCommand: send, getMasterNode: () => ({}), getSentinelNode: () => ({}) };
  assertThrows(() => createRedisReplayGuard(sentinel), SmileIdError, "sentinel");
  assertThrows(() => createRedisReplayGuard({ sendCommand: send }, { prefix: 1 as unknown as string }), SmileIdError);
});

test("createRedisReplayGuard: an unexpected reply or a bad key rejects with a SmileIdError", async () => {
  const guard = createRedisReplayGuard({ call: () => Promise.resolve(42) });
  const error = await assertRejects(() => guard.claim("pair", 60), SmileIdError, "unexpected reply");
  assertStrictEquals(error.code, "replay_guard");
  const bytes = createRedisReplayGuard({ sendCommand: () => Promise.resolve(new TextEncoder().encode("OK")) });
  assertStrictEquals(await bytes.claim("pair", 60), true, "an OK mapped to bytes is still OK");
  for (const key of ["", 1, undefined]) {
    const bad = await assertRejects(() => guard.claim(key as string, 60), SmileIdError);
    assertStrictEquals(bad.code, "invalid_argument");
  }
});

test("two processes (node-redis and ioredis) × 100 concurrent claims of 10 keys: one claim of each key wins", async () => {
  const server = await startRedis();
  try {
    await claimProof({ store: "node-redis", url: server.url }, { store: "ioredis", port: server.port });
  } finally {
    await server.stop();
  }
});

test("two processes with their own client, guard and handler: 200 concurrent deliveries, onCallback runs once", async () => {
  const server = await startRedis();
  try {
    const result = await handlerProof({ store: "node-redis", url: server.url }, {
      store: "ioredis",
      port: server.port,
    });
    console.log(
      `deliveries answered: ${JSON.stringify(result.statuses)}; onCallback runs per process: ${result.counts}`,
    );
  } finally {
    await server.stop();
  }
});
