// The faults the fake Smile ID injects (`fake.injectFault`): the queue of pending faults, and what
// a fault answers in place of, or on top of, the protocol's answer. `FakeFault` is public through
// ./mod.ts; the rest is internal to the fake.

import { delay } from "@std/async/delay";
import type { JsonObject } from "../types.ts";
import { invalidArgument } from "../_validate.ts";
import { isObject } from "./_protocol.ts";

/**
 * A fault applied to the next `times` requests, in the order faults were injected.
 *
 * @example Two rate-limited answers, then normal service
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient } from "@smile-id-kit/job-status";
 * import { createFakeSmileId, createTestClock, type FakeFault } from "@smile-id-kit/job-status/testing";
 *
 * const clock = createTestClock();
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key", clock });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 * const fault: FakeFault = { status: 429, retryAfter: 1, times: 2 };
 * fake.injectFault(fault);
 * const client = createClient({ partnerId: "085", apiKey: "test-key", fetch: fake.fetch, clock });
 * const status = await client.waitForJobStatus({ userId: "user-1", jobId: "job-1" });
 * assertEquals([status.jobComplete, fake.requests.map((r) => r.status)], [true, [429, 429, 200]]);
 * ```
 */
export interface FakeFault {
  /**
   * How many requests the fault applies to; `Infinity` for all until cleared.
   *
   * @default {1}
   */
  readonly times?: number;
  /** Delay before answering, in real milliseconds; the request's signal cuts it short. */
  readonly latencyMs?: number;
  /** Answer this HTTP status at once, without checking the request. */
  readonly status?: number;
  /**
   * Body sent with `status`.
   *
   * @default `{"error":"Injected HTTP <status>"}`
   */
  readonly errorBody?: JsonObject | string;
  /** `Retry-After` header: seconds, or an HTTP date string. */
  readonly retryAfter?: number | string;
  /** Corrupt the answer: an HTML page, the JSON cut in half, or nothing at all. */
  readonly body?: "malformed" | "truncated" | "empty";
  /** Sign the answer with another key, so its signature does not verify. */
  readonly badSignature?: boolean;
  /** Fail like a broken connection: `fetch` rejects with a `TypeError` (a server adapter drops the socket). */
  readonly networkError?: boolean;
}

interface PendingFault {
  readonly fault: FakeFault;
  remaining: number;
}

/** The faults waiting for requests, oldest first; each applies to its next `times` requests. */
export class FaultQueue {
  #pending: PendingFault[] = [];

  /** Checks a fault (throws `invalid_argument`) and queues it. */
  add(fault: FakeFault): void {
    if (typeof fault !== "object" || fault === null) throw invalidArgument("A fault", "an object", fault);
    const times = fault.times ?? 1;
    if (typeof times !== "number" || !(times >= 1)) {
      throw invalidArgument("Fault option times", "a number of at least 1", times);
    }
    const { latencyMs, status } = fault;
    if (latencyMs !== undefined && !(typeof latencyMs === "number" && Number.isFinite(latencyMs) && latencyMs >= 0)) {
      throw invalidArgument("Fault option latencyMs", "a finite number of milliseconds, 0 or more", latencyMs);
    }
    if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 599)) {
      throw invalidArgument("Fault option status", "an HTTP status from 200 to 599", status);
    }
    this.#pending.push({ fault: { ...fault }, remaining: times });
  }

  /** The fault for the next request, if one is queued; counts the request against it. */
  take(): FakeFault | undefined {
    const pending = this.#pending[0];
    if (pending === undefined) return undefined;
    pending.remaining -= 1;
    if (pending.remaining <= 0) this.#pending.shift();
    return pending.fault;
  }

  /** Drops every queued fault. */
  clear(): void {
    this.#pending.length = 0;
  }
}

/**
 * What a fault answers before the protocol runs: after its latency (cut short by `signal`), a
 * broken connection (rejects with a `TypeError`) or its HTTP status, each without reading the
 * body, and recorded through `log`; `undefined` when the protocol is to answer.
 */
export async function answerFault(
  fault: FakeFault | undefined,
  request: Request,
  signal: () => AbortSignal,
  log: (status: number, smileCode?: string) => void,
): Promise<Response | undefined> {
  if (fault?.latencyMs !== undefined) await delay(fault.latencyMs, { signal: signal() });
  if (fault?.networkError) {
    await request.body?.cancel().catch(() => {});
    log(0);
    throw new TypeError("Network error injected by the fake Smile ID");
  }
  if (fault?.status === undefined) return undefined;
  await request.body?.cancel().catch(() => {});
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
  const errorBody = fault.errorBody ?? { error: `Injected HTTP ${fault.status}` };
  log(fault.status, isObject(errorBody) && errorBody.code !== undefined ? String(errorBody.code) : undefined);
  return typeof errorBody === "string"
    ? new Response(errorBody, { status: fault.status, headers })
    : Response.json(errorBody, { status: fault.status, headers });
}

/** The protocol's answer (`text`), corrupted as `fault.body` says, or as it is. */
export function corruptAnswer(
  fault: FakeFault | undefined,
  text: string,
  status: number,
  headers: Record<string, string>,
): Response {
  switch (fault?.body) {
    case "malformed":
      return new Response("<!doctype html><title>Bad gateway</title><h1>Bad gateway</h1>", {
        status,
        headers: { ...headers, "content-type": "text/html" },
      });
    case "truncated":
      return new Response(text.slice(0, Math.floor(text.length / 2)), { status, headers });
    case "empty":
      return new Response(null, { status, headers });
  }
  return new Response(text, { status, headers });
}
