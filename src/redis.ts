/**
 * A {@linkcode ReplayGuard} on Redis (7.0 or later), shared by every instance that talks to the
 * same Redis: {@linkcode createRedisReplayGuard} takes the application's own client of the
 * current `redis` (node-redis) or `ioredis` package. This module imports neither; it needs only
 * the one method it calls.
 *
 * Each key holds one value: `lease:<token>` while a delivery processes it, `done` once it is
 * processed.
 *
 * - **begin** is one command, `SET <prefix><key> lease:<token> NX GET EX <leaseSeconds>`: Redis
 *   sets the key only if it is absent and answers with what was there before, so one round trip
 *   tells all three states (nil: the lease is the caller's; `lease:…`: busy; `done`). Redis runs
 *   each command on its own, so of any number of concurrent `begin`s of one key, from any number
 *   of processes or machines, exactly one finds it absent. `NX` and `GET` together need Redis
 *   7.0 or later (older servers answer with a syntax error, which rejects as `replay_guard`).
 * - **finish** is one command, `SET <prefix><key> done EX <rememberSeconds>`.
 * - **abandon** runs a compare-and-delete script (`EVAL`) that deletes the key only while it
 *   still holds this lease's token, so a lease that lapsed and was taken by another instance is
 *   never deleted. It runs only after a failure, never on the success path.
 * - **a dropped reply**: a `begin` whose reply is lost may still have set the lease. ioredis
 *   re-sends such a command after reconnecting; the reply is then the caller's own
 *   `lease:<token>`, which `begin` recognises as its own. node-redis rejects the command instead;
 *   the guard remembers the token, and its next `begin` of that key recognises the lease. (A
 *   redelivery that reaches another instance meanwhile is answered `busy` until the lease lapses
 *   after `leaseSeconds`.) So does an `abandon` that failed. A `finish` is a plain write,
 *   harmless to repeat.
 * - **expiry**: seconds are rounded up to whole seconds (at least 1), as `EX` requires; the key
 *   disappears after that, by Redis's own clock.
 *
 * Which client: one with a `call` method is taken for ioredis (`redis.call("SET", …)`);
 * otherwise one with `sendCommand` for node-redis, whose `createClient()` and
 * `createClientPool()` take the command as one array (`client.sendCommand(["SET", …])`).
 * node-redis's `createCluster()` and `createSentinel()` clients, whose `sendCommand` takes
 * other arguments first, are refused with a clear error: pass an ioredis client (its `Cluster`
 * has the same `call`) or a node-redis client of the primary.
 *
 * The client's own connection policy applies to every command. Both clients queue commands while
 * disconnected by default, so a `begin` made while Redis is down waits for the reconnection; to
 * fail fast instead (the callback handler then answers 503 and Smile ID redelivers), create the
 * node-redis client with `disableOfflineQueue: true`, or the ioredis client with
 * `maxRetriesPerRequest: 1` (a small number: the command is re-sent after one reconnection,
 * then rejected). Any failure of the client rejects with a {@linkcode SmileIdError} whose code
 * is `replay_guard` and whose `cause` is the client's error.
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

import { SmileIdError } from "./errors.ts";
import { BUSY, checkKey, checkToken, claimed, DONE, foreignValue, UncertainLeases, wholeSeconds } from "./_claims.ts";
import type { ReplayGuard, ReplayKeyState } from "./replay_guard.ts";
import { escapeText, invalidArgument, quote } from "./_validate.ts";

export type { ReplayGuard, ReplayKeyState };

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
 * // A stand-in for which every key is already done: SET … NX GET answers the value there.
 * const processed: RedisLikeClient = { call: () => Promise.resolve("done") };
 * assertEquals(await createRedisReplayGuard(processed).begin("result:1", 300), { state: "done" });
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
 *   sendCommand(args: string[]): Promise<string | null> {
 *     sent.push(args);
 *     return Promise.resolve(null); // the key was absent: the lease is ours
 *   },
 * };
 * const options: CreateRedisReplayGuardOptions = { prefix: "shop-a:smile-replay:" };
 * assertEquals((await createRedisReplayGuard(client, options).begin("result:1", 300)).state, "claimed");
 * assertEquals(sent[0]!.slice(0, 2), ["SET", "shop-a:smile-replay:result:1"]);
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
const ABANDON_SCRIPT = 'if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0';
const LEASE = "lease:";
const DONE_VALUE = "done";

/**
 * Creates a {@linkcode ReplayGuard} on Redis through the application's node-redis or ioredis
 * client (see the module documentation for how the two are told apart and what each command
 * does): one command per `begin` and per `finish`.
 *
 * @example With a tiny in-memory stand-in for an ioredis client
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createRedisReplayGuard, type IoRedisLikeClient } from "@smile-id-kit/job-status/redis";
 *
 * // Just enough of Redis: SET … NX GET, a plain SET, and the compare-and-delete EVAL.
 * const data = new Map<string, string>();
 * const client: IoRedisLikeClient = {
 *   call(command, ...args) {
 *     if (command === "SET") {
 *       const [key, value, nx] = args as [string, string, string];
 *       const old = data.get(key) ?? null;
 *       if (nx !== "NX" || old === null) data.set(key, value);
 *       return Promise.resolve(nx === "NX" ? old : "OK");
 *     }
 *     const [, , key, value] = args as [string, string, string, string];
 *     const owned = data.get(key) === value;
 *     if (owned) data.delete(key);
 *     return Promise.resolve(owned ? 1 : 0);
 *   },
 * };
 *
 * const guard = createRedisReplayGuard(client, { prefix: "test:" });
 * const first = await guard.begin("result:1", 300);
 * assertEquals((await guard.begin("result:1", 300)).state, "busy");
 * if (first.state === "claimed") await guard.finish("result:1", first.token, 3600);
 * assertEquals((await guard.begin("result:1", 300)).state, "done");
 * assertEquals([...data], [["test:result:1", "done"]]);
 * ```
 */
export function createRedisReplayGuard(
  client: RedisLikeClient,
  options: CreateRedisReplayGuardOptions = {},
): ReplayGuard {
  const prefix = options?.prefix ?? "smile-id:replay:";
  if (typeof prefix !== "string") throw invalidArgument("Option prefix", "a string", prefix);
  const send = commandSender(client);
  const uncertain = new UncertainLeases();

  return {
    async begin(key, leaseSeconds): Promise<ReplayKeyState> {
      const seconds = wholeSeconds(key, leaseSeconds, "leaseSeconds");
      const token = crypto.randomUUID();
      let reply: unknown;
      try {
        reply = await send(["SET", prefix + key, LEASE + token, "NX", "GET", "EX", String(seconds)]);
      } catch (cause) {
        // The command may have run: remember the token, so that this guard knows the lease as its own.
        uncertain.add(key, token, Date.now() + seconds * 1000);
        throw failed("begin", cause);
      }
      if (reply === null || reply === undefined) return claimed(token);
      const text = replyText(reply);
      if (text === DONE_VALUE) return DONE;
      if (text?.startsWith(LEASE)) {
        const held = text.slice(LEASE.length);
        // Our own lease: the client re-sent the command after a dropped reply, or an earlier
        // begin of this guard failed without an answer after Redis had run it.
        if (held === token || uncertain.take(key, held)) return claimed(held);
        return BUSY;
      }
      throw text === undefined
        ? new SmileIdError("replay_guard", `Redis answered the begin with an unexpected reply: ${describe(reply)}`)
        : foreignValue("Redis", text.length > 40 ? `${text.slice(0, 40)}…` : text);
    },
    async finish(key, token, rememberSeconds) {
      const seconds = wholeSeconds(key, rememberSeconds, "rememberSeconds");
      checkToken(token);
      uncertain.forget(key);
      let reply: unknown;
      try {
        reply = await send(["SET", prefix + key, DONE_VALUE, "EX", String(seconds)]);
      } catch (cause) {
        throw failed("finish", cause);
      }
      if (replyText(reply) !== "OK") {
        throw new SmileIdError(
          "replay_guard",
          `Redis answered the finish with an unexpected reply: ${describe(reply)}`,
        );
      }
    },
    async abandon(key, token) {
      checkKey(key);
      checkToken(token);
      uncertain.forget(key);
      try {
        await send(["EVAL", ABANDON_SCRIPT, "1", prefix + key, LEASE + token]);
      } catch (cause) {
        // The lease may still be there: this guard's next begin of the key takes it back.
        uncertain.add(key, token);
        throw failed("abandon", cause);
      }
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

type Operation = "begin" | "finish" | "abandon";

function failed(what: Operation, cause: unknown): SmileIdError {
  const reason = cause instanceof Error ? escapeText(`${cause.name}: ${cause.message}`) : "the client failed";
  return new SmileIdError("replay_guard", `The Redis replay guard could not ${what} a key (${reason})`, { cause });
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
