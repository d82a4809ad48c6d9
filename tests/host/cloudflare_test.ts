// ReplayGuardObject and createDurableObjectReplayGuard in workerd, through miniflare: one
// Miniflare with three workers of the same bundled script (tests/host/_do_worker.ts), each its
// own isolate. "guard" hosts the Durable Object class; "app-a" and "app-b" are two instances
// of an application, each with its own guard and callback handler, both bound to that class,
// reached over real HTTP on 127.0.0.1 through their own sockets. The in-process checks of
// _guard_checks.ts (operation counts, lost answers, CJK ids, reconcile) run inside an app
// isolate on the real object. Ends with the two-isolate proofs.

import { test } from "node:test";
import { assert, assertEquals, assertStrictEquals, assertThrows } from "@std/assert";
import { Miniflare } from "miniflare";
import { bundleEntry, stopBundler } from "../../scripts/conformance/bundle.ts";
import { createDurableObjectReplayGuard, type DurableObjectNamespaceLike } from "../../src/cloudflare.ts";
import { SmileIdError } from "../../src/errors.ts";
import { deliverEverywhere, type ProofSmileId, startProofSmileId } from "./_guard_proof.ts";
import { sleep } from "../_helpers.ts";

// Not newer than the workerd that miniflare bundles.
const COMPATIBILITY_DATE = "2026-01-01";

interface Workerd {
  /** `http://127.0.0.1:<port>` of each app worker. */
  readonly a: string;
  readonly b: string;
}

let script: Promise<string> | undefined;
/** The worker bundle, built once per file. */
function bundle(): Promise<string> {
  script ??= bundleEntry(
    `export * from "./tests/host/_do_worker.ts";\nexport { default } from "./tests/host/_do_worker.ts";`,
    "workerd",
  )
    .finally(() => stopBundler());
  return script;
}

/** Runs `body` with a fresh Miniflare (fresh, in-memory Durable Object storage); disposes it after. */
async function withWorkerd(body: (workerd: Workerd, smile: ProofSmileId) => Promise<void>): Promise<void> {
  const code = await bundle();
  const smile = await startProofSmileId();
  let mf: Miniflare | undefined;
  try {
    const bindings = { FAKE_BASE: smile.base, PARTNER_ID: smile.partnerId, API_KEY: smile.apiKey };
    const app = (name: string) => ({
      name,
      modules: true,
      script: code,
      compatibilityDate: COMPATIBILITY_DATE,
      bindings,
      durableObjects: {
        GUARD: { className: "TestGuardObject", scriptName: "guard" },
        BROKEN: { className: "BrokenObject", scriptName: "guard" },
      },
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    });
    mf = new Miniflare({
      workers: [
        {
          name: "guard",
          modules: true,
          script: code,
          compatibilityDate: COMPATIBILITY_DATE,
          bindings,
          durableObjects: { GUARD: "TestGuardObject", BROKEN: "BrokenObject" },
        },
        app("app-a"),
        app("app-b"),
      ],
    });
    await mf.ready;
    const a = (await mf.unsafeGetDirectURL("app-a")).origin;
    const b = (await mf.unsafeGetDirectURL("app-b")).origin;
    await body({ a, b }, smile);
  } finally {
    await mf?.dispose();
    await smile.close();
  }
}

async function post(origin: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${origin}${path}`, { method: "POST", body: JSON.stringify(body) });
  const json = (await response.json()) as Record<string, unknown>;
  assertEquals(response.status, 200, `${path} ${JSON.stringify(body)} → ${JSON.stringify(json)}`);
  return json;
}

/** One guard operation in one isolate; `guard` names a guard object kept in that isolate. */
async function op(
  origin: string,
  body: {
    op: "begin" | "finish" | "abandon";
    key: string;
    seconds?: number;
    token?: string;
    guard?: string;
    name?: string;
  },
): Promise<{ state: string; token?: string } | null> {
  return (await post(origin, "/op", body)).result as { state: string; token?: string } | null;
}

interface Dump {
  entries: Record<string, unknown>;
  alarm: number | null;
  now: number;
}
const dump = async (origin: string, name = "smile-id-replay-guard") =>
  (await post(origin, "/dump", { name })) as unknown as Dump;

/** Runs one of the in-process checks of _guard_checks.ts inside isolate `origin`, on the real object. */
async function check(origin: string, name: string): Promise<string[]> {
  const answer = await post(origin, "/check", { check: name }) as { log?: string[]; error?: string };
  if (answer.error !== undefined) throw new Error(`${name} failed in workerd: ${answer.error}`);
  return answer.log!;
}

test("durable object: begin takes a key once, across isolates; abandon needs the token; finish makes it done", async () => {
  await withWorkerd(async ({ a, b }) => {
    const first = await op(a, { op: "begin", key: "result:1" });
    assertStrictEquals(first?.state, "claimed");
    assertEquals(await op(a, { op: "begin", key: "result:1" }), { state: "busy" });
    assertEquals(await op(b, { op: "begin", key: "result:1" }), { state: "busy" }, "the other isolate sees the lease");
    assertStrictEquals((await op(b, { op: "begin", key: "result:2" }))?.state, "claimed", "another key is independent");
    await op(b, { op: "abandon", key: "result:1", token: "not-the-token" });
    assertEquals(await op(b, { op: "begin", key: "result:1" }), { state: "busy" }, "b's abandon left a's lease alone");
    await op(a, { op: "abandon", key: "result:1", token: first!.token! });
    const second = await op(b, { op: "begin", key: "result:1" });
    assertStrictEquals(second?.state, "claimed", "abandoned by its owner, taken by b");
    await op(b, { op: "finish", key: "result:1", token: second!.token!, seconds: 3600 });
    assertEquals(await op(a, { op: "begin", key: "result:1" }), { state: "done" });
    const { entries } = await dump(a);
    assertEquals(Object.keys(entries).filter((key) => key.startsWith("c:")).sort(), ["c:result:1", "c:result:2"]);
    assertEquals((entries["c:result:1"] as { state: string }).state, "done");
  });
});

test("durable object: the in-process guard checks pass in workerd (states, argument errors, reconcile)", async () => {
  await withWorkerd(async ({ a }) => {
    for (const name of ["basics", "reconcile"]) await check(a, name);
  });
});

test("durable object: 120-character CJK ids are processed once", async () => {
  await withWorkerd(async ({ a }) => {
    await check(a, "cjk");
  });
});

test("durable object: through a counting namespace, a first delivery makes 2 requests, a duplicate 1", async () => {
  await withWorkerd(async ({ a }) => {
    await check(a, "counts");
  });
});

test("durable object: a stub that loses each answer in turn: never a false duplicate, never a lost result", async () => {
  await withWorkerd(async ({ a }) => {
    console.log((await check(a, "faults")).join("\n"));
  });
});

test("durable object: the name option picks another object", async () => {
  await withWorkerd(async ({ a }) => {
    assertStrictEquals((await op(a, { op: "begin", key: "k", name: "shop-a" }))?.state, "claimed");
    assertStrictEquals((await op(a, { op: "begin", key: "k", name: "shop-b" }))?.state, "claimed", "another object");
    assertEquals(await op(a, { op: "begin", key: "k", name: "shop-a", guard: "other" }), { state: "busy" });
    assertEquals(Object.keys((await dump(a, "shop-a")).entries).filter((key) => key.startsWith("c:")), ["c:k"]);
    assertEquals((await dump(a)).entries, {}, "the default object holds nothing");
  });
});

test("durable object: seconds are rounded up to whole seconds; lapsed entries are taken again and swept by the alarm", async () => {
  await withWorkerd(async ({ a, b }) => {
    assertStrictEquals((await op(a, { op: "begin", key: "short", seconds: 0.2 }))?.state, "claimed");
    const before = await dump(a);
    const lease = before.entries["c:short"] as { token: string; expiresAt: number };
    const left = lease.expiresAt - before.now;
    assert(left > 500 && left <= 1000, `rounded up to 1 s, expires in ${left} ms`);
    assertStrictEquals(before.alarm, lease.expiresAt, "the alarm is set for the first expiry");
    assertStrictEquals((await op(b, { op: "begin", key: "short", seconds: 0.2 }))?.state, "busy");
    const long = await op(a, { op: "begin", key: "long", seconds: 2.5 });
    await op(a, { op: "finish", key: "long", token: long!.token!, seconds: 2.5 });
    const done = (await dump(a)).entries["c:long"] as { state: string; expiresAt: number };
    assertStrictEquals(done.state, "done");
    assert(done.expiresAt - lease.expiresAt > 1500, "2.5 s rounded up to 3 s");
    await sleep(1100); // the object's own clock: the 1 s lease has lapsed
    assertStrictEquals(
      (await op(b, { op: "begin", key: "short", seconds: 1 }))?.state,
      "claimed",
      "lapsed: taken again",
    );
    // The alarm deletes entries once expired: wait (real time, the object's alarms) for both to
    // lapse and the alarms to run; 8 s for entries of at most 3 s.
    const deadline = Date.now() + 8000;
    let after = await dump(a);
    while (Object.keys(after.entries).length > 0 && Date.now() < deadline) {
      await sleep(250);
      after = await dump(a);
    }
    assertEquals(after.entries, {}, "the alarm swept every expired entry and index entry");
    for (const seconds of [0, -1]) {
      const error = await post(a, "/op", { op: "begin", key: "bad", seconds }).catch((e) => ({ error: String(e) }));
      assert(JSON.stringify(error).includes("invalid_argument"), JSON.stringify(error));
    }
  });
});

test("durable object: abandon never deletes a lease another isolate took after the first lapsed", async () => {
  await withWorkerd(async ({ a, b }) => {
    const mine = await op(a, { op: "begin", key: "lapsing", seconds: 1 });
    assertStrictEquals(mine?.state, "claimed");
    await sleep(1100); // the object's own clock: the 1 s lease has lapsed
    const theirs = await op(b, { op: "begin", key: "lapsing", seconds: 60 });
    assertStrictEquals(theirs?.state, "claimed");
    const held = (await dump(a)).entries["c:lapsing"];
    await op(a, { op: "abandon", key: "lapsing", token: mine!.token! }); // late: a's lease lapsed
    assertEquals((await dump(a)).entries["c:lapsing"], held, "the late abandon deleted nothing");
    await op(b, { op: "abandon", key: "lapsing", token: theirs!.token! });
    assertStrictEquals((await dump(a)).entries["c:lapsing"], undefined, "the owner's abandon deletes it");
  });
});

test("durable object: an object that fails rejects with a SmileIdError (code replay_guard)", async () => {
  await withWorkerd(async ({ a }) => {
    const { begin, finish, abandon } = await post(a, "/broken", {}) as Record<string, Record<string, unknown>>;
    assertEquals(begin?.name, "SmileIdError");
    assertEquals(begin?.code, "replay_guard");
    assertEquals(begin?.causeIsError, true, `the stub's error is the cause: ${JSON.stringify(begin)}`);
    assert(String(begin?.cause).includes("storage exploded"), JSON.stringify(begin));
    for (const failed of [finish, abandon]) {
      assertEquals(failed?.code, "replay_guard");
      assertEquals(failed?.status, 503);
    }
  });
});

test("createDurableObjectReplayGuard refuses what is not a namespace, and bad options", () => {
  for (const namespace of [null, undefined, {}, { idFromName: () => "id" }]) {
    const error = assertThrows(
      () => createDurableObjectReplayGuard(namespace as unknown as DurableObjectNamespaceLike),
      SmileIdError,
    );
    assertStrictEquals(error.code, "invalid_argument");
  }
  const namespace: DurableObjectNamespaceLike = { idFromName: (name) => name, get: () => ({ fetch }) };
  assertThrows(() => createDurableObjectReplayGuard(namespace, { name: "" }), SmileIdError);
});

test("two isolates × 100 concurrent begins of 10 keys on one Durable Object: one begin of each key is claimed", async () => {
  await withWorkerd(async ({ a, b }) => {
    const startAt = Date.now() + 300;
    const wins = await Promise.all(
      [a, b].map(async (origin, i) =>
        (await post(origin, "/begins", { keys: 10, begins: 100, reverse: i === 1, startAt })).wins as Record<
          string,
          number
        >
      ),
    );
    console.log(`claimed begins per isolate: ${wins.map((w) => Object.values(w).reduce((sum, n) => sum + n, 0))}`);
    for (let k = 0; k < 10; k++) {
      const perIsolate = wins.map((w) => w[`proof-${k}`] ?? 0);
      assertEquals(perIsolate.reduce((sum, n) => sum + n, 0), 1, `proof-${k}: ${perIsolate}`);
    }
  });
});

test("two isolates with their own guard and handler: 200 concurrent deliveries, onCallback runs once, redeliveries 200", async () => {
  await withWorkerd(async ({ a, b }, smile) => {
    const result = await deliverEverywhere([a, b], smile);
    console.log(
      `deliveries answered: ${JSON.stringify(result.statuses)}; onCallback runs per isolate: ${result.counts}`,
    );
  });
});
