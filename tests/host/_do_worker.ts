// The Worker that tests/host/cloudflare_test.ts runs in workerd (through miniflare), bundled
// with esbuild. The same script is loaded as several workers, each its own isolate: "guard"
// hosts the Durable Objects; "app-a" and "app-b" are two instances of an application, each
// with its own guard and its own callback handler, both bound to the one object class.
//
// Routes of an app worker:
//   POST /op       {guard?, name?, op: "begin" | "finish" | "abandon", key, seconds?, token?}
//                  → {result} or {error}
//   POST /begins   {keys, begins, reverse, startAt}: at startAt, that many concurrent begins over
//                  `keys` keys (in reverse key order if asked) → {wins}
//   POST /dump     {name?} → the object's storage and alarm (through TestGuardObject)
//   POST /broken   begin, finish and abandon through an object that fails → their errors
//   POST /check    {check}: one of the in-process checks of _guard_checks.ts, run here on the
//                  real object → {log} or {error}
//   GET  /count    → {count}: onCallback runs in this isolate
//   anything else  → createCallbackHandler (confirming against env.FAKE_BASE)

import { createClient } from "../../src/client.ts";
import {
  createDurableObjectReplayGuard,
  type DurableObjectNamespaceLike,
  type DurableObjectStateLike,
  ReplayGuardObject,
} from "../../src/cloudflare.ts";
import { SmileIdError } from "../../src/errors.ts";
import { createCallbackHandler } from "../../src/handler.ts";
import type { ReplayGuard } from "../../src/replay_guard.ts";
import {
  assertCjkOnce,
  assertDroppedReplies,
  assertGuardBasics,
  assertOperationCounts,
  assertReconcileShares,
} from "./_guard_checks.ts";

interface Env {
  readonly GUARD: DurableObjectNamespaceLike;
  readonly BROKEN: DurableObjectNamespaceLike;
  readonly FAKE_BASE: string;
  readonly PARTNER_ID: string;
  readonly API_KEY: string;
}

/** The real object, plus a `/dump` of its storage for the test's checks. */
export class TestGuardObject extends ReplayGuardObject {
  readonly #state: DurableObjectStateLike;

  constructor(state: DurableObjectStateLike, env: unknown) {
    super(state, env);
    this.#state = state;
  }

  override async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== "/dump") return await super.fetch(request);
    const entries = Object.fromEntries(await this.#state.storage.list({}));
    return Response.json({ entries, alarm: await this.#state.storage.getAlarm(), now: Date.now() });
  }
}

/** An object whose begins throw and whose other calls answer 503. */
export class BrokenObject {
  fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname === "/begin") throw new Error("storage exploded");
    return Promise.resolve(new Response("overloaded", { status: 503 }));
  }
}

/**
 * A namespace whose stubs count their requests and can lose the answer to one: the request
 * reaches the object and runs, then the stub throws, as one whose connection dropped would.
 */
function faultyNamespace(namespace: DurableObjectNamespaceLike) {
  let seen = 0;
  let target = 0;
  const wrapped: DurableObjectNamespaceLike = {
    idFromName: (name) => namespace.idFromName(name),
    get: (id) => {
      const stub = namespace.get(id);
      return {
        fetch: async (input, init) => {
          const response = await stub.fetch(input, init);
          if (++seen === target) {
            await response.body?.cancel();
            throw new Error("the connection to the Durable Object dropped before its answer");
          }
          return response;
        },
      };
    },
  };
  return { namespace: wrapped, seen: () => seen, dropNth: (n: number) => void (target = seen + n) };
}

async function check(name: string, env: Env): Promise<string[]> {
  const guard = (object: string) => createDurableObjectReplayGuard(env.GUARD, { name: object });
  switch (name) {
    case "basics":
      await assertGuardBasics(guard("basics"), guard("basics"));
      return [];
    case "counts": {
      const counted = faultyNamespace(env.GUARD);
      let from = 0;
      const counter = {
        writes: () => counted.seen() - from,
        all: () => counted.seen() - from,
        reset: () => void (from = counted.seen()),
      };
      await assertOperationCounts(createDurableObjectReplayGuard(counted.namespace, { name: "counts" }), counter);
      return [];
    }
    case "cjk":
      await assertCjkOnce(guard("cjk"));
      return [];
    case "reconcile":
      await assertReconcileShares(guard("reconcile"), guard("reconcile"));
      return [];
    case "faults": {
      const faulty = faultyNamespace(env.GUARD);
      return await assertDroppedReplies({
        guard: createDurableObjectReplayGuard(faulty.namespace, { name: "faults" }),
        operations: faulty.seen,
        dropNth: faulty.dropNth,
        ready: () => Promise.resolve(),
      });
    }
  }
  throw new Error(`no check ${name}`);
}

const guards = new Map<string, ReplayGuard>();
let count = 0;
let handler: ((request: Request) => Promise<Response>) | undefined;

function describeError(error: unknown): Record<string, unknown> {
  return {
    name: error instanceof Error ? error.name : typeof error,
    code: error instanceof SmileIdError ? error.code : undefined,
    message: error instanceof Error ? error.message : String(error),
    cause: error instanceof Error && error.cause !== undefined ? String(error.cause) : undefined,
    causeIsError: error instanceof Error && error.cause instanceof Error,
    status: error instanceof SmileIdError ? error.status : undefined,
  };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    try {
      switch (pathname) {
        case "/op": {
          const body = await request.json() as {
            guard?: string;
            name?: string;
            op: string;
            key: string;
            seconds?: number;
            token?: string;
          };
          const id = `${body.guard ?? "a"}/${body.name ?? ""}`;
          let guard = guards.get(id);
          if (guard === undefined) {
            guard = createDurableObjectReplayGuard(env.GUARD, body.name === undefined ? {} : { name: body.name });
            guards.set(id, guard);
          }
          const result = body.op === "begin"
            ? await guard.begin(body.key, body.seconds ?? 60)
            : body.op === "finish"
            ? await guard.finish(body.key, body.token!, body.seconds ?? 60)
            : await guard.abandon(body.key, body.token!);
          return Response.json({ result: result ?? null });
        }
        case "/begins": {
          const { keys, begins, reverse, startAt } = await request.json() as {
            keys: number;
            begins: number;
            reverse: boolean;
            startAt: number;
          };
          const guard = createDurableObjectReplayGuard(env.GUARD, { name: "proof" });
          // Both isolates start near the same moment, one walking the keys up and one down, so
          // that they meet, and contend, in the middle (the assertion holds however they meet).
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
          const results = await Promise.all(
            Array.from({ length: begins }, (_, i) => {
              const k = reverse ? keys - 1 - (i % keys) : i % keys;
              return guard.begin(`proof-${k}`, 60).then((state) => [k, state.state === "claimed"] as const);
            }),
          );
          const wins: Record<string, number> = {};
          for (const [k, won] of results) wins[`proof-${k}`] = (wins[`proof-${k}`] ?? 0) + (won ? 1 : 0);
          return Response.json({ wins });
        }
        case "/dump": {
          const { name } = await request.json() as { name?: string };
          const stub = env.GUARD.get(env.GUARD.idFromName(name ?? "smile-id-replay-guard") as never);
          return await stub.fetch("https://replay-guard.invalid/dump", { method: "POST" });
        }
        case "/broken": {
          const guard = createDurableObjectReplayGuard(env.BROKEN);
          return Response.json({
            begin: await guard.begin("result:1", 60).then(() => undefined, describeError),
            finish: await guard.finish("result:1", "token", 60).then(() => undefined, describeError),
            abandon: await guard.abandon("result:1", "token").then(() => undefined, describeError),
          });
        }
        case "/check": {
          const { check: name } = await request.json() as { check: string };
          try {
            return Response.json({ log: await check(name, env) });
          } catch (error) {
            return Response.json({
              error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error),
            });
          }
        }
        case "/count":
          return Response.json({ count });
      }
      handler ??= createCallbackHandler({
        client: createClient({ partnerId: env.PARTNER_ID, apiKey: env.API_KEY, server: env.FAKE_BASE }),
        replayGuard: createDurableObjectReplayGuard(env.GUARD, { name: "callbacks" }),
        onCallback: async () => {
          count++;
          await new Promise((resolve) => setTimeout(resolve, 50));
        },
      });
      return await handler(request);
    } catch (error) {
      return Response.json({ error: describeError(error) }, { status: 500 });
    }
  },
};
