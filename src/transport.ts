/**
 * Sends a request through an injected `fetch` with a deadline and the caller's signal, and
 * maps every failure to a {@linkcode SmileIdError}.
 *
 * @module
 */

import { SmileIdError } from "./errors.ts";

/**
 * A `fetch`-compatible function: the global `fetch`, a test double, a Worker service binding's
 * `fetch`, or the fake server's handler. It is always called as a free function, never as a
 * method, so a stored `globalThis.fetch` does not throw "Illegal invocation" on Workers.
 *
 * @example
 * ```ts
 * import type { FetchLike } from "@smile-id-kit/job-status";
 *
 * const logging: FetchLike = (request, init) => {
 *   console.log(request.method, request.url);
 *   return fetch(request, init);
 * };
 * ```
 */
export type FetchLike = (request: Request, init?: RequestInit) => Promise<Response>;

/**
 * How {@linkcode send} runs one request.
 *
 * @example
 * ```ts
 * import type { SendOptions } from "@smile-id-kit/job-status";
 *
 * const options: SendOptions = { timeoutMs: 10_000, signal: AbortSignal.timeout(60_000) };
 * console.log(options.timeoutMs);
 * ```
 */
export interface SendOptions {
  /** The `fetch` to call (default: the global one, looked up at call time). */
  readonly fetch?: FetchLike | undefined;
  /** Deadline for the whole exchange, body included, in milliseconds. */
  readonly timeoutMs: number;
  /** The caller's signal; aborting rejects with code `aborted`. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Sends `request` and hands the response to `consume`, all within `timeoutMs` and the caller's
 * signal, so a body that stalls halfway is cut too. A fetch that rejects becomes code
 * `transport`, the deadline `timeout`, the caller's abort `aborted`; `SmileIdError`s thrown
 * by `consume` pass through. Timers and listeners are removed before it settles, even when the
 * injected `fetch` ignores the signal.
 *
 * @example
 * ```ts
 * import { send } from "@smile-id-kit/job-status";
 *
 * const fakeFetch = () => Promise.resolve(new Response('{"ok":true}'));
 * const json = await send(new Request("https://example.com/"), { fetch: fakeFetch, timeoutMs: 1000 }, (r) => r.json());
 * console.log(json); // { ok: true }
 * ```
 */
export async function send<T>(
  request: Request,
  options: SendOptions,
  consume: (response: Response) => Promise<T>,
): Promise<T> {
  const { timeoutMs, signal } = options;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const target = `${request.method} ${request.url}`;
  if (signal?.aborted) {
    throw new SmileIdError("aborted", `The request ${target} was aborted before it was sent`, {
      cause: signal.reason,
    });
  }
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(
      new SmileIdError("timeout", `The request ${target} timed out after ${timeoutMs} ms without a complete answer`),
    );
  }, timeoutMs);
  const onAbort = () => {
    controller.abort(new SmileIdError("aborted", `The request ${target} was aborted`, { cause: signal?.reason }));
  };
  signal?.addEventListener("abort", onAbort, { once: true });

  let response: Response | undefined;
  const exchange = (async () => {
    response = await fetchFn(request, { signal: controller.signal });
    return await consume(response);
  })();
  let stop: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    const listener = () => reject(controller.signal.reason);
    controller.signal.addEventListener("abort", listener, { once: true });
    stop = () => controller.signal.removeEventListener("abort", listener);
  });
  try {
    return await Promise.race([exchange, aborted]);
  } catch (error) {
    if (controller.signal.aborted) {
      exchange.catch(() => {}); // it settles later, or never, with an error nobody needs
      await response?.body?.cancel().catch(() => {});
      throw controller.signal.reason;
    }
    if (error instanceof SmileIdError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new SmileIdError(
      "transport",
      `The request ${target} failed before an answer arrived: ${reason}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
    stop?.();
    signal?.removeEventListener("abort", onAbort);
  }
}
