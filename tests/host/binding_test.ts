// Answers bound to their request, over real sockets on 127.0.0.1: a server that does not hold the
// key copies the request's own timestamp/signature pair into an answer it makes up, and a user's
// fetch wrapper that follows a redirect re-sends the signed request elsewhere. Both must be
// refused by getJobStatus and by polling. Small node:http servers, so it runs in Deno, Node and Bun.

import { test } from "node:test";
import { assert, assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { createClient, createSigner, type FetchLike } from "../../mod.ts";
import { concatBytes } from "../../src/_body.ts";
import { assertRejectsWithCode, madeUpApproval } from "../_helpers.ts";

const partnerId = "085";
const apiKey = "binding-test-key-7e21";
const serverSigner = createSigner({ partnerId, apiKey });
const query = { userId: "user-1", jobId: "job-1" };

interface Received {
  readonly path: string;
  readonly body: Record<string, unknown>;
}

/** A node:http server on 127.0.0.1 that answers each request with `answer`; close() drops every socket. */
async function serve(
  answer: (received: Received, res: ServerResponse) => Promise<void> | void,
): Promise<{ origin: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    req.on("end", () => {
      const text = new TextDecoder().decode(concatBytes(chunks));
      const entry = { path: req.url ?? "", body: text ? JSON.parse(text) : {} };
      received.push(entry);
      void Promise.resolve(answer(entry, res)).catch(() => res.destroy());
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return {
    origin: `http://127.0.0.1:${address.port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(text.length), ...headers });
  res.end(text);
}

test("getJobStatus() and polling refuse an answer that echoes the request's own pair, over a real socket", async () => {
  const reflector = await serve((received, res) => json(res, 200, madeUpApproval(received.body, received.body)));
  try {
    const client = createClient({ partnerId, apiKey, server: `${reflector.origin}/v1`, fetch: (r) => fetch(r) });
    const error = await assertRejectsWithCode(
      () => client.getJobStatus(query),
      "signature_mismatch",
      /carries the request's own timestamp and signature \(or another request's of this client\), which anyone who saw the request can copy/,
    );
    // No second ask: a genuine answer never carries a request's pair (see reflection_test.ts).
    assertStrictEquals(reflector.received.length, 1);
    const sent = reflector.received[0]!.body;
    // The pair does verify: only binding the answer to its request tells it apart.
    assertStrictEquals(await serverSigner.verify(sent.timestamp, sent.signature), true);
    assertStrictEquals(error.body, undefined);
    assert(!error.message.includes(String(sent.signature)), "the reusable request signature is not repeated");

    await assertRejectsWithCode(
      () => client.waitForJobStatus(query, { intervalMs: 10, timeoutMs: 5000 }),
      "signature_mismatch",
    );
    assertStrictEquals(reflector.received.length, 2, "polling does not retry it");
  } finally {
    await reflector.close();
  }
});

test("getJobStatus() refuses the answer a redirect-following fetch wrapper brings back, over a real socket", async () => {
  const server = await serve(async (received, res) => {
    if (received.path === "/v1/job_status") {
      res.writeHead(307, { location: "/elsewhere/v1/job_status", "content-length": "0" });
      res.end();
      return;
    }
    // Wherever the redirect led: a genuine-looking, properly signed answer.
    json(res, 200, { ...madeUpApproval(received.body, received.body), ...(await serverSigner.sign()) });
  });
  try {
    // A user's wrapper that re-issues the request with redirects followed.
    const following: FetchLike = async (request, init) =>
      await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: await request.text(),
        redirect: "follow",
        ...(init?.signal ? { signal: init.signal } : {}),
      });
    const client = createClient({ partnerId, apiKey, server: `${server.origin}/v1`, fetch: following });
    const error = await assertRejectsWithCode(
      () => client.getJobStatus(query),
      "http",
      /came through a redirect that fetch followed \(to "http:\/\/127\.0\.0\.1:\d+\/elsewhere\/v1\/job_status"\)/,
    );
    assertStrictEquals(error.status, undefined);
    assertEquals(server.received.map((r) => r.path), ["/v1/job_status", "/elsewhere/v1/job_status"]);
    assertMatch(String(server.received[1]!.body.signature), /=$/, "the signed body did reach the other address");

    // Without the wrapper, the client never follows: the 307 itself is the error.
    const direct = createClient({ partnerId, apiKey, server: `${server.origin}/v1` });
    const redirect = await assertRejectsWithCode(() => direct.getJobStatus(query), "http", /HTTP 307/);
    assertStrictEquals(redirect.status, 307);
    assertStrictEquals(server.received.length, 3);
  } finally {
    await server.close();
  }
});
