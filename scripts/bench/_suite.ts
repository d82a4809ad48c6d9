// Throughput measurements shared by every runtime the benchmark covers. Deno runs them inside
// scripts/bench/bench.ts; Node and Bun run them through scripts/bench/_child.ts. Web APIs only
// (performance, crypto.subtle, TextEncoder), so one file measures every runtime the same way.

import { verifyCallback } from "../../src/callback.ts";
import { createMemoryReplayGuard } from "../../src/replay_guard.ts";
import { createSigner, type Signer, verifySignature } from "../../src/signature.ts";
import { decodeBase64, encodeBase64 } from "@std/encoding/base64";

/** The part of the official Node SDK (`smile-identity-core`) that the benchmark calls. */
export interface OfficialSdk {
  Signature: new (partnerId: string, apiKey: string) => {
    generate_signature(timestamp?: string): { signature: string; timestamp: string };
    confirm_signature(timestamp: string, signature: string): boolean;
  };
}

/** How a case is driven: awaited one at a time, 64 awaited in flight, or a plain synchronous loop. */
export type Mode = "sequential" | "concurrent" | "sync";

/** One measured case: ops/s of every timed round, in round order. */
export interface CaseResult {
  readonly id: string;
  readonly mode: Mode;
  readonly rounds: number[];
}

/** What one runtime measured. */
export interface SuiteResult {
  readonly runtime: string;
  readonly sliceMs: number;
  readonly rounds: number;
  readonly concurrency: number;
  readonly cases: CaseResult[];
}

/** Options of {@linkcode runSuite}. */
export interface SuiteOptions {
  readonly runtime: string;
  readonly quick: boolean;
  readonly official?: OfficialSdk | undefined;
  /** Only run cases whose id starts with one of these prefixes. */
  readonly only?: readonly string[] | undefined;
}

interface CaseSpec {
  /** `operation.implementation.mode`; the cases sharing operation and mode form a group. */
  readonly id: string;
  readonly mode: Mode;
  /** One operation; `worker` is 0 except in concurrent mode, where it is 0 … CONCURRENCY-1. */
  readonly run: (worker: number) => unknown;
}

/** Number of operations kept in flight in `concurrent` mode. */
export const CONCURRENCY = 64;

/** Fixed inputs, identical in every runtime and for every implementation. */
export const PARTNER_ID = "085";
export const API_KEY = "benchmark-api-key-0123456789abcdef";
export const TIMESTAMP = "2024-05-01T12:00:00.000Z";

const encoder = new TextEncoder();

/**
 * Runs the cases group by group. The cases compared with each other (same operation, same mode)
 * alternate in short slices, many rounds, so that drift in machine load hits them alike; the
 * order within a round reverses every round. Each case gets an untimed warm-up first.
 */
export async function runSuite(options: SuiteOptions): Promise<SuiteResult> {
  const sliceMs = options.quick ? 25 : 100;
  const rounds = options.quick ? 2 : 15;
  const warmupMs = options.quick ? 20 : 200;
  const specs = [...await signingCases(options), ...await callbackCases(options.official)];
  const selected = options.only ? specs.filter((s) => options.only!.some((p) => s.id.startsWith(p))) : specs;
  const groups = new Map<string, CaseSpec[]>();
  for (const spec of selected) {
    const parts = spec.id.split(".");
    const key = `${parts[0]}.${parts[parts.length - 1]}`;
    groups.set(key, [...groups.get(key) ?? [], spec]);
  }
  const results: CaseResult[] = [];
  for (const group of groups.values()) {
    const rows = group.map((spec) => ({ id: spec.id, mode: spec.mode, rounds: [] as number[] }));
    for (const spec of group) await measure(spec, warmupMs);
    for (let round = 0; round < rounds; round++) {
      const order = group.map((_, i) => (round % 2 ? group.length - 1 - i : i));
      for (const i of order) rows[i]!.rounds.push(await measure(group[i]!, sliceMs));
    }
    results.push(...rows);
  }
  return { runtime: options.runtime, sliceMs, rounds, concurrency: CONCURRENCY, cases: results };
}

async function measure(spec: CaseSpec, ms: number): Promise<number> {
  const start = performance.now();
  const deadline = start + ms;
  let count = 0;
  if (spec.mode === "sync") {
    do {
      spec.run(0);
      count++;
    } while (performance.now() < deadline);
  } else if (spec.mode === "sequential") {
    do {
      await spec.run(0);
      count++;
    } while (performance.now() < deadline);
  } else {
    let stop = false;
    const worker = async (_: unknown, index: number) => {
      while (!stop) {
        await spec.run(index);
        count++;
        if (performance.now() >= deadline) stop = true;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }
  return (count * 1000) / (performance.now() - start);
}

function both(id: string, run: (worker: number) => Promise<unknown>): CaseSpec[] {
  return [{ id: `${id}.seq`, mode: "sequential", run }, { id: `${id}.c64`, mode: "concurrent", run }];
}

/** The bare WebCrypto key the baselines use, and our signer, both for the benchmark's API key. */
async function keys(): Promise<{ key: CryptoKey; signer: Signer }> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(API_KEY),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  return { key, signer: createSigner({ partnerId: PARTNER_ID, apiKey: API_KEY }) };
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`Benchmark sanity check failed: ${what}`);
}

async function signingCases(options: SuiteOptions): Promise<CaseSpec[]> {
  const message = encoder.encode(TIMESTAMP + PARTNER_ID + "sid_request");
  const { key, signer } = await keys();
  const { signature } = await signer.sign(TIMESTAMP);
  const mac = Uint8Array.from(atob(signature), (c) => c.charCodeAt(0));

  // The part of the conversions that is std's base64 and the runtime's: bare WebCrypto on the
  // pre-encoded message, plus `encodeBase64` of the MAC (sign) or `decodeBase64` of the received
  // text (verify), exactly the calls ours makes. "ours ÷ base64" is then what our own code costs:
  // the UTF-8 of the timestamp, the argument checks, the canonical-digest pattern and the promise.
  const base64Sign = () => crypto.subtle.sign("HMAC", key, message).then(encodeBase64);
  const base64Verify = () => crypto.subtle.verify("HMAC", key, decodeBase64(signature), message);

  // Every implementation must agree before anything is timed.
  check(await base64Sign() === signature, "bare sign + std base64");
  check(await base64Verify(), "std base64 + bare verify");
  check(await crypto.subtle.verify("HMAC", key, mac, message), "bare verify");
  check(await signer.verify(TIMESTAMP, signature), "signer.verify");
  const oneShot = { partnerId: PARTNER_ID, apiKey: API_KEY, timestamp: TIMESTAMP, signature };
  check(await verifySignature(oneShot), "verifySignature");

  const specs: CaseSpec[] = [
    ...both("sign.bare", () => crypto.subtle.sign("HMAC", key, message)),
    ...both("sign.base64", base64Sign),
    ...both("sign.ours", () => signer.sign(TIMESTAMP)),
    ...both("verify.bare", () => crypto.subtle.verify("HMAC", key, mac, message)),
    ...both("verify.base64", base64Verify),
    ...both("verify.ours", () => signer.verify(TIMESTAMP, signature)),
    ...both("verify.oneshot", () => verifySignature(oneShot)),
  ];
  if (options.official) {
    const official = new options.official.Signature(PARTNER_ID, API_KEY);
    check(official.generate_signature(TIMESTAMP).signature === signature, "official signature equals ours");
    check(official.confirm_signature(TIMESTAMP, signature), "official confirm_signature");
    // Synchronous, so the same plain loop is measured in the one-at-a-time and the 64-in-flight groups.
    for (const mode of ["seq", "c64"]) {
      specs.push(
        { id: `sign.official.${mode}`, mode: "sync", run: () => official.generate_signature(TIMESTAMP) },
        { id: `verify.official.${mode}`, mode: "sync", run: () => official.confirm_signature(TIMESTAMP, signature) },
      );
    }
  }
  return specs;
}

// ---------------------------------------------------------------------------------------------
// Callback bodies

/** A realistic result object (Enhanced KYC-like), numbered so history entries differ. */
function resultObject(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    DOB: "1990-01-01",
    ConfidenceValue: "99",
    JSONVersion: "1.0.0",
    Actions: {
      Verify_ID_Number: "Verified",
      Return_Personal_Info: "Returned",
      Human_Review_Update_Selfie: "Not Applicable",
      Human_Review_Compare: "Not Applicable",
      Update_Registered_Selfie_On_File: "Not Applicable",
      Liveness_Check: "Passed",
      Register_Selfie: "Approved",
      Human_Review_Liveness_Check: "Not Applicable",
      Selfie_To_ID_Authority_Compare: "Completed",
      Selfie_To_ID_Card_Compare: "Not Applicable",
      Selfie_To_Registered_Selfie_Compare: "Not Applicable",
    },
    ResultText: n === 0 ? "Enroll User" : `Enroll User (attempt ${n})`,
    IsFinalResult: n === 0 ? "true" : "false",
    IsMachineResult: "true",
    ResultType: "SAIA",
    PartnerParams: {
      job_type: "1",
      optional_info: "Your additional tracking information",
      user_id: "user-3f1c2a9e-5b7d-4e21-9c0a-7d1e2f3a4b5c",
      job_id: "job-8a7b6c5d-4e3f-2a1b-0c9d-8e7f6a5b4c3d",
    },
    Source: "WebAPI",
    ResultCode: n === 0 ? "0810" : "0812",
    SmileJobID: String(1_000_000_000 + n),
    ...extra,
  };
}

/** Personal data returned by an ID authority, as Enhanced KYC results carry it. */
function fullData(photoBytes: number): Record<string, unknown> {
  // A deterministic stand-in for the base64 ID photo the authority returns.
  let photo = "";
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let seed = 12345;
  const chunk: string[] = [];
  for (let i = 0; i < 4096; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    chunk.push(alphabet[seed % 64]!);
  }
  const block = chunk.join("");
  while (photo.length < photoBytes) photo += block;
  return {
    FirstName: "Ada",
    LastName: "Lovelace",
    MiddleName: "Augusta",
    Gender: "F",
    DOB: "1990-01-01",
    Address: "1 Example Street, Lagos",
    PhoneNumber: "+2340000000000",
    IDNumber: "00000000000",
    ExpirationDate: "2030-12-31",
    Photo: photo.slice(0, photoBytes),
  };
}

/** Callback body (bare result envelope with signature and timestamp), and its description. */
export function callbackBody(size: "3k" | "1500k", signed: { signature: string; timestamp: string }): string {
  if (size === "3k") {
    const body = {
      ...resultObject(0),
      history: [resultObject(1), resultObject(2)],
      image_links: { selfie_image: "https://example.com/selfie.jpg?X-Amz-Expires=3600" },
      ...signed,
    };
    return JSON.stringify(body);
  }
  const history = Array.from({ length: 400 }, (_, i) => resultObject(i + 1));
  const body = {
    ...resultObject(0, { FullData: fullData(1_100_000) }),
    history,
    image_links: { selfie_image: "https://example.com/selfie.jpg?X-Amz-Expires=3600" },
    ...signed,
  };
  return JSON.stringify(body);
}

async function callbackCases(sdk: OfficialSdk | undefined): Promise<CaseSpec[]> {
  const { key, signer } = await keys();
  // One signed pair per worker: the same pair twice in flight is (rightly) a replay to verifyCallback.
  const base = Date.parse(TIMESTAMP);
  const pairs = await Promise.all(
    Array.from({ length: CONCURRENCY }, (_, i) => signer.sign(new Date(base + i))),
  );
  const now = () => base + 1000;
  const decoder = new TextDecoder();
  const specs: CaseSpec[] = [];
  for (const size of ["3k", "1500k"] as const) {
    const bodies = pairs.map((pair) => encoder.encode(callbackBody(size, pair)));
    // The floor: what any verifier must do at least (decode, parse, one WebCrypto verify).
    const floor = async (worker: number) => {
      const json = JSON.parse(decoder.decode(bodies[worker]));
      const mac = Uint8Array.from(atob(json.signature), (c) => c.charCodeAt(0));
      const message = encoder.encode(json.timestamp + PARTNER_ID + "sid_request");
      if (!(await crypto.subtle.verify("HMAC", key, mac, message))) throw new Error("floor: bad signature");
      return json;
    };
    // The replay guard is consulted but always grants the lease: every call stands for a new callback.
    const claimed = { state: "claimed", token: "t" } as const;
    const options = {
      clock: { now },
      toleranceSeconds: 300,
      replayGuard: {
        begin: () => Promise.resolve(claimed),
        finish: () => Promise.resolve(),
        abandon: () => Promise.resolve(),
      },
    };
    const ours = (worker: number) => verifyCallback(signer, bodies[worker]!, options);
    for (let i = 0; i < CONCURRENCY; i++) {
      await floor(i);
      await ours(i);
    }
    specs.push(...both(`cb${size}.floor`, floor), ...both(`cb${size}.ours`, ours));
    if (sdk) {
      const official = new sdk.Signature(PARTNER_ID, API_KEY);
      // What a handler using the official SDK does: bytes to text, JSON.parse, confirm_signature.
      const run = (worker: number) => {
        const json = JSON.parse(decoder.decode(bodies[worker]));
        if (!official.confirm_signature(json.timestamp, json.signature)) throw new Error("official: bad signature");
        return json;
      };
      run(0);
      specs.push({ id: `cb${size}.official.seq`, mode: "sync", run }, {
        id: `cb${size}.official.c64`,
        mode: "sync",
        run,
      });
    }
  }
  // Diagnostic: the default in-memory replay guard once it holds its 10000 keys (what a busy
  // handler reaches), taking the lease on one new key per callback.
  const guard = createMemoryReplayGuard({ clock: { now: () => Date.parse(TIMESTAMP) } });
  for (let i = 0; i < 10_000; i++) await guard.begin(`prefill ${i}`, 300);
  let n = 0;
  specs.push({
    id: "guard.full.seq",
    mode: "sequential",
    run: async () => {
      const key = `key ${n++}`;
      if ((await guard.begin(key, 300)).state !== "claimed") throw new Error("guard: a new key could not be begun");
    },
  });
  return specs;
}
