// toNodeHandler over a real node:http server on 127.0.0.1 (in Deno, Node and Bun): the callback
// handler behind it, oversized uploads on keep-alive connections, clients that disconnect
// mid-upload, and Express-style use.
import { test } from "node:test";
import { assert, assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { createCallbackHandler, createClient, type HandledResult, SmileIdError } from "../../mod.ts";
import { toNodeHandler } from "../../src/node.ts";
import { createFakeSmileId } from "../../src/testing/mod.ts";

const partnerId = "085";
const apiKey = "node-adapter-test-key-0123456789";

function setup(maxBodyBytes = 4096) {
  const fake = createFakeSmileId({ partnerId, apiKey });
  fake.addJob({ userId: "user-1", jobId: "job-1" });
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch });
  const processed: HandledResult[] = [];
  const rejections: SmileIdError[] = [];
  let rejected: () => void = () => {};
  const nextRejection = new Promise<void>((resolve) => (rejected = resolve));
  const handler = createCallbackHandler({
    client,
    maxBodyBytes,
    onCallback: (callback) => void processed.push(callback),
    onRejected: (error) => {
      rejections.push(error);
      rejected();
    },
  });
  return { fake, handler, processed, rejections, nextRejection };
}

/** Serves `listener` on 127.0.0.1 for the duration of `body`. */
async function serving(listener: RequestListener, body: (port: number) => Promise<void>): Promise<void> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  try {
    await body(port);
  } finally {
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A raw connection, to control exactly what is sent and see what comes back. */
class RawClient {
  readonly socket: Socket;
  received = "";
  closed = false;
  private wake: () => void = () => {};

  constructor(port: number) {
    this.socket = connect(port, "127.0.0.1");
    this.socket.setEncoding("latin1");
    this.socket.on("data", (chunk: string) => {
      this.received += chunk;
      this.wake();
    });
    this.socket.on("error", () => {});
    this.socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
  }

  async connected(): Promise<void> {
    if (this.socket.readyState !== "open") await new Promise((resolve) => this.socket.once("connect", resolve));
  }

  write(text: string): Promise<void> {
    return new Promise((resolve) => this.socket.write(text, "latin1", () => resolve()));
  }

  /** Waits until `done(received)` or the connection closes, at most `ms`; returns whether `done` holds. */
  async until(done: (received: string) => boolean, ms = 3000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!done(this.received) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    return done(this.received);
  }
}

/** Whether `text` holds `count` complete HTTP responses (bodies with Content-Length or chunked). */
function responses(text: string): string[] {
  const out: string[] = [];
  let rest = text;
  for (;;) {
    const head = rest.indexOf("\r\n\r\n");
    if (head < 0) return out;
    const headers = rest.slice(0, head);
    const length = /content-length: *(\d+)/i.exec(headers);
    let end: number;
    if (length) end = head + 4 + Number(length[1]);
    else if (/transfer-encoding: *chunked/i.test(headers)) {
      const last = rest.indexOf("\r\n0\r\n\r\n", head);
      if (last < 0) return out;
      end = last + 7;
    } else end = head + 4;
    if (rest.length < end) return out;
    out.push(rest.slice(0, end));
    rest = rest.slice(end);
  }
}

test("toNodeHandler() serves a genuine callback over node:http: 200, processed once", async () => {
  const { fake, handler, processed } = setup();
  await serving(toNodeHandler(handler), async (port) => {
    const url = `http://127.0.0.1:${port}/smile/callback`;
    const body = JSON.stringify(await fake.buildCallback("job-1"));
    const first = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
    assertStrictEquals(first.status, 200);
    assertEquals(await first.json(), { ok: true, code: "processed" });
    const again = await fetch(url, { method: "POST", body });
    assertEquals(await again.json(), { ok: true, code: "duplicate" });
    const get = await fetch(url);
    assertStrictEquals(get.status, 405);
    assertStrictEquals(get.headers.get("allow"), "POST");
    await get.body?.cancel();
  });
  assertStrictEquals(processed.length, 1);
});

test("toNodeHandler(): a body declared over the limit gets 413 at once and the connection is not left waiting", async () => {
  const { fake, handler, processed } = setup();
  const genuine = JSON.stringify(await fake.buildCallback("job-1"));
  await serving(toNodeHandler(handler), async (port) => {
    const client = new RawClient(port);
    await client.connected();
    // 5 MB declared, only 16 kB sent: the answer must not wait for the rest.
    await client.write(
      `POST /smile/callback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: 5000000\r\n\r\n${" ".repeat(16 * 1024)}`,
    );
    assert(await client.until((text) => responses(text).length >= 1), `no answer: ${client.received.slice(0, 200)}`);
    const [first] = responses(client.received);
    assertMatch(first!, /^HTTP\/1\.1 413 /);
    assertMatch(first!, /\r\nconnection: close\r\n/i);
    assertMatch(first!, /\{"ok":false,"code":"payload_too_large"\}/);
    // The server closes the connection (it cannot skip 5 MB it was never sent).
    await client.until(() => false, 2000);
    assert(client.closed, "the connection stays open, waiting for the rest of the body");
    client.socket.destroy();

    // A body over the limit but sent whole: the next request on the connection is answered at once, or it is closed.
    const second = new RawClient(port);
    await second.connected();
    await second.write(
      `POST /smile/callback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 8192\r\n\r\n${"x".repeat(8192)}`,
    );
    assert(await second.until((text) => responses(text).length >= 1));
    assertMatch(responses(second.received)[0]!, /^HTTP\/1\.1 413 /);
    if (!second.closed) {
      await second.write(
        `POST /smile/callback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${genuine.length}\r\n\r\n${genuine}`,
      );
      const answered = await second.until((text) => responses(text).length >= 2, 2000);
      assert(answered || second.closed, "the next request on the connection waited");
      if (answered) assertMatch(responses(second.received)[1]!, /^HTTP\/1\.1 200 /);
    }
    second.socket.destroy();
  });
  assert(processed.length <= 1);
});

test("toNodeHandler(): a client that disconnects mid-upload surfaces as a SmileIdError in onRejected", async () => {
  const { handler, processed, rejections, nextRejection } = setup();
  await serving(toNodeHandler(handler), async (port) => {
    const client = new RawClient(port);
    await client.connected();
    await client.write(
      `POST /smile/callback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2000\r\n\r\n{"ResultCode":"1012",`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    client.socket.destroy();
    await Promise.race([nextRejection, new Promise((resolve) => setTimeout(resolve, 3000))]);
  });
  assertStrictEquals(rejections.length, 1, "onRejected was not told");
  assert(rejections[0] instanceof SmileIdError);
  assertStrictEquals(rejections[0].code, "body_unreadable");
  assert(rejections[0].cause !== undefined);
  assertEquals(processed, []);
});

test("toNodeHandler() works as an Express-style (req, res) route, mounted or behind a raw-body parser", async () => {
  const { fake, handler, processed } = setup();
  const callback = toNodeHandler(handler);
  // What Express does: a plain listener dispatching on the path, req.url relative to the mount point.
  const app: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === "/smile/callback" && req.method === "POST") {
      Object.assign(req, { originalUrl: req.url, url: "/" });
      return callback(req, res);
    }
    if (req.url === "/parsed" && req.method === "POST") {
      // A body parser that keeps the raw bytes (express.json({ verify }) or similar) ran first.
      const chunks: Uint8Array[] = [];
      req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      req.on("end", () => {
        const size = chunks.reduce((n, c) => n + c.byteLength, 0);
        const raw = new Uint8Array(size);
        chunks.reduce((offset, c) => (raw.set(c, offset), offset + c.byteLength), 0);
        if (req.headers["x-keep-raw"] === "yes") Object.assign(req, { rawBody: raw });
        callback(req, res);
      });
      return;
    }
    res.statusCode = 404;
    res.end("not found");
  };
  await serving(app, async (port) => {
    const first = await fetch(`http://127.0.0.1:${port}/smile/callback`, {
      method: "POST",
      body: JSON.stringify(await fake.buildCallback("job-1")),
    });
    assertEquals([first.status, await first.json()], [200, { ok: true, code: "processed" }]);
    fake.addJob({ userId: "user-2", jobId: "job-2" });
    const body = JSON.stringify(await fake.buildCallback("job-2"));
    const kept = await fetch(`http://127.0.0.1:${port}/parsed`, {
      method: "POST",
      body,
      headers: { "x-keep-raw": "yes" },
    });
    assertEquals([kept.status, await kept.json()], [200, { ok: true, code: "processed" }]);
    const lost = await fetch(`http://127.0.0.1:${port}/parsed`, { method: "POST", body });
    assertEquals([lost.status, await lost.json()], [400, { ok: false, code: "body_unreadable" }]);
    const other = await fetch(`http://127.0.0.1:${port}/elsewhere`);
    assertStrictEquals(other.status, 404);
    await other.body?.cancel();
  });
  assertEquals(processed.map((c) => c.source === "callback" ? c.payload.jobId : c.jobId), ["job-1", "job-2"]);
});

test("toNodeHandler() answers 500 when the handler throws, and refuses a non-function", async () => {
  await serving(toNodeHandler(() => Promise.reject(new Error("boom"))), async (port) => {
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "{}" });
    assertStrictEquals(response.status, 500);
    assertStrictEquals(await response.text(), "");
  });
  let error: unknown;
  try {
    toNodeHandler("handler" as never);
  } catch (caught) {
    error = caught;
  }
  assert(error instanceof SmileIdError && error.code === "invalid_argument");
});
