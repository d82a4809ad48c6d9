// Deno.serve puts no deadline on a request body (node:http has requestTimeout): a client that
// sends the headers and then stalls holds its handler for as long as it likes. SECURITY.md shows
// how to bound it: read the body through a stream that errors at a deadline. This runs that code
// against a real Deno.serve on 127.0.0.1 with a stalled upload; the deadline is a signal the test
// aborts once the handler is waiting, so no real time is raced. Deno only.

import { test } from "node:test";
import { assertEquals, assertStrictEquals } from "@std/assert";
import { connect, type Socket } from "node:net";
import { createCallbackHandler, createClient, type SmileIdError } from "../../mod.ts";

/**
 * SECURITY.md's wrapper, with the deadline's signal injected: `withBodyDeadline(handler, () =>
 * AbortSignal.timeout(10_000))` there.
 */
function withBodyDeadline(
  handler: (request: Request) => Promise<Response>,
  deadline: () => AbortSignal,
): (request: Request) => Promise<Response> {
  return (request) => {
    if (request.body === null) return handler(request);
    const body = request.body.pipeThrough(new TransformStream(), { signal: deadline() });
    return handler(new Request(request, { body, duplex: "half" } as RequestInit));
  };
}

test(
  "a body deadline around the handler answers a stalled upload under Deno.serve (400 body_unreadable, onRejected told)",
  {
    skip: !("Deno" in globalThis),
  },
  async () => {
    const rejected: string[] = [];
    let waiting!: () => void;
    const handlerWaits = new Promise<void>((resolve) => (waiting = resolve));
    const deadline = new AbortController();
    const handler = createCallbackHandler({
      client: createClient({ partnerId: "085", apiKey: "body-deadline-key" }),
      onCallback: () => {},
      onRejected: (error: SmileIdError) => void rejected.push(error.code),
    });
    const deno = (globalThis as unknown as { Deno: { serve: typeof Deno.serve } }).Deno;
    const server = deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      withBodyDeadline(handler, () => {
        waiting(); // the handler is about to read the body: the client has stalled by now
        return deadline.signal;
      }),
    );
    const socket: Socket = connect(server.addr.port, "127.0.0.1");
    try {
      let answer = "";
      socket.on("data", (chunk) => (answer += String(chunk)));
      socket.on("error", () => {});
      socket.write(
        "POST /cb HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" +
          '{"ResultCode":',
      );
      await handlerWaits;
      deadline.abort(new Error("the body did not arrive within the deadline"));
      await new Promise<void>((resolve) => socket.on("data", () => answer.includes("\r\n\r\n{") && resolve()));
      assertStrictEquals(answer.split("\r\n")[0], "HTTP/1.1 400 Bad Request");
      assertEquals(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)), { ok: false, code: "body_unreadable" });
      assertEquals(rejected, ["body_unreadable"]);
    } finally {
      socket.destroy();
      await server.shutdown();
    }
  },
);
