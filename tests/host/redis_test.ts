// createRedisReplayGuard against a real redis-server (started here on a free 127.0.0.1 port,
// without persistence, and stopped after each test) through both real npm clients: node-redis
// (`redis`) and `ioredis`, configured for a real Redis here (fail fast, no reconnection) and as
// the module documents in the two-process proofs at the end. Dropped replies: guard_faults_test.ts.

import { test } from "node:test";
import { assert, assertEquals, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { createClient } from "redis";
import { Redis } from "ioredis";
import { SmileIdError } from "../../src/errors.ts";
import {
  createRedisReplayGuard,
  type IoRedisLikeClient,
  type NodeRedisLikeClient,
  type RedisLikeClient,
} from "../../src/redis.ts";
import { type RedisServer, startRedis } from "./_redis_server.ts";
import {
  assertCjkOnce,
  assertGuardBasics,
  assertOperationCounts,
  assertReconcileShares,
  assertStoreFailure,
  type OperationCounter,
} from "./_guard_checks.ts";
import { beginProof, handlerProof } from "./_guard_proof.ts";
import { sleep } from "../_helpers.ts";

/** One connected client of either package, with a raw command for the test's own checks. */
interface TestClient {
  readonly client: RedisLikeClient;
  raw(...args: string[]): Promise<unknown>;
  /** Resolves once the client has seen its connection end (it does not reconnect). */
  ended(): Promise<void>;
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
      // Without reconnection, node-redis closes for good when the connection fails, and says so as an error.
      ended: () =>
        new Promise<void>((resolve) => {
          const closed = () => !client.isOpen && (client.off("error", closed), resolve());
          client.on("error", closed);
          closed();
        }),
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
    ended: () => client.status === "end" ? Promise.resolve() : new Promise((resolve) => client.once("end", resolve)),
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

/** A wrapper of a real client that counts the commands sent through it, in the shape of its package. */
function counting(kind: Kind, client: RedisLikeClient): { client: RedisLikeClient; counter: OperationCounter } {
  let sent = 0;
  const counter = { writes: () => sent, all: () => sent, reset: () => void (sent = 0) };
  if (kind === "node-redis") {
    const inner = client as NodeRedisLikeClient;
    return { client: { sendCommand: (args) => (sent++, inner.sendCommand(args)) }, counter };
  }
  const inner = client as IoRedisLikeClient;
  return { client: { call: (command, ...args) => (sent++, inner.call(command, ...args)) }, counter };
}

for (const kind of KINDS) {
  test(`${kind}: begin takes a key once, reports it busy or done; abandon needs the token`, async () => {
    await withRedis(kind, async (open) => {
      const { client, raw } = await open();
      const other = await open();
      await assertGuardBasics(createRedisReplayGuard(client), createRedisReplayGuard(other.client));
      const guard = createRedisReplayGuard(client);
      const lease = await guard.begin("result:3", 300);
      assert(lease.state === "claimed");
      assertStrictEquals(await raw("GET", "smile-id:replay:result:3"), `lease:${lease.token}`);
      const ttl = Number(await raw("TTL", "smile-id:replay:result:3"));
      assert(ttl > 298 && ttl <= 300, `EX 300 was set, TTL is ${ttl}`);
      await guard.finish("result:3", lease.token, 3600);
      assertStrictEquals(await raw("GET", "smile-id:replay:result:3"), "done");
      const remembered = Number(await raw("TTL", "smile-id:replay:result:3"));
      assert(remembered > 3598 && remembered <= 3600, `EX 3600 was set, TTL is ${remembered}`);
    });
  });

  test(`${kind}: concurrent begins of one key on one client: exactly one is claimed`, async () => {
    await withRedis(kind, async (open) => {
      const { client } = await open();
      const guards = Array.from({ length: 5 }, () => createRedisReplayGuard(client));
      const states = await Promise.all(Array.from({ length: 50 }, (_, i) => guards[i % 5]!.begin("contended", 60)));
      assertEquals(states.filter((s) => s.state === "claimed").length, 1);
    });
  });

  test(`${kind}: the prefix option namespaces the keys`, async () => {
    await withRedis(kind, async (open) => {
      const { client, raw } = await open();
      const a = createRedisReplayGuard(client, { prefix: "shop-a:" });
      const b = createRedisReplayGuard(client, { prefix: "shop-b:" });
      assertStrictEquals((await a.begin("result:1", 60)).state, "claimed");
      assertStrictEquals((await b.begin("result:1", 60)).state, "claimed", "other prefix, other key");
      assertEquals(((await raw("KEYS", "shop-*")) as string[]).sort(), ["shop-a:result:1", "shop-b:result:1"]);
    });
  });

  test(`${kind}: seconds are rounded up to whole seconds, at least 1, and a lease lapses`, async () => {
    await withRedis(kind, async (open) => {
      const { client, raw } = await open();
      const guard = createRedisReplayGuard(client, { prefix: "" });
      assertStrictEquals((await guard.begin("long", 2.1)).state, "claimed");
      assertStrictEquals(Number(await raw("TTL", "long")), 3);
      assertStrictEquals((await guard.begin("short", 0.2)).state, "claimed");
      const pttl = Number(await raw("PTTL", "short"));
      assert(pttl > 500 && pttl <= 1000, `EX 1, PTTL is ${pttl}`);
      assertStrictEquals((await guard.begin("short", 0.2)).state, "busy");
      await sleep(1100); // Redis expires the key 1 s after the SET; a loaded machine only makes this wait longer
      assertStrictEquals(await raw("EXISTS", "short"), 0, "Redis expired the lease");
      assertStrictEquals((await guard.begin("short", 1)).state, "claimed", "a lapsed lease can be taken again");
    });
  });

  test(`${kind}: abandon never deletes a lease another instance took after the first lapsed`, async () => {
    await withRedis(kind, async (open) => {
      const first = createRedisReplayGuard((await open()).client, { prefix: "" });
      const { client, raw } = await open();
      const second = createRedisReplayGuard(client, { prefix: "" });
      const mine = await first.begin("result:1", 60);
      assert(mine.state === "claimed");
      await raw("DEL", "result:1"); // lapsed, as Redis sees it
      const theirs = await second.begin("result:1", 60);
      assert(theirs.state === "claimed");
      await first.abandon("result:1", mine.token); // late: the lease is not the first's any more
      assertStrictEquals(await raw("GET", "result:1"), `lease:${theirs.token}`, "the second instance's lease survived");
      await second.abandon("result:1", theirs.token);
      assertStrictEquals(await raw("EXISTS", "result:1"), 0, "the owner's abandon deletes it");
    });
  });

  test(`${kind}: a value the guard did not write rejects as replay_guard, without being overwritten`, async () => {
    await withRedis(kind, async (open) => {
      const { client, raw } = await open();
      await raw("SET", "result:1", "the application's own value");
      const error = await assertRejects(
        () => createRedisReplayGuard(client, { prefix: "" }).begin("result:1", 60),
        SmileIdError,
      );
      assertStrictEquals(error.code, "replay_guard");
      assertStrictEquals(await raw("GET", "result:1"), "the application's own value");
    });
  });

  test(`${kind}: a store failure rejects with a SmileIdError (code replay_guard) and its cause`, async () => {
    await withRedis(kind, async (open, server) => {
      const { client, ended } = await open();
      const guard = createRedisReplayGuard(client);
      assertStrictEquals((await guard.begin("held", 60)).state, "claimed");
      const gone = ended(); // listening before the server goes
      await server.stop();
      await gone;
      await assertStoreFailure(guard);
    });
  });

  test(`${kind}: through a counting client, a first delivery sends 2 commands, a duplicate 1`, async () => {
    await withRedis(kind, async (open) => {
      const { client, counter } = counting(kind, (await open()).client);
      await assertOperationCounts(createRedisReplayGuard(client), counter);
    });
  });

  test(`${kind}: 120-character CJK ids are processed once`, async () => {
    await withRedis(kind, async (open) => {
      await assertCjkOnce(createRedisReplayGuard((await open()).client));
    });
  });

  test(`${kind}: reconcileJobs and a handler on another instance run a result that arrives both ways once`, async () => {
    await withRedis(kind, async (open) => {
      const a = createRedisReplayGuard((await open()).client);
      const b = createRedisReplayGuard((await open()).client);
      await assertReconcileShares(a, b);
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
  const error = await assertRejects(() => guard.begin("result:1", 60), SmileIdError, "unexpected reply");
  assertStrictEquals(error.code, "replay_guard");
  const finish = await assertRejects(() => guard.finish("result:1", "t", 60), SmileIdError, "unexpected reply");
  assertStrictEquals(finish.code, "replay_guard");
  const bytes = createRedisReplayGuard({ sendCommand: () => Promise.resolve(new TextEncoder().encode("done")) });
  assertEquals(await bytes.begin("result:1", 60), { state: "done" }, "a reply mapped to bytes is read as text");
  for (const key of ["", 1, undefined]) {
    const bad = await assertRejects(() => guard.begin(key as string, 60), SmileIdError);
    assertStrictEquals(bad.code, "invalid_argument");
  }
});

test("two processes (node-redis and ioredis) × 100 concurrent begins of 10 keys: one begin of each key is claimed", async () => {
  const server = await startRedis();
  try {
    await beginProof({ store: "node-redis", url: server.url }, { store: "ioredis", port: server.port });
  } finally {
    await server.stop();
  }
});

test("two processes with their own client, guard and handler: 200 concurrent deliveries, onCallback runs once, redeliveries 200", async () => {
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
