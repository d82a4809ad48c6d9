/**
 * {@linkcode serveFetch}: serves a fetch handler, such as the fake Smile ID's `fetch`, over real
 * HTTP with `node:http`, which Node, Deno and Bun all provide, so that another process (or a
 * client that must go over the network) can reach it. It lives apart from `./testing` because
 * `./testing` must load in Workers and browsers, which have no `node:http`.
 *
 * Not built on `toNodeHandler` (`./node`), whose job is a production endpoint: that streams the
 * body and answers a handler that throws with a 500. A test server must instead fail the way a
 * network does, so a handler that throws (the fake's `networkError` fault) drops the
 * connection, and the request's `signal` aborts when the client goes away (which cuts the
 * fake's `latencyMs` short).
 *
 * @module
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { concatBytes } from "../_body.ts";
import { invalidArgument } from "../_validate.ts";

/** Largest request body {@linkcode serveFetch} reads; a larger one is answered 413. */
const MAX_SERVED_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Where {@linkcode serveFetch} listens.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { serveFetch, type ServeFetchOptions } from "@smile-id-kit/job-status/testing/node";
 *
 * const options: ServeFetchOptions = { hostname: "127.0.0.1", port: 0 }; // any free port
 * const server = await serveFetch(() => new Response("hi"), options);
 * assertEquals(await (await fetch(server.url)).text(), "hi");
 * await server.close();
 * ```
 */
export interface ServeFetchOptions {
  /**
   * Interface to listen on.
   *
   * @default {"127.0.0.1"}
   */
  readonly hostname?: string;
  /**
   * Port to listen on; `0` picks any free one (read it from {@linkcode FetchServer.port}).
   *
   * @default {0}
   */
  readonly port?: number;
}

/**
 * A running HTTP server from {@linkcode serveFetch}.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { type FetchServer, serveFetch } from "@smile-id-kit/job-status/testing/node";
 *
 * const server: FetchServer = await serveFetch(() => new Response("hi"));
 * assert(server.url.startsWith("http://127.0.0.1:"));
 * await server.close();
 * ```
 */
export interface FetchServer {
  /** Origin the server listens on, for example `http://127.0.0.1:8787`. */
  readonly url: string;
  /** The port, useful when `0` asked for any free one. */
  readonly port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Serves a fetch handler over HTTP with `node:http` (Node, Deno, Bun). Bodies are read whole (at
 * most 4 MiB, else 413); a handler that throws, or a fake `networkError` fault, drops the
 * connection like a network failure. The request's signal aborts when the client goes away.
 * (Deno's `fetch` re-sends a request once when a reused keep-alive connection closes without an
 * answer, so there a dropped connection shows only on a fresh connection.)
 *
 * @example Serve the fake Smile ID to another process
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient } from "@smile-id-kit/job-status";
 * import { createFakeSmileId } from "@smile-id-kit/job-status/testing";
 * import { serveFetch } from "@smile-id-kit/job-status/testing/node";
 *
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1" });
 * const server = await serveFetch(fake.fetch, { hostname: "127.0.0.1", port: 0 });
 * try {
 *   const client = createClient({ partnerId: "085", apiKey: "test-key", server: `${server.url}/v1` });
 *   const status = await client.getJobStatus({ userId: "user-1", jobId: "job-1" });
 *   assertEquals(status.jobComplete, true);
 * } finally {
 *   await server.close();
 * }
 * ```
 */
export function serveFetch(
  handler: (request: Request) => Response | Promise<Response>,
  options: ServeFetchOptions = {},
): Promise<FetchServer> {
  if (typeof handler !== "function") throw invalidArgument("The handler", "a function", handler);
  if (typeof options !== "object" || options === null) throw invalidArgument("The options", "an object", options);
  const hostname = options.hostname ?? "127.0.0.1";
  if (typeof hostname !== "string" || hostname === "") {
    throw invalidArgument("Option hostname", "a non-empty string", hostname);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalidArgument("Option port", "an integer from 0 to 65535", port);
  }
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const server = createServer((req, res) => void respond(req, res));
  let origin = "";

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) controller.abort(new Error("The client closed the connection"));
    });
    try {
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Uint8Array).byteLength;
        if (size > MAX_SERVED_BODY_BYTES) {
          res.writeHead(413, { "content-type": "application/json" }).end('{"error":"Request body too large"}');
          return;
        }
        chunks.push(chunk as Uint8Array);
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (Array.isArray(value)) { for (const item of value) headers.append(name, item); }
        else if (value !== undefined) headers.set(name, value);
      }
      const method = req.method ?? "GET";
      const request = new Request(origin + (req.url ?? "/"), {
        method,
        headers,
        body: method === "GET" || method === "HEAD" ? null : concatBytes(chunks),
        signal: controller.signal,
      });
      const response = await handler(request);
      const body = new Uint8Array(await response.arrayBuffer());
      const outHeaders: Record<string, string> = Object.fromEntries(response.headers);
      outHeaders["content-length"] = String(body.byteLength);
      res.writeHead(response.status, outHeaders).end(body);
    } catch {
      res.destroy();
    }
  }

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      origin = `http://${host}:${address.port}`;
      resolve({
        url: origin,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}
