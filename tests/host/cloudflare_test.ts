// ReplayGuardObject and createDurableObjectReplayGuard in workerd, through miniflare: one
// Miniflare with three workers of the same bundled script (tests/host/_do_worker.ts), each its
// own isolate. "guard" hosts the Durable Object class; "app-a" and "app-b" are two instances
// of an application, each with its own guard and callback handler, both bound to that class,
// reached over real HTTP on 127.0.0.1 through their own sockets. Ends with the two-isolate
// proofs.

import { test } from "node:test";
import { assert, assertEquals, assertStrictEquals, assertThrows } from "@std/assert";
import { Miniflare } from "miniflare";
import { bundleEntry, stopBundler } from "../../scripts/_conformance/bundle.ts";
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
  body: { op: "claim" | "release"; key: string; ttl?: number; guard?: string; name?: string },
): Promise<boolean | null> {
  return (await post(origin, "/op", body)).result as boolean | null;
}

interface Dump {
  entries: Record<string, unknown>;
  alarm: number | null;
  now: number;
}
const dump = async (origin: string, name = "smile-id-replay-guard") =>
  (await post(origin, "/dump", { name })) as unknown as Dump;

test("durable object: claim records the key once, across isolates; release lets it be claimed again", async () => {
  await withWorkerd(async ({ a, b }) => {
    assertStrictEquals(await op(a, { op: "claim", key: "pair-1" }), true);
    assertStrictEquals(await op(a, { op: "claim", key: "pair-1" }), false);
    assertStrictEquals(await op(b, { op: "claim", key: "pair-1" }), false, "the other isolate sees the claim");
    assertStrictEquals(await op(b, { op: "claim", key: "pair-2" }), true, "another key is independent");
    await op(b, { op: "release", key: "pair-1" }); // b holds no claim of pair-1: a no-op
    assertStrictEquals(await op(b, { op: "claim", key: "pair-1" }), false, "b's release left a's claim alone");
    await op(a, { op: "release", key: "pair-1" });
    assertStrictEquals(await op(b, { op: "claim", key: "pair-1" }), true, "released by its owner, claimed by b");
    const { entries } = await dump(a);
    assertEquals(Object.keys(entries).filter((key) => key.startsWith("c:")).sort(), ["c:pair-1", "c:pair-2"]);
  });
});

test("durable object: the name option picks another object", async () => {
  await withWorkerd(async ({ a }) => {
    assertStrictEquals(await op(a, { op: "claim", key: "pair", name: "shop-a" }), true);
    assertStrictEquals(await op(a, { op: "claim", key: "pair", name: "shop-b" }), true, "another object");
    assertStrictEquals(await op(a, { op: "claim", key: "pair", name: "shop-a", guard: "other" }), false);
    assertEquals(Object.keys((await dump(a, "shop-a")).entries).filter((key) => key.startsWith("c:")), ["c:pair"]);
    assertEquals((await dump(a)).entries, {}, "the default object holds nothing");
  });
});

test("durable object: ttl is rounded up to whole seconds; expired claims are taken again and swept by the alarm", async () => {
  await withWorkerd(async ({ a, b }) => {
    assertStrictEquals(await op(a, { op: "claim", key: "short", ttl: 0.2 }), true);
    const before = await dump(a);
    const claim = before.entries["c:short"] as { token: string; expiresAt: number };
    const left = claim.expiresAt - before.now;
    assert(left > 500 && left <= 1000, `rounded up to 1 s, expires in ${left} ms`);
    assertStrictEquals(before.alarm, claim.expiresAt, "the alarm is set for the first expiry");
    assertStrictEquals(await op(b, { op: "claim", key: "short", ttl: 0.2 }), false);
    assertStrictEquals(await op(a, { op: "claim", key: "long", ttl: 2.5 }), true);
    const long = (await dump(a)).entries["c:long"] as { expiresAt: number };
    assert(long.expiresAt - claim.expiresAt > 1500, "2.5 s rounded up to 3 s");
    await sleep(1100);
    assertStrictEquals(await op(b, { op: "claim", key: "short", ttl: 1 }), true, "an expired claim is taken again");
    // The alarm deletes claims once expired: wait for both to lapse and the alarms to run.
    const deadline = Date.now() + 8000;
    let after = await dump(a);
    while (Object.keys(after.entries).length > 0 && Date.now() < deadline) {
      await sleep(250);
      after = await dump(a);
    }
    assertEquals(after.entries, {}, "the alarm swept every expired claim and index entry");
    for (const ttl of [0, -1]) {
      const error = await post(a, "/op", { op: "claim", key: "bad", ttl }).catch((e) => ({ error: String(e) }));
      assert(JSON.stringify(error).includes("invalid_argument"), JSON.stringify(error));
    }
  });
});

test("durable object: release never deletes a claim another isolate took after expiry", async () => {
  await withWorkerd(async ({ a, b }) => {
    assertStrictEquals(await op(a, { op: "claim", key: "lapsing", ttl: 1 }), true);
    const first = (await dump(a)).entries["c:lapsing"] as { token: string };
    await sleep(1100);
    assertStrictEquals(await op(b, { op: "claim", key: "lapsing", ttl: 60 }), true);
    const second = (await dump(a)).entries["c:lapsing"] as { token: string };
    assert(first.token !== second.token);
    await op(a, { op: "release", key: "lapsing" }); // late: a's claim expired
    assertEquals((await dump(a)).entries["c:lapsing"], second, "the late release deleted nothing");
    await op(b, { op: "release", key: "lapsing" });
    assertStrictEquals((await dump(a)).entries["c:lapsing"], undefined, "the owner's release deletes it");
  });
});

test("durable object: an object that fails rejects with a SmileIdError (code replay_guard)", async () => {
  await withWorkerd(async ({ a }) => {
    const { claim, release } = await post(a, "/broken", {}) as Record<string, Record<string, unknown>>;
    assertEquals(claim?.name, "SmileIdError");
    assertEquals(claim?.code, "replay_guard");
    assertEquals(claim?.causeIsError, true, `the stub's error is the cause: ${JSON.stringify(claim)}`);
    assert(String(claim?.cause).includes("storage exploded"), JSON.stringify(claim));
    assertEquals(release?.code, "replay_guard");
    assertEquals(release?.status, 503);
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

test("two isolates × 100 concurrent claims of 10 keys on one Durable Object: one claim of each key wins", async () => {
  await withWorkerd(async ({ a, b }) => {
    const startAt = Date.now() + 300;
    const wins = await Promise.all(
      [a, b].map(async (origin, i) =>
        (await post(origin, "/claims", { keys: 10, claims: 100, reverse: i === 1, startAt })).wins as Record<
          string,
          number
        >
      ),
    );
    console.log(`successful claims per isolate: ${wins.map((w) => Object.values(w).reduce((sum, n) => sum + n, 0))}`);
    for (let k = 0; k < 10; k++) {
      const perIsolate = wins.map((w) => w[`proof-${k}`] ?? 0);
      assertEquals(perIsolate.reduce((sum, n) => sum + n, 0), 1, `proof-${k}: ${perIsolate}`);
    }
  });
});

test("two isolates with their own guard and handler: 200 concurrent deliveries, onCallback runs once", async () => {
  await withWorkerd(async ({ a, b }, smile) => {
    const result = await deliverEverywhere([a, b], smile);
    console.log(
      `deliveries answered: ${JSON.stringify(result.statuses)}; onCallback runs per isolate: ${result.counts}`,
    );
  });
});
