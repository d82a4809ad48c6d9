// Test-only servers on 127.0.0.1, built on node:net and node:http so that they run in Deno, Node
// and Bun: a raw TCP server that misbehaves on purpose, and an HTTP server that serves a fetch
// handler (the fake Smile ID). Every server tracks its sockets and close() destroys them all.

import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { Buffer } from "node:buffer";
import process from "node:process";

/** One HTTP request as the raw server read it. */
export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** `performance.now()` when the whole request had arrived. */
  readonly at: number;
}

/** What the raw server does once it has read a whole request: write bytes, stall, reset… */
export type Behaviour = (socket: Socket, request: RawRequest, index: number) => void;

/** A running test server. */
export interface TestServer {
  /** `http://host:port`. */
  readonly origin: string;
  /** `origin + "/v1"`, to pass as the client's `server`. */
  readonly base: string;
  /** Requests received so far (raw server: fully read requests; HTTP server: handled requests). */
  readonly requests: RawRequest[];
  /** Connections accepted so far. */
  readonly connections: () => number;
  /** Destroys every socket and closes the listener. */
  close(): Promise<void>;
}

const HEADER_END = "\r\n\r\n";

/** Starts a raw TCP server that reads each request, then hands the socket to `behaviour`. */
export async function startRawServer(behaviour: Behaviour, host = "127.0.0.1"): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const requests: RawRequest[] = [];
  let accepted = 0;
  const server = createNetServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {}); // resets caused by the client are expected
    let buffered = Buffer.alloc(0);
    let handled = false;
    socket.on("data", (chunk: Buffer) => {
      if (handled) return;
      buffered = Buffer.concat([buffered, chunk]);
      const parsed = parseRequest(buffered);
      if (parsed === undefined) return;
      const request = { ...parsed, at: performance.now() };
      handled = true;
      requests.push(request);
      behaviour(socket, request, requests.length - 1);
    });
  });
  return await listen(server, host, sockets, requests, () => accepted);
}

/**
 * Starts an HTTP server that answers every request with `handler` (a fetch-style handler, such
 * as the fake Smile ID's `fetch`); a handler that throws drops the connection.
 */
export async function startFetchServer(
  handler: (request: Request) => Promise<Response>,
  host = "127.0.0.1",
): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const requests: RawRequest[] = [];
  let accepted = 0;
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    void serve(req, res);
  });
  server.keepAliveTimeout = 1000;
  server.on("connection", (socket: Socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers[name] = value;
      }
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers, body, at: performance.now() });
      const response = await handler(
        new Request(`http://${host}${req.url ?? "/"}`, {
          method: req.method ?? "GET",
          headers,
          ...(req.method === "GET" || req.method === "HEAD" ? {} : { body }),
        }),
      );
      const out = new Uint8Array(await response.arrayBuffer());
      const outHeaders: Record<string, string> = {};
      response.headers.forEach((value, name) => (outHeaders[name] = value));
      outHeaders["content-length"] = String(out.byteLength);
      res.writeHead(response.status, outHeaders);
      res.end(out);
    } catch {
      // A handler that throws (the fake's networkError fault) drops the connection.
      res.destroy();
    }
  };
  return await listen(server as unknown as Server, host, sockets, requests, () => accepted);
}

async function listen(
  server: Server,
  host: string,
  sockets: Set<Socket>,
  requests: RawRequest[],
  connections: () => number,
): Promise<TestServer> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("Test server has no TCP address");
  const origin = `http://${host}:${address.port}`;
  let closed: Promise<void> | undefined;
  return {
    origin,
    base: `${origin}/v1`,
    requests,
    connections,
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}

function parseRequest(buffered: Buffer): Omit<RawRequest, "at"> | undefined {
  const end = buffered.indexOf(HEADER_END);
  if (end === -1) return undefined;
  const head = buffered.subarray(0, end).toString("latin1").split("\r\n");
  const [method = "", path = ""] = (head[0] ?? "").split(" ");
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers["content-length"] ?? 0);
  const bodyStart = end + HEADER_END.length;
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    const terminator = buffered.indexOf("0\r\n\r\n", bodyStart);
    if (terminator === -1) return undefined;
    return { method, path, headers, body: decodeChunked(buffered.subarray(bodyStart, terminator + 5)) };
  }
  if (buffered.length < bodyStart + length) return undefined;
  return { method, path, headers, body: buffered.subarray(bodyStart, bodyStart + length).toString("utf8") };
}

function decodeChunked(data: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", offset);
    if (lineEnd === -1) break;
    const size = parseInt(data.subarray(offset, lineEnd).toString("latin1"), 16);
    if (!(size > 0)) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts).toString("utf8");
}

/** Writes a complete HTTP/1.1 response and ends the connection. */
export function writeResponse(
  socket: Socket,
  status: number,
  headers: Record<string, string>,
  body: string | Uint8Array = "",
): void {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
  socket.end(Buffer.concat([head(status, { "content-length": String(bytes.byteLength), ...headers }), bytes]));
}

/**
 * A 200 JSON response whose `content-length` declares all of `body` but which carries only its
 * first `sent` characters: a body cut short.
 */
export function truncatedJson(body: string, sent: number): Buffer {
  return Buffer.concat([
    head(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }),
    Buffer.from(body.slice(0, sent)),
  ]);
}

/** The status line and headers of a response, with `connection: close`. */
export function head(status: number, headers: Record<string, string>): Buffer {
  const lines = [`HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}`, "connection: close"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return Buffer.from(lines.join("\r\n") + HEADER_END, "latin1");
}

const REASONS: Record<number, string> = {
  200: "OK",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** Which runtime runs the tests. */
export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : process.versions.bun !== undefined
  ? "bun"
  : "node";

/**
 * Counts of active handles (`process.getActiveResourcesInfo()`), or `undefined` where the
 * runtime does not report them (Bun returns an empty list whatever is open).
 */
export function activeResources(): Map<string, number> | undefined {
  if (runtime === "bun") return undefined;
  const counts = new Map<string, number>();
  for (const name of process.getActiveResourcesInfo()) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

/** Resources present now beyond `baseline` (name → extra count); empty when nothing leaked. */
export function extraResources(baseline: Map<string, number>): Record<string, number> {
  const extra: Record<string, number> = {};
  for (const [name, count] of activeResources() ?? new Map<string, number>()) {
    const more = count - (baseline.get(name) ?? 0);
    if (more > 0) extra[name] = more;
  }
  return extra;
}

/**
 * Waits (up to `limitMs`) until no resource beyond `baseline` is active, and returns what is
 * still open then. Sockets closed by the server take an event-loop turn or two to be released
 * by the client, hence the polling; the probe timer itself is excluded because it has fired.
 */
export async function settleResources(baseline: Map<string, number>, limitMs = 2000): Promise<Record<string, number>> {
  const started = Date.now();
  for (;;) {
    const extra = extraResources(baseline);
    if (Object.keys(extra).length === 0 || Date.now() - started > limitMs) return extra;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
