/**
 * {@linkcode toNodeHandler}: serves a fetch handler, such as the one `createCallbackHandler`
 * returns, from Node's `node:http` server or Express (also under Deno's and Bun's `node:http`).
 *
 * Written by hand rather than taken from `@hono/node-server`: its `getRequestListener` (2.1.9)
 * imports `hono/ws` when it loads, so it needs the whole Hono framework installed beside it
 * (1.3 MB in 577 files) although it declares Hono only as a peer, and by default it replaces the
 * global `Request` and `Response`. What a callback endpoint needs is small: the request body
 * streamed with back-pressure (the handler enforces the size limit and stops reading), a client
 * that disconnects mid-upload surfacing as an error of that stream, and the answer written back.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { invalidArgument } from "./_validate.ts";

/**
 * Turns a fetch handler into a `node:http` request listener, usable as
 * `http.createServer(listener)` or as an Express route (`app.post("/smile/callback", listener)`;
 * mount it before any body parser, or keep the raw body as `req.rawBody`). The request body is
 * streamed, never buffered here; if the client disconnects mid-upload, reading it fails, which
 * `createCallbackHandler` reports as a `body_unreadable` `SmileIdError` to its `onRejected`. An
 * answer the handler gives before reading the whole body (413, 405) closes the connection
 * instead of waiting for the rest. Should the handler throw, the answer is a bare 500.
 *
 * Every method that reaches the listener reaches the handler, `TRACE` included (which the Fetch
 * API's `Request` refuses: it is passed without its body, `request.method` reading `"TRACE"`), so
 * a callback handler answers each 405 with `Allow: POST` and tells `onRejected`. Some never reach
 * the listener: `node:http` itself answers 400 to a method its parser does not know (`TRACK`, an
 * unknown token), and closes the connection of a `CONNECT` unless the server listens for
 * `connect`.
 *
 * @example Serve a callback handler with node:http
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createServer } from "node:http";
 * import { toNodeHandler } from "@smile-id-kit/job-status/node";
 *
 * const server = createServer(toNodeHandler(async (request) => Response.json({ got: (await request.text()).length })));
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 *
 * const response = await fetch(`http://127.0.0.1:${port}/smile/callback`, { method: "POST", body: "hello" });
 * assertEquals(await response.json(), { got: 5 });
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export function toNodeHandler(
  handler: (request: Request) => Response | Promise<Response>,
): (req: IncomingMessage, res: ServerResponse) => void {
  if (typeof handler !== "function") throw invalidArgument("The handler", "a function", handler);
  return (req, res) => {
    void serve(handler, req, res);
  };
}

async function serve(
  handler: (request: Request) => Response | Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = bodyOf(req);
  let response: Response;
  try {
    response = await handler(toRequest(req, body?.stream));
  } catch {
    response = new Response(null, { status: 500 });
  }
  // Unread request bytes must not be parsed as the next request, nor wait to be read: close.
  if (body && !body.finished()) {
    body.discard();
    res.shouldKeepAlive = false;
    res.setHeader("connection", "close");
  }
  await write(response, res);
}

function toRequest(req: IncomingMessage, body: ReadableStream<Uint8Array> | undefined): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (name.startsWith(":")) continue; // HTTP/2 pseudo-headers
    try {
      headers.append(name, req.rawHeaders[i + 1]!);
    } catch {
      // A header value the Fetch API refuses is dropped, not fatal.
    }
  }
  const path = String((req as { originalUrl?: unknown }).originalUrl ?? req.url ?? "/");
  const scheme = (req.socket as { encrypted?: boolean } | undefined)?.encrypted ? "https" : "http";
  let url: string;
  try {
    url = new URL(`${scheme}://${req.headers.host ?? "localhost"}${path.startsWith("/") ? path : `/${path}`}`).href;
  } catch {
    url = `${scheme}://localhost/`;
  }
  const method = req.method ?? "GET";
  const init: RequestInit & { duplex?: "half" } = { method, headers };
  if (body) {
    init.body = body;
    init.duplex = "half";
  }
  try {
    return new Request(url, init);
  } catch (error) {
    // A method the Fetch API forbids (TRACE: Node's and Deno's Request refuse it) reaches the
    // handler all the same, as a request without body whose `method` reads as sent, so that a
    // callback handler answers it 405 with Allow: POST and tells onRejected.
    if (!body) throw error;
    const request = new Request(url, { headers });
    Object.defineProperty(request, "method", { value: method });
    return request;
  }
}

interface NodeBody {
  readonly stream: ReadableStream<Uint8Array>;
  /** Whether the whole body was read. */
  finished(): boolean;
  /** Stops delivering the body and lets Node read and drop what still arrives. */
  discard(): void;
}

/** The request body as a web stream with back-pressure, or undefined for GET and HEAD. */
function bodyOf(req: IncomingMessage): NodeBody | undefined {
  if (req.method === "GET" || req.method === "HEAD") return undefined;
  let ended = false;
  let settled = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const onData = (chunk: Uint8Array) => {
    if (settled) return;
    controller.enqueue(chunk);
    if ((controller.desiredSize ?? 0) <= 0) req.pause();
  };
  const onEnd = () => {
    ended = true;
    finish();
    controller.close();
  };
  const onError = (error: unknown) => {
    finish();
    controller.error(error);
  };
  const onClose = () => {
    if (!ended && !settled) onError(new Error("The client disconnected before the request body was complete"));
  };
  const finish = () => {
    settled = true;
    req.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
  };
  const discard = () => {
    if (!settled) finish();
    // Keep reading, dropping the bytes, so the socket is not closed on unread data (a reset can
    // lose the answer on its way to the client); the answer closes the connection.
    req.on("error", () => {}).resume();
  };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      if (req.readableEnded) {
        // Consumed before us, e.g. by a body parser; some keep the bytes as rawBody.
        settled = ended = true;
        const raw = (req as { rawBody?: unknown }).rawBody;
        if (raw instanceof Uint8Array) {
          c.enqueue(raw);
          c.close();
        } else {
          c.error(new TypeError("The request body was already read: mount the handler before any body parser"));
        }
        return;
      }
      req.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
      req.pause();
    },
    pull() {
      req.resume();
    },
    cancel() {
      discard();
    },
  }, { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength });
  return { stream, finished: () => ended, discard };
}

async function write(response: Response, res: ServerResponse): Promise<void> {
  try {
    res.statusCode = response.status;
    for (const [name, value] of response.headers) {
      if (name !== "set-cookie") res.setHeader(name, value);
    }
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) res.setHeader("set-cookie", cookies);
    if (response.body === null) {
      res.end();
      return;
    }
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (res.destroyed) return;
        if (!res.write(value)) await new Promise((resolve) => res.once("drain", resolve).once("close", resolve));
      }
    } finally {
      reader.cancel().catch(() => {});
    }
    res.end();
  } catch {
    // The client is gone or the answer broke off: nothing left to tell it.
    res.destroy();
  }
}
