// Every method that reaches a node:http listener gets the callback handler's 405 with
// `Allow: POST` through toNodeHandler, and onRejected hears of it: TRACE (which the Fetch API's
// Request refuses in Node and Deno) and extension methods Node's parser knows. What node:http
// answers before the listener runs (400 for an unknown method, a closed connection for CONNECT)
// is checked too, since the docs state it. Runs in Deno, Node and Bun (their node:http).

import { test } from "node:test";
import { assertEquals, assertStrictEquals } from "@std/assert";
import { createServer, request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import { createCallbackHandler, createClient, type SmileIdError } from "../../mod.ts";
import { toNodeHandler } from "../../src/node.ts";

/** Sends one request with `method` on a connection of its own, resolving with the status and `Allow`, or "closed". */
function send(port: number, method: string): Promise<string> {
  return new Promise((resolve) => {
    const path = method === "CONNECT" ? "127.0.0.1:9" : "/cb";
    const req = httpRequest({ host: "127.0.0.1", port, method, path, agent: false });
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve(`${res.statusCode} ${res.headers.allow ?? "-"}`));
    });
    req.on("connect", (res, socket: Socket) => {
      socket.destroy();
      resolve(`connect ${res.statusCode}`);
    });
    req.on("error", () => resolve("closed"));
    req.end();
  });
}

test("toNodeHandler() gives TRACE and extension methods the handler's 405 with Allow: POST, and onRejected hears of each", async () => {
  const rejected: [string, string][] = [];
  const handler = createCallbackHandler({
    client: createClient({ partnerId: "085", apiKey: "node-methods-key" }),
    onCallback: () => {},
    onRejected: (error: SmileIdError, request) => void rejected.push([error.code, request.method]),
  });
  const sockets = new Set<Socket>();
  const server = createServer(toNodeHandler(handler));
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as { port: number };
  try {
    const methods = ["TRACE", "PROPFIND", "M-SEARCH", "OPTIONS"];
    const answers: string[] = [];
    for (const method of methods) answers.push(await send(port, method));
    assertEquals(answers, Array(methods.length).fill("405 POST"));
    assertEquals(rejected, methods.map((method) => ["method_not_allowed", method]));

    // Before the listener: node:http's parser refuses a method it does not know, and CONNECT
    // without a `connect` listener closes the connection. Neither reaches the handler.
    assertStrictEquals(await send(port, "TRACK"), "400 -");
    assertStrictEquals(await send(port, "BREW"), "400 -");
    assertStrictEquals(await send(port, "CONNECT"), "closed");
    assertStrictEquals(rejected.length, methods.length);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});
