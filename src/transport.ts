/**
 * Sends a request through an injected `fetch` with a deadline and the caller's signal, and
 * maps every failure to a {@linkcode SmileIdError}.
 *
 * @module
 */

import { delay } from "@std/async/delay";
import { SmileIdError } from "./errors.ts";
import { escapeText, invalidArgument, quote, signalOption } from "./_validate.ts";

/**
 * A `fetch`-compatible function: the global `fetch`, a test double, a Worker service binding's
 * `fetch`, or the fake server's handler. It is always called as a free function, never as a
 * method, so a stored `globalThis.fetch` does not throw "Illegal invocation" on Workers.
 *
 * @example Count the requests a client sends
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient, type FetchLike } from "@smile-id-kit/job-status";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "my-api-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 * const urls: string[] = [];
 * const counting: FetchLike = (request, init) => {
 *   urls.push(request.url);
 *   return fake.fetch(request, init);
 * };
 * const client = createClient({ partnerId: "085", apiKey: "my-api-key", fetch: counting });
 * await client.getJobStatus({ userId: "user-1", jobId: "job-1" });
 * assertEquals(urls, ["https://testapi.smileidentity.com/v1/job_status"]);
 * ```
 */
export type FetchLike = (request: Request, init?: RequestInit) => Promise<Response>;

/** The largest delay `setTimeout` waits as asked (2^31−1 ms); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The reason a long deadline's timer is stopped with once the exchange has settled. */
const SETTLED = "settled";

/** How {@linkcode send} runs one request (internal: the client's plumbing). */
export interface SendOptions {
  /**
   * The `fetch` to call.
   *
   * @default the global `fetch`, looked up at call time
   */
  readonly fetch?: FetchLike | undefined;
  /**
   * Deadline for the whole exchange, body included, in milliseconds. Any length works: a deadline
   * longer than the largest timer (2^31−1 ms, about 24.8 days) is waited in steps, never cut short.
   */
  readonly timeoutMs: number;
  /** The caller's signal; aborting rejects with code `aborted`. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Sends `request` and hands the response to `consume`, all within `timeoutMs` and the caller's
 * signal, so a body that stalls halfway is cut too. A fetch that rejects becomes code
 * `transport`, the deadline `timeout`, the caller's abort `aborted`; `SmileIdError`s thrown
 * by `consume` pass through. Timers and listeners are removed before it settles, even when the
 * injected `fetch` ignores the signal. Internal: the client's plumbing, not exported.
 */
export async function send<T>(
  request: Request,
  options: SendOptions,
  consume: (response: Response) => Promise<T>,
): Promise<T> {
  if (!(request instanceof Request)) throw invalidArgument("The request", "a Request", request);
  const { timeoutMs } = options;
  const signal = signalOption(options.signal);
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw invalidArgument("Option timeoutMs", "a positive number", timeoutMs);
  }
  const fetchFn = options.fetch ?? globalThis.fetch;
  const target = `${request.method} ${request.url}`;
  if (signal?.aborted) {
    throw new SmileIdError("aborted", `The request ${target} was aborted before it was sent`, {
      cause: signal.reason,
    });
  }
  const controller = new AbortController();
  const expire = () => {
    controller.abort(
      new SmileIdError("timeout", `The request ${target} timed out after ${timeoutMs} ms without a complete answer`),
    );
  };
  // A plain timer, cleared when the exchange settles. Past 2^31−1 ms setTimeout would fire at
  // once: std's delay chains timers there, stopped by aborting its signal with a reason of our
  // own (an abort without one builds a DOMException).
  let stopTimer: () => void;
  if (timeoutMs <= MAX_TIMER_MS) {
    const id = setTimeout(expire, timeoutMs);
    stopTimer = () => clearTimeout(id);
  } else {
    const timer = new AbortController();
    delay(timeoutMs, { signal: timer.signal }).then(expire, () => {});
    stopTimer = () => timer.abort(SETTLED);
  }
  const onAbort = () => {
    controller.abort(new SmileIdError("aborted", `The request ${target} was aborted`, { cause: signal?.reason }));
  };
  signal?.addEventListener("abort", onAbort, { once: true });

  // Listening before fetch is called: a fetch that aborts (or makes the caller abort) while it is
  // being called, then never settles, still ends the exchange.
  let stop: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    const listener = () => reject(controller.signal.reason);
    controller.signal.addEventListener("abort", listener, { once: true });
    stop = () => controller.signal.removeEventListener("abort", listener);
  });
  let response: Response | undefined;
  const exchange = (async () => {
    response = await fetchFn(request, { signal: controller.signal });
    return await consume(response);
  })();
  try {
    return await Promise.race([exchange, aborted]);
  } catch (error) {
    if (controller.signal.aborted) {
      exchange.catch(() => {}); // it settles later, or never, with an error nobody needs
      await response?.body?.cancel().catch(() => {});
      throw controller.signal.reason;
    }
    if (error instanceof SmileIdError) throw error;
    // The runtime's or the injected fetch's text, shown escaped like all text from outside.
    const reason = error instanceof Error ? escapeText(error.message) : quote(error);
    throw new SmileIdError(
      "transport",
      `The request ${target} failed before an answer arrived: ${reason}`,
      { cause: error },
    );
  } finally {
    stopTimer();
    stop?.();
    signal?.removeEventListener("abort", onAbort);
  }
}
