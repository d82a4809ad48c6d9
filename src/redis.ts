/**
 * A {@linkcode ReplayGuard} on Redis, shared by every instance that talks to the same Redis:
 * {@linkcode createRedisReplayGuard} takes the application's own client of the current `redis`
 * (node-redis) or `ioredis` package. This module imports neither; it needs only the one method
 * it calls.
 *
 * - **claim** is one command, `SET <prefix><key> <token> NX EX <ttl>`. Redis runs each command
 *   on its own, so of any number of concurrent claims of one key, from any number of processes
 *   or machines, exactly one gets `OK`; no read comes before the write.
 * - **release** runs a compare-and-delete script (`EVAL`) that deletes the key only while it
 *   still holds the random token this guard wrote. A claim that expired and was then taken by
 *   another instance is never deleted by the first one.
 * - **ttl**: `ttlSeconds` is rounded up to whole seconds (at least 1), as `EX` requires; the key
 *   disappears after that, by Redis's own clock.
 *
 * Which client: one with a `call` method is taken for ioredis (`redis.call("SET", …)`);
 * otherwise one with `sendCommand` for node-redis, whose `createClient()` and
 * `createClientPool()` take the command as one array (`client.sendCommand(["SET", …])`).
 * node-redis's `createCluster()` and `createSentinel()` clients, whose `sendCommand` takes
 * other arguments first, are refused with a clear error: pass an ioredis client (its `Cluster`
 * has the same `call`) or a node-redis client of the primary.
 *
 * The client's own connection policy applies to every claim. Both clients queue commands while
 * disconnected by default, so a claim made while Redis is down waits for the reconnection; to
 * fail fast instead (the callback handler then answers 5xx and Smile ID redelivers), create the
 * node-redis client with `disableOfflineQueue: true`, or the ioredis client with
 * `enableOfflineQueue: false` or a small `maxRetriesPerRequest`. Any failure of the client
 * rejects with a {@linkcode SmileIdError} whose code is `replay_guard` and whose `cause` is the
 * client's error.
 *
 * @example With node-redis
 * ```ts ignore
 * import { createClient } from "redis";
 * import { createRedisReplayGuard } from "@smile-id-kit/job-status/redis";
 *
 * const redis = await createClient({ url: "redis://127.0.0.1:6379", disableOfflineQueue: true }).connect();
 * const replayGuard = createRedisReplayGuard(redis);
 * ```
 *
 * @example With ioredis
 * ```ts ignore
 * import { Redis } from "ioredis";
 * import { createRedisReplayGuard } from "@smile-id-kit/job-status/redis";
 *
 * const replayGuard = createRedisReplayGuard(new Redis(6379, "127.0.0.1", { maxRetriesPerRequest: 1 }));
 * ```
 *
 * @module
 */

import { escapeText, invalidArgument, quote, SmileIdError } from "./errors.ts";
import { checkKey, ClaimTokens, wholeSeconds } from "./_claims.ts";
import type { ReplayGuard } from "./replay_guard.ts";

export type { ReplayGuard };

/**
 * The part of an ioredis client (`Redis` or `Cluster`) the guard uses: `call(command, ...args)`.
 *
 * @example An ioredis-shaped stand-in
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { IoRedisLikeClient } from "@smile-id-kit/job-status/redis";
 *
 * const client: IoRedisLikeClient = { call: (command, ...args) => Promise.resolve([command, ...args].join(" ")) };
 * assertEquals(await client.call("PING"), "PING");
 * ```
 */
export interface IoRedisLikeClient {
  /** Sends one command with its arguments and resolves with Redis's reply. */
  call(command: string, ...args: string[]): Promise<unknown>;
}

/**
 * The part of a node-redis client (`createClient()`, `createClientPool()`) the guard uses:
 * `sendCommand([command, ...args])`.
 *
 * @example A node-redis-shaped stand-in
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { NodeRedisLikeClient } from "@smile-id-kit/job-status/redis";
 *
 * const client: NodeRedisLikeClient = { sendCommand: (args) => Promise.resolve(args.join(" ")) };
 * assertEquals(await client.sendCommand(["PING"]), "PING");
 * ```
 */
export interface NodeRedisLikeClient {
  /** Sends one command, given as an array of the command and its arguments, and resolves with the reply. */
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * A client of the `redis` (node-redis) or `ioredis` package, as far as
 * {@linkcode createRedisReplayGuard} needs one.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createRedisReplayGuard, type RedisLikeClient } from "@smile-id-kit/job-status/redis";
 *
 * // A stand-in for which every key is already taken: SET … NX answers null.
 * const taken: RedisLikeClient = { call: () => Promise.resolve(null) };
 * assertEquals(await createRedisReplayGuard(taken).claim("pair", 300), false);
 * ```
 */
export type RedisLikeClient = IoRedisLikeClient | NodeRedisLikeClient;

/**
 * Options of {@linkcode createRedisReplayGuard}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createRedisReplayGuard, type CreateRedisReplayGuardOptions } from "@smile-id-kit/job-status/redis";
 *
 * const sent: string[][] = [];
 * const client = {
 *   sendCommand(args: string[]): Promise<string> {
 *     sent.push(args);
 *     return Promise.resolve("OK");
 *   },
 * };
 * const options: CreateRedisReplayGuardOptions = { prefix: "shop-a:smile-replay:" };
 * assertEquals(await createRedisReplayGuard(client, options).claim("pair", 300), true);
 * assertEquals(sent[0]!.slice(0, 2), ["SET", "shop-a:smile-replay:pair"]);
 * ```
 */
export interface CreateRedisReplayGuardOptions {
  /**
   * Put before every key, so the guard's keys stay apart from the application's.
   *
   * @default {"smile-id:replay:"}
   */
  readonly prefix?: string;
}

/** Deletes KEYS[1] only while it holds ARGV[1]: the compare and the delete are one atomic step. */
const RELEASE_SCRIPT = 'if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0';

/**
 * Creates a {@linkcode ReplayGuard} on Redis through the application's node-redis or ioredis
 * client (see the module documentation for how the two are told apart and what each command
 * does). The guard keeps, for each key it claimed, the random token it wrote, so that
 * `release` deletes only its own claim.
 *
 * @example With a tiny in-memory stand-in for an ioredis client
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createRedisReplayGuard, type IoRedisLikeClient } from "@smile-id-kit/job-status/redis";
 *
 * // Just enough of Redis: SET … NX EX and the compare-and-delete EVAL.
 * const data = new Map<string, string>();
 * const client: IoRedisLikeClient = {
 *   call(command, ...args) {
 *     if (command === "SET") {
 *       const [key, value] = args as [string, string];
 *       if (data.has(key)) return Promise.resolve(null);
 *       data.set(key, value);
 *       return Promise.resolve("OK");
 *     }
 *     const [, , key, token] = args as [string, string, string, string];
 *     const owned = data.get(key) === token;
 *     if (owned) data.delete(key);
 *     return Promise.resolve(owned ? 1 : 0);
 *   },
 * };
 *
 * const guard = createRedisReplayGuard(client, { prefix: "test:" });
 * assertEquals(await guard.claim("pair", 300), true);
 * assertEquals(await guard.claim("pair", 300), false);
 * await guard.release("pair");
 * assertEquals(await guard.claim("pair", 300), true);
 * assertEquals([...data.keys()], ["test:pair"]);
 * ```
 */
export function createRedisReplayGuard(
  client: RedisLikeClient,
  options: CreateRedisReplayGuardOptions = {},
): ReplayGuard {
  const prefix = options?.prefix ?? "smile-id:replay:";
  if (typeof prefix !== "string") throw invalidArgument("Option prefix", "a string", prefix);
  const send = commandSender(client);
  const tokens = new ClaimTokens();

  return {
    async claim(key, ttlSeconds) {
      const ttl = wholeSeconds(key, ttlSeconds);
      const token = crypto.randomUUID();
      const expiresAt = Date.now() + ttl * 1000;
      const reply = await run(() => send(["SET", prefix + key, token, "NX", "EX", String(ttl)]), "claim");
      const text = replyText(reply);
      if (text === "OK") {
        tokens.set(key, token, expiresAt);
        return true;
      }
      if (reply === null || reply === undefined) return false;
      throw new SmileIdError("replay_guard", `Redis answered the claim with an unexpected reply: ${describe(reply)}`);
    },
    async release(key) {
      checkKey(key);
      const token = tokens.take(key);
      if (token === undefined) return;
      await run(() => send(["EVAL", RELEASE_SCRIPT, "1", prefix + key, token]), "release");
    },
  };
}

type Send = (args: string[]) => Promise<unknown>;

/** Tells ioredis from node-redis by the method each has, and refuses what neither is. */
function commandSender(client: RedisLikeClient): Send {
  const c = client as unknown as Record<string, unknown> | null;
  if (typeof c?.call === "function") {
    const io = client as IoRedisLikeClient;
    return ([command, ...args]) => io.call(command!, ...args);
  }
  if (typeof c?.sendCommand === "function") {
    if (typeof c.getMasters === "function" || typeof c.getSlotMaster === "function") {
      throw new SmileIdError(
        "invalid_argument",
        "A node-redis cluster client (createCluster) is not supported: its sendCommand takes a routing key first; " +
          "pass an ioredis Cluster or a node-redis client of one primary",
      );
    }
    if (typeof c.getMasterNode === "function" || typeof c.getSentinelNode === "function") {
      throw new SmileIdError(
        "invalid_argument",
        "A node-redis sentinel client (createSentinel) is not supported: its sendCommand takes isReadonly first; " +
          "pass an ioredis client with sentinels or a node-redis client of the primary",
      );
    }
    const node = client as NodeRedisLikeClient;
    return (args) => node.sendCommand(args);
  }
  throw invalidArgument("The Redis client", "a node-redis or ioredis client (with sendCommand or call)", client);
}

/** Runs one client call; anything it throws or rejects with becomes a `replay_guard` error. */
async function run(call: () => Promise<unknown>, what: "claim" | "release"): Promise<unknown> {
  try {
    return await call();
  } catch (cause) {
    const reason = cause instanceof Error ? escapeText(`${cause.name}: ${cause.message}`) : "the client failed";
    throw new SmileIdError("replay_guard", `The Redis replay guard could not ${what} a key (${reason})`, { cause });
  }
}

/** A simple-string reply as text: clients may map it to a string or, with type mapping, to bytes. */
function replyText(reply: unknown): string | undefined {
  if (typeof reply === "string") return reply;
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply);
  return undefined;
}

function describe(reply: unknown): string {
  const text = replyText(reply);
  return text !== undefined ? quote(text, 40) : quote(reply);
}
