/**
 * A {@linkcode ReplayGuard} on Cloudflare Durable Objects, shared by every Worker isolate bound
 * to the same Durable Object class: export {@linkcode ReplayGuardObject} from your Worker, bind
 * it, and give the binding to {@linkcode createDurableObjectReplayGuard}. The module imports no
 * `cloudflare:` module, so it type-checks, bundles and loads outside workerd too; the object
 * speaks HTTP through its `fetch` method (RPC methods would need `extends DurableObject` from
 * `cloudflare:workers`).
 *
 * Every call goes to one object, found by name with `idFromName` (default
 * `"smile-id-replay-guard"`), so every instance everywhere asks the same single-threaded object:
 * one request per `begin` and per `finish` (a first delivery makes two, a duplicate one).
 * Inside it a `begin` is one read and at most one write of its storage, atomic because of how
 * Durable Objects run (see {@linkcode ReplayGuardObject}). Entries expire by the object's own
 * clock: seconds are rounded up to whole seconds (at least 1), like the other store guards, and
 * an alarm deletes expired entries. `abandon` deletes a lease only while it holds the random
 * token its `begin` sent, so a lease that lapsed and was then taken by another instance is
 * never deleted by the first one. A `begin` whose answer was lost (the stub failed after the
 * object ran it), or an `abandon` that failed, leaves its token with the guard, whose next
 * `begin` of the key recognises the lease as its own; the object likewise answers `claimed` to a `begin` that carries the token of
 * the lease it holds.
 *
 * Workers KV cannot hold a replay claim: it is eventually consistent (a write can take 60
 * seconds or more to be seen in other locations) and has no atomic "set if absent", so two
 * instances can both see a callback's key absent and both process it. Use a Durable Object.
 *
 * @example wrangler.jsonc
 * ```jsonc ignore
 * {
 *   "durable_objects": { "bindings": [{ "name": "REPLAY_GUARD", "class_name": "ReplayGuardObject" }] },
 *   "migrations": [{ "tag": "v1", "new_sqlite_classes": ["ReplayGuardObject"] }]
 * }
 * ```
 *
 * @example The Worker
 * ```ts ignore
 * import { createCallbackHandler, createClient } from "@smile-id-kit/job-status";
 * import {
 *   createDurableObjectReplayGuard,
 *   type DurableObjectNamespaceLike,
 * } from "@smile-id-kit/job-status/cloudflare";
 * export { ReplayGuardObject } from "@smile-id-kit/job-status/cloudflare";
 *
 * interface Env {
 *   REPLAY_GUARD: DurableObjectNamespaceLike;
 *   SMILE_PARTNER_ID: string;
 *   SMILE_API_KEY: string;
 * }
 *
 * let handler: ((request: Request) => Promise<Response>) | undefined;
 *
 * export default {
 *   fetch(request: Request, env: Env): Promise<Response> {
 *     // Built once per isolate, on its first request (the bindings arrive with it): one client,
 *     // its key imported once, and one handler for every request after.
 *     handler ??= createCallbackHandler({
 *       client: createClient({ partnerId: env.SMILE_PARTNER_ID, apiKey: env.SMILE_API_KEY }),
 *       replayGuard: createDurableObjectReplayGuard(env.REPLAY_GUARD),
 *       onCallback: async (callback) => {
 *         // save callback.status
 *       },
 *     });
 *     return handler(request);
 *   },
 * };
 * ```
 *
 * @module
 */

import { SmileIdError } from "./errors.ts";
import { BUSY, checkKey, checkToken, claimed, DONE, UncertainLeases, wholeSeconds } from "./_claims.ts";
import type { ReplayGuard, ReplayKeyState } from "./replay_guard.ts";
import { escapeText, invalidArgument } from "./_validate.ts";

export type { ReplayGuard, ReplayKeyState };

/**
 * The part of a Durable Object's `state.storage` (`DurableObjectStorage`) the object uses.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { DurableObjectStorageLike } from "@smile-id-kit/job-status/cloudflare";
 *
 * const data = new Map<string, unknown>();
 * const storage: Pick<DurableObjectStorageLike, "get"> = { get: (key) => Promise.resolve(data.get(key)) };
 * assertEquals(await storage.get("absent"), undefined);
 * ```
 */
export interface DurableObjectStorageLike {
  /** Reads one value (`undefined` when absent). */
  get(key: string): Promise<unknown>;
  /** Writes several entries in one atomic step. */
  put(entries: Record<string, unknown>): Promise<void>;
  /** Deletes one key. */
  delete(key: string): Promise<boolean>;
  /** Lists entries in key order, from `start` (inclusive) to `end` (exclusive). */
  list(options: { start?: string; end?: string; limit?: number }): Promise<Map<string, unknown>>;
  /** The time of the scheduled alarm, in milliseconds since the epoch, or `null`. */
  getAlarm(): Promise<number | null>;
  /** Schedules the object's `alarm()` at a time in milliseconds since the epoch. */
  setAlarm(scheduledTime: number): Promise<void>;
}

/**
 * The part of a Durable Object's `state` (`DurableObjectState`, the constructor's first
 * argument) the object uses.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { type DurableObjectStateLike, ReplayGuardObject } from "@smile-id-kit/job-status/cloudflare";
 *
 * const state = { storage: {} } as DurableObjectStateLike; // a storage the object does not reach here
 * const object = new ReplayGuardObject(state, {});
 * assertEquals((await object.fetch(new Request("https://replay-guard.invalid/other", { method: "POST" }))).status, 404);
 * ```
 */
export interface DurableObjectStateLike {
  /** The object's transactional storage. */
  readonly storage: DurableObjectStorageLike;
}

/**
 * The part of a Durable Object stub the guard uses: `fetch`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { DurableObjectStubLike } from "@smile-id-kit/job-status/cloudflare";
 *
 * const stub: DurableObjectStubLike = { fetch: () => Promise.resolve(new Response("ok")) };
 * assertEquals(await (await stub.fetch("https://replay-guard.invalid/")).text(), "ok");
 * ```
 */
export interface DurableObjectStubLike {
  /** Sends a request to the object. */
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

/**
 * The part of a Durable Object namespace binding (`DurableObjectNamespace`) the guard uses.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { DurableObjectNamespaceLike } from "@smile-id-kit/job-status/cloudflare";
 *
 * const namespace: DurableObjectNamespaceLike = {
 *   idFromName: (name) => `id:${name}`,
 *   get: () => ({ fetch: () => Promise.resolve(new Response("{}")) }),
 * };
 * assertEquals(namespace.idFromName("smile-id-replay-guard"), "id:smile-id-replay-guard");
 * ```
 */
export interface DurableObjectNamespaceLike {
  /** The id of the object with this name (the same name always gives the same object). */
  idFromName(name: string): unknown;
  /** A stub to talk to the object with this id. */
  get(id: never): DurableObjectStubLike;
}

/**
 * Options of {@linkcode createDurableObjectReplayGuard}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import {
 *   createDurableObjectReplayGuard,
 *   type CreateDurableObjectReplayGuardOptions,
 *   type DurableObjectNamespaceLike,
 * } from "@smile-id-kit/job-status/cloudflare";
 *
 * const names: string[] = [];
 * const namespace: DurableObjectNamespaceLike = {
 *   idFromName: (name) => names.push(name),
 *   get: () => ({ fetch: () => Promise.resolve(new Response(null, { status: 500 })) }),
 * };
 * const options: CreateDurableObjectReplayGuardOptions = { name: "shop-a" };
 * createDurableObjectReplayGuard(namespace, options);
 * assertEquals(names, ["shop-a"]); // one object per name: guards of another shop stay apart
 * ```
 */
export interface CreateDurableObjectReplayGuardOptions {
  /**
   * The name of the object holding the claims (`idFromName(name)`): every guard with the same
   * binding and name shares the claims.
   *
   * @default {"smile-id-replay-guard"}
   */
  readonly name?: string;
}

const CLAIM = "c:";
const EXPIRY = "e:";
/** Longest key accepted: Durable Object storage keys are limited to 2 KiB. */
const MAX_KEY_LENGTH = 1024;
/** Expired entries one alarm deletes before it schedules the next one. */
const SWEEP_BATCH = 256;
const ORIGIN = "https://replay-guard.invalid";

/**
 * The Durable Object that holds replay claims. Export it from your Worker and bind it (see the
 * module documentation); talk to it through {@linkcode createDurableObjectReplayGuard}.
 *
 * It answers `POST /begin` with `{ key, token, seconds }` by `{ "state": "claimed" | "busy" |
 * "done" }` (for `busy`, with the `token` of the lease held), `POST /finish` with `{ key, token, seconds }` and `POST /abandon` with `{ key,
 * token }` by `{ "ok": boolean }`. Storage holds `c:<key>` → `{ state: "lease", token,
 * expiresAt }` or `{ state: "done", expiresAt }`, and an expiry index `e:<expiresAt>:<key>` that
 * the object's alarm walks to delete expired entries. A `begin` that finds a live lease holding
 * its own token (the same request delivered twice) answers `claimed`.
 *
 * Why a `begin` is atomic: a Durable Object runs one event at a time, and its storage has input
 * gates: while a storage call is pending, the runtime delivers no other event (request) to the
 * object ("Durable Objects: Easy, Fast, Correct — Choose Three"; the Storage API's input gates).
 * A `begin` awaits only storage calls between reading `c:<key>` and writing it (no `fetch`, no
 * timer), so no other `begin` of the same key can run in between; the write then lands in the
 * object's storage cache at once, where the next read sees it, and the response waits (output
 * gate) until it is durable. The object needs no `blockConcurrencyWhile`.
 *
 * @example Driven directly, with a tiny in-memory stand-in for its storage
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { type DurableObjectStorageLike, ReplayGuardObject } from "@smile-id-kit/job-status/cloudflare";
 *
 * const data = new Map<string, unknown>();
 * let alarm: number | null = null;
 * const storage: DurableObjectStorageLike = {
 *   get: (key) => Promise.resolve(data.get(key)),
 *   put: (entries) => Promise.resolve(void Object.entries(entries).forEach(([k, v]) => data.set(k, v))),
 *   delete: (key) => Promise.resolve(data.delete(key)),
 *   list: () => Promise.resolve(new Map([...data].sort(([a], [b]) => (a < b ? -1 : 1)))),
 *   getAlarm: () => Promise.resolve(alarm),
 *   setAlarm: (time) => Promise.resolve(void (alarm = time)),
 * };
 * const object = new ReplayGuardObject({ storage }, {});
 * const begin = (token: string) =>
 *   object.fetch(new Request("https://replay-guard.invalid/begin", {
 *     method: "POST",
 *     body: JSON.stringify({ key: "result:1", token, seconds: 60 }),
 *   }));
 *
 * assertEquals(await (await begin("token-a")).json(), { state: "claimed" });
 * assertEquals(await (await begin("token-b")).json(), { state: "busy", token: "token-a" });
 * assertEquals(await (await begin("token-a")).json(), { state: "claimed" }, "the same request again");
 * assertEquals(alarm !== null, true);
 * ```
 */
export class ReplayGuardObject {
  readonly #storage: DurableObjectStorageLike;

  /**
   * Called by the Workers runtime with the object's state and the Worker's environment.
   *
   * @example
   * ```ts
   * import { assertInstanceOf } from "@std/assert";
   * import { type DurableObjectStateLike, ReplayGuardObject } from "@smile-id-kit/job-status/cloudflare";
   *
   * const object = new ReplayGuardObject({ storage: {} } as DurableObjectStateLike, {});
   * assertInstanceOf(object, ReplayGuardObject);
   * ```
   */
  constructor(state: DurableObjectStateLike, _env?: unknown) {
    this.#storage = state.storage;
  }

  /**
   * Answers `POST /begin`, `POST /finish` and `POST /abandon` (see the class documentation); 400
   * for a body that is not what they take, 404 for another path, 405 for another method.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { type DurableObjectStateLike, ReplayGuardObject } from "@smile-id-kit/job-status/cloudflare";
   *
   * const object = new ReplayGuardObject({ storage: {} } as DurableObjectStateLike, {});
   * assertEquals((await object.fetch(new Request("https://replay-guard.invalid/begin"))).status, 405);
   * ```
   */
  async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path !== "/begin" && path !== "/finish" && path !== "/abandon") {
      return Response.json({ error: "Not found" }, { status: 404 });
    }
    if (request.method !== "POST") {
      return Response.json({ error: "Method not allowed" }, { status: 405, headers: { allow: "POST" } });
    }
    let body: { key?: unknown; token?: unknown; seconds?: unknown };
    try {
      body = await request.json();
    } catch {
      return Response.json({ error: "The body is not JSON" }, { status: 400 });
    }
    const { key, token, seconds } = body ?? {};
    if (typeof key !== "string" || key === "" || key.length > MAX_KEY_LENGTH || typeof token !== "string" || !token) {
      return Response.json({ error: "key and token must be non-empty strings" }, { status: 400 });
    }
    if (path === "/abandon") return Response.json({ ok: await this.#abandon(key, token) });
    if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 1) {
      return Response.json({ error: "seconds must be a positive integer" }, { status: 400 });
    }
    if (path === "/finish") {
      await this.#write(key, { state: "done", expiresAt: Date.now() + seconds * 1000 });
      return Response.json({ ok: true });
    }
    return Response.json(await this.#begin(key, token, seconds));
  }

  /**
   * Deletes expired entries, a batch at a time, and schedules itself for the next expiry. The
   * Workers runtime calls it at the time the object set.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { type DurableObjectStorageLike, ReplayGuardObject } from "@smile-id-kit/job-status/cloudflare";
   *
   * const data = new Map<string, unknown>([["e:0000000000000001:k", "k"], ["c:k", { state: "done", expiresAt: 1 }]]);
   * const storage = {
   *   get: (key: string) => Promise.resolve(data.get(key)),
   *   delete: (key: string) => Promise.resolve(data.delete(key)),
   *   list: ({ start = "", end = "\uffff" }) =>
   *     Promise.resolve(new Map([...data].filter(([k]) => k >= start && k < end).sort(([a], [b]) => (a < b ? -1 : 1)))),
   * } as DurableObjectStorageLike;
   *
   * await new ReplayGuardObject({ storage }, {}).alarm();
   * assertEquals(data.size, 0);
   * ```
   */
  async alarm(): Promise<void> {
    const now = Date.now();
    const due = await this.#storage.list({ start: EXPIRY, end: expiryKey(now + 1, ""), limit: SWEEP_BATCH });
    for (const [indexKey, key] of due) {
      if (typeof key === "string") {
        const entry = asEntry(await this.#storage.get(CLAIM + key));
        // A key written again since has a later expiry (and its own index entry): keep it.
        if (entry !== undefined && entry.expiresAt <= now) await this.#storage.delete(CLAIM + key);
      }
      await this.#storage.delete(indexKey);
    }
    const [next] = await this.#storage.list({ start: EXPIRY, end: "e;", limit: 1 });
    if (next !== undefined) {
      const at = Number(next[0].slice(EXPIRY.length, EXPIRY.length + 16));
      await this.#storage.setAlarm(Math.max(at, now + 1000));
    }
  }

  async #begin(
    key: string,
    token: string,
    seconds: number,
  ): Promise<{ state: ReplayKeyState["state"]; token?: string }> {
    // Only storage calls are awaited from here to the write: see the class documentation.
    const held = asEntry(await this.#storage.get(CLAIM + key));
    const now = Date.now();
    if (held !== undefined && held.expiresAt > now) {
      if (held.state === "done") return { state: "done" };
      return held.token === token ? { state: "claimed" } : { state: "busy", token: held.token };
    }
    await this.#write(key, { state: "lease", token, expiresAt: now + seconds * 1000 });
    return { state: "claimed" };
  }

  /** Writes an entry and its index entry in one step, and makes sure an alarm comes by its expiry. */
  async #write(key: string, entry: Entry): Promise<void> {
    await this.#storage.put({ [CLAIM + key]: entry, [expiryKey(entry.expiresAt, key)]: key });
    const alarm = await this.#storage.getAlarm();
    if (alarm === null || alarm > entry.expiresAt) await this.#storage.setAlarm(entry.expiresAt);
  }

  async #abandon(key: string, token: string): Promise<boolean> {
    const held = asEntry(await this.#storage.get(CLAIM + key));
    if (held?.state !== "lease" || held.token !== token) return false;
    await this.#storage.delete(CLAIM + key); // its index entry goes at its expiry
    return true;
  }
}

/** What a key holds: a lease with its token, or the mark that it is done; both expire. */
type Entry =
  | { readonly state: "lease"; readonly token: string; readonly expiresAt: number }
  | { readonly state: "done"; readonly expiresAt: number };

/** `e:<expiresAt, 16 digits>:<key>`: index keys sort by expiry. */
function expiryKey(expiresAt: number, key: string): string {
  return `${EXPIRY}${String(expiresAt).padStart(16, "0")}:${key}`;
}

function asEntry(value: unknown): Entry | undefined {
  const entry = value as Partial<Record<string, unknown>> | undefined;
  if (typeof entry?.expiresAt !== "number") return undefined;
  if (entry.state === "done") return { state: "done", expiresAt: entry.expiresAt };
  return entry.state === "lease" && typeof entry.token === "string"
    ? { state: "lease", token: entry.token, expiresAt: entry.expiresAt }
    : undefined;
}

/**
 * Creates a {@linkcode ReplayGuard} that keeps its entries in one {@linkcode ReplayGuardObject},
 * the one named `name` in the `namespace` binding. A failure to reach the object, or an answer
 * other than 200, rejects with a {@linkcode SmileIdError} whose code is `replay_guard` (with
 * the stub's error as `cause`).
 *
 * @example With a namespace whose object runs in-process on an in-memory storage
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import {
 *   createDurableObjectReplayGuard,
 *   type DurableObjectNamespaceLike,
 *   type DurableObjectStorageLike,
 *   ReplayGuardObject,
 * } from "@smile-id-kit/job-status/cloudflare";
 *
 * const data = new Map<string, unknown>();
 * const storage = {
 *   get: (key: string) => Promise.resolve(data.get(key)),
 *   put: (entries: Record<string, unknown>) => Promise.resolve(void Object.entries(entries).forEach(([k, v]) => data.set(k, v))),
 *   delete: (key: string) => Promise.resolve(data.delete(key)),
 *   getAlarm: () => Promise.resolve(Date.now() + 60_000),
 * } as DurableObjectStorageLike;
 * const object = new ReplayGuardObject({ storage }, {});
 * const namespace: DurableObjectNamespaceLike = {
 *   idFromName: (name) => name,
 *   get: () => ({ fetch: (url, init) => object.fetch(new Request(url, init)) }),
 * };
 *
 * const guard = createDurableObjectReplayGuard(namespace);
 * const first = await guard.begin("result:1", 300);
 * assertEquals((await guard.begin("result:1", 300)).state, "busy");
 * if (first.state === "claimed") await guard.finish("result:1", first.token, 3600);
 * assertEquals((await guard.begin("result:1", 300)).state, "done");
 * ```
 */
export function createDurableObjectReplayGuard(
  namespace: DurableObjectNamespaceLike,
  options: CreateDurableObjectReplayGuardOptions = {},
): ReplayGuard {
  if (typeof namespace?.idFromName !== "function" || typeof namespace.get !== "function") {
    throw invalidArgument("The Durable Object namespace", "a binding with idFromName and get", namespace);
  }
  const name = options?.name ?? "smile-id-replay-guard";
  if (typeof name !== "string" || name === "") throw invalidArgument("Option name", "a non-empty string", name);
  const id = namespace.idFromName(name);
  const uncertain = new UncertainLeases();

  /** Posts to the object; a new stub each time, since a stub that failed once stays broken. */
  async function call(
    what: "begin" | "finish" | "abandon",
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await namespace.get(id as never).fetch(`${ORIGIN}/${what}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (cause) {
      const reason = cause instanceof Error ? escapeText(`${cause.name}: ${cause.message}`) : "the stub failed";
      throw new SmileIdError("replay_guard", `The Durable Object replay guard could not ${what} a key (${reason})`, {
        cause,
      });
    }
    const text = await response.text().catch(() => "");
    let answer: Record<string, unknown> | undefined;
    try {
      answer = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // handled below
    }
    const value = what === "begin" ? answer?.state : answer?.ok;
    const valid = what === "begin" ? value === "claimed" || value === "busy" || value === "done" : value === true ||
      (what === "abandon" && value === false);
    if (response.status !== 200 || !valid) {
      throw new SmileIdError(
        "replay_guard",
        `The replay guard's Durable Object answered the ${what} with ${response.status}: ${
          escapeText(text.slice(0, 200))
        }`,
        { status: response.status },
      );
    }
    return answer!;
  }

  return {
    async begin(key, leaseSeconds): Promise<ReplayKeyState> {
      checkKey(key, MAX_KEY_LENGTH);
      const seconds = wholeSeconds(key, leaseSeconds, "leaseSeconds");
      const token = crypto.randomUUID();
      const expiresAt = Date.now() + seconds * 1000;
      let answer: Record<string, unknown>;
      try {
        answer = await call("begin", { key, token, seconds });
      } catch (error) {
        uncertain.add(key, token, expiresAt);
        throw error;
      }
      if (answer.state === "claimed") return claimed(token);
      if (answer.state === "done") return DONE;
      // A lease this guard took in a begin that failed without an answer is its own.
      const held = answer.token;
      return typeof held === "string" && uncertain.take(key, held) ? claimed(held) : BUSY;
    },
    async finish(key, token, rememberSeconds) {
      checkKey(key, MAX_KEY_LENGTH);
      const seconds = wholeSeconds(key, rememberSeconds, "rememberSeconds");
      checkToken(token);
      uncertain.forget(key);
      await call("finish", { key, token, seconds });
    },
    async abandon(key, token) {
      checkKey(key, MAX_KEY_LENGTH);
      checkToken(token);
      uncertain.forget(key);
      try {
        await call("abandon", { key, token });
      } catch (error) {
        // The lease may still be there: this guard's next begin of the key takes it back.
        uncertain.add(key, token);
        throw error;
      }
    },
  };
}
