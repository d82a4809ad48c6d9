// The Worker that tests/host/cloudflare_test.ts runs in workerd (through miniflare), bundled
// with esbuild. The same script is loaded as several workers, each its own isolate: "guard"
// hosts the Durable Objects; "app-a" and "app-b" are two instances of an application, each
// with its own guard and its own callback handler, both bound to the one object class.
//
// Routes of an app worker:
//   POST /op       {guard?, name?, op: "claim" | "release", key, ttl?} → {result} or {error}
//   POST /claims   {keys, claims, reverse, startAt}: at startAt, that many concurrent claims over
//                  `keys` keys (in reverse key order if asked) → {wins}
//   POST /dump     {name?} → the object's storage and alarm (through TestGuardObject)
//   POST /broken   a claim and a release through an object that fails → {claim, release} errors
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

/** An object whose claims throw and whose releases answer 503. */
export class BrokenObject {
  fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname === "/claim") throw new Error("storage exploded");
    return Promise.resolve(new Response("overloaded", { status: 503 }));
  }
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
          const body = await request.json() as { guard?: string; name?: string; op: string; key: string; ttl?: number };
          const id = `${body.guard ?? "a"}/${body.name ?? ""}`;
          let guard = guards.get(id);
          if (guard === undefined) {
            guard = createDurableObjectReplayGuard(env.GUARD, body.name === undefined ? {} : { name: body.name });
            guards.set(id, guard);
          }
          const result = body.op === "claim"
            ? await guard.claim(body.key, body.ttl ?? 60)
            : await guard.release(body.key);
          return Response.json({ result: result ?? null });
        }
        case "/claims": {
          const { keys, claims, reverse, startAt } = await request.json() as {
            keys: number;
            claims: number;
            reverse: boolean;
            startAt: number;
          };
          const guard = createDurableObjectReplayGuard(env.GUARD, { name: "proof" });
          // Both isolates start at the same moment, one walking the keys up and one down, so that
          // they meet, and contend, in the middle.
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
          const results = await Promise.all(
            Array.from({ length: claims }, (_, i) => {
              const k = reverse ? keys - 1 - (i % keys) : i % keys;
              return guard.claim(`proof-${k}`, 60).then((won) => [k, won] as const);
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
          const claim = await guard.claim("pair", 60).then(() => undefined, describeError);
          // Release needs a claim this guard holds: take one through a working object's guard
          // shape, then point the release at the broken object.
          const working = createDurableObjectReplayGuard({
            idFromName: (name) => env.BROKEN.idFromName(name),
            get: (id) => {
              const broken = env.BROKEN.get(id);
              return {
                fetch: (input, init) =>
                  new URL(input).pathname === "/claim"
                    ? Promise.resolve(Response.json({ ok: true }))
                    : broken.fetch(input, init),
              };
            },
          });
          await working.claim("pair", 60);
          const release = await working.release("pair").then(() => undefined, describeError);
          return Response.json({ claim, release });
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
