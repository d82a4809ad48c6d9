// The two-process proofs of every store guard (the in-process checks are in _guard_checks.ts).
//
// With two OS processes (tests/host/_guard_child.ts), each with its own store client, guard
// and callback handler:
// - beginProof: both make 100 concurrent begins of the same 10 keys at the same moment, one
//   walking the keys up and the other down so that they contend in the middle; exactly one
//   begin of each key is claimed, over both processes.
// - handlerProof (deliverEverywhere): 200 concurrent deliveries of one genuine callback (100 to
//   each, over HTTP on 127.0.0.1), confirmed against a fake Smile ID served on 127.0.0.1;
//   onCallback runs exactly once in total, every delivery is answered 200 or 409, and every
//   redelivery after processing (20 concurrent ones, then one to each) is answered 200.
//
// Nothing here races real time: the processes start together on a "go" line, the deliveries
// are gated by counts, and the children are given minutes (not seconds) to start and stop.

import { assert, assertEquals } from "@std/assert";
import { createFakeSmileId } from "../../src/testing/mod.ts";
import { type Child, startChild } from "./_children.ts";
import { startFetchServer } from "./_fault_server.ts";

/** How long a child may take to start, answer or exit: far beyond any loaded machine, a net for a hang only. */
const CHILD_PATIENCE_MS = 180_000;

/** What a child needs to reach its store (see _guard_child.ts). */
export type StoreConfig = Readonly<Record<string, unknown>>;

const KEYS = 10;
const BEGINS = 100;

async function withChildren<T>(configs: readonly StoreConfig[], body: (children: Child[]) => Promise<T>): Promise<T> {
  const children: Child[] = [];
  let result: T;
  try {
    for (const config of configs) children.push(startChild("_guard_child.ts", [JSON.stringify(config)]));
    result = await body(children);
  } finally {
    // Stopped whatever happened; a failure of `body` is reported rather than the exit codes.
    await Promise.all(children.map((child) => child.stop(CHILD_PATIENCE_MS)));
  }
  for (const child of children) assertEquals(await child.stop(), 0, "the child exits cleanly");
  return result;
}

/** Two processes × 100 concurrent begins of the same 10 keys: exactly one claimed per key. */
export async function beginProof(a: StoreConfig, b: StoreConfig): Promise<void> {
  const shared = { mode: "begins", keys: KEYS, begins: BEGINS };
  await withChildren([{ ...a, ...shared }, { ...b, ...shared, reverse: true }], async (children) => {
    for (const child of children) assertEquals((await child.next(CHILD_PATIENCE_MS)).ready, true);
    for (const child of children) child.send("go");
    const wins = await Promise.all(
      children.map(async (child) => (await child.next(CHILD_PATIENCE_MS)).wins as Record<string, number>),
    );
    console.log(`claimed begins per process: ${wins.map((w) => Object.values(w).reduce((sum, n) => sum + n, 0))}`);
    for (let k = 0; k < KEYS; k++) {
      const key = `proof-${k}`;
      const perProcess = wins.map((w) => w[key] ?? 0);
      assertEquals(
        perProcess.reduce((sum, n) => sum + n, 0),
        1,
        `begins of ${key} that were claimed, per process: ${perProcess}`,
      );
    }
  });
}

/** The result of {@linkcode deliverEverywhere}, for the test to report. */
export interface HandlerProofResult {
  /** HTTP status → number of deliveries answered with it. */
  readonly statuses: Readonly<Record<number, number>>;
  /** onCallback runs in each instance. */
  readonly counts: readonly number[];
}

/** A fake Smile ID over HTTP on 127.0.0.1, with the one job the proofs deliver a callback of. */
export interface ProofSmileId {
  readonly partnerId: string;
  readonly apiKey: string;
  /** The base URL (`http://127.0.0.1:<port>/v1`) for the instances' clients. */
  readonly base: string;
  /** The genuine signed callback body of the job. */
  callbackBody(): Promise<string>;
  close(): Promise<void>;
}

/** Starts the fake Smile ID the instances confirm callbacks against. */
export async function startProofSmileId(): Promise<ProofSmileId> {
  const partnerId = "085";
  const apiKey = "guard-proof-key-5e21";
  const fake = createFakeSmileId({ partnerId, apiKey });
  fake.addJob({ userId: "user-proof", jobId: "job-proof" });
  const server = await startFetchServer((request) => fake.fetch(request));
  return {
    partnerId,
    apiKey,
    base: server.base,
    callbackBody: async () => JSON.stringify(await fake.buildCallback("job-proof")),
    close: () => server.close(),
  };
}

/**
 * Sends 200 concurrent deliveries of one genuine callback, alternating between the instances at
 * `origins` (POST /smile-callback); once they have all been answered, 20 concurrent
 * redeliveries, then one more to each instance; reads each instance's onCallback count (GET
 * /count) and asserts: every first delivery got 200 or 409, at least one 200, every redelivery
 * after processing 200, and onCallback ran once in all.
 */
export async function deliverEverywhere(origins: readonly string[], smile: ProofSmileId): Promise<HandlerProofResult> {
  const body = await smile.callbackBody();
  const deliver = (origin: string) =>
    fetch(`${origin}/smile-callback`, { method: "POST", headers: { "content-type": "application/json" }, body })
      .then(async (response) => {
        await response.body?.cancel();
        return response.status;
      });
  const statuses: Record<number, number> = {};
  for (
    const status of await Promise.all(Array.from({ length: 200 }, (_, i) => deliver(origins[i % origins.length]!)))
  ) {
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  const redeliveries = await Promise.all(Array.from({ length: 20 }, (_, i) => deliver(origins[i % origins.length]!)));
  const late = [];
  for (const origin of origins) late.push(await deliver(origin));
  const counts = await Promise.all(origins.map(async (origin) => {
    const response = await fetch(`${origin}/count`);
    return ((await response.json()) as { count: number }).count;
  }));
  const result = { statuses, counts };
  const unexpected = Object.keys(statuses).filter((status) => status !== "200" && status !== "409");
  assertEquals(unexpected, [], `every delivery is answered 200 or 409: ${JSON.stringify(result)}`);
  assert((statuses[200] ?? 0) >= 1, `at least one delivery is answered 200: ${JSON.stringify(result)}`);
  assertEquals(redeliveries, Array(20).fill(200), "20 concurrent redeliveries after processing are all answered 200");
  assertEquals(late, origins.map(() => 200), "a delivery after processing is answered 200 by every instance");
  assertEquals(counts.reduce((sum, n) => sum + n, 0), 1, `onCallback runs once in all: ${JSON.stringify(result)}`);
  return result;
}

/** Two processes with their own store client, guard and handler: see {@linkcode deliverEverywhere}. */
export async function handlerProof(a: StoreConfig, b: StoreConfig): Promise<HandlerProofResult> {
  const smile = await startProofSmileId();
  try {
    const shared = {
      mode: "serve",
      partnerId: smile.partnerId,
      apiKey: smile.apiKey,
      fakeBase: smile.base,
      workMs: 50,
    };
    return await withChildren([{ ...a, ...shared }, { ...b, ...shared }], async (children) => {
      const origins = await Promise.all(children.map(async (child) => {
        const ready = await child.next(CHILD_PATIENCE_MS);
        assertEquals(ready.ready, true);
        return ready.origin as string;
      }));
      return await deliverEverywhere(origins, smile);
    });
  } finally {
    await smile.close();
  }
}
