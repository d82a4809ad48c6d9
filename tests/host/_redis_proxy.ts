// A TCP proxy on 127.0.0.1 in front of a real redis-server that can lose the reply to one
// command: Redis runs the command, and instead of forwarding its reply the proxy drops both
// connections, as a failover, an idle-connection reset or `CLIENT KILL` would. The clients
// reconnect through the proxy. Built on node:net, so it runs in Deno, Node and Bun.
//
// The proxy reads the RESP commands each client sends (to know which reply answers which
// command) and the replies Redis sends back, in order. Only guard commands are counted: SET,
// EVAL and EVALSHA (a client's handshake, such as CLIENT SETINFO or INFO, is not).

import { createConnection, createServer, type Server, type Socket } from "node:net";
import { Buffer } from "node:buffer";

/** A running proxy. */
export interface RedisProxy {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Guard commands whose reply arrived from Redis so far (the dropped ones included). */
  commands(): number;
  /** The reply to the `n`-th guard command from now (1-based) is dropped with the connection. */
  dropNth(n: number): void;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

const GUARD_COMMANDS = new Set(["SET", "EVAL", "EVALSHA"]);

/** Starts a proxy to the Redis at `redisPort`. */
export async function startRedisProxy(redisPort: number): Promise<RedisProxy> {
  const sockets = new Set<Socket>();
  let seen = 0;
  let target = 0;
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = createConnection({ host: "127.0.0.1", port: redisPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    // Names of the commands sent on this connection whose reply has not come yet, in order.
    const pending: string[] = [];
    let sent = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      sent = Buffer.concat([sent, chunk]);
      for (;;) {
        const parsed = parseCommand(sent);
        if (parsed === undefined) break;
        pending.push(parsed.name);
        sent = sent.subarray(parsed.length);
      }
      upstream.write(chunk);
    });
    let received = Buffer.alloc(0);
    upstream.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      let forward = 0;
      for (;;) {
        const length = replyLength(received, forward);
        if (length < 0) break;
        const name = pending.shift() ?? "";
        if (GUARD_COMMANDS.has(name) && ++seen === target) {
          // Redis has run the command: everything before its reply goes through, then the line drops.
          if (forward > 0) client.write(received.subarray(0, forward));
          client.destroy();
          upstream.destroy();
          return;
        }
        forward += length;
      }
      if (forward > 0) client.write(received.subarray(0, forward));
      received = received.subarray(forward);
    });
    client.pause();
    upstream.once("connect", () => client.resume());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("The Redis proxy has no TCP address");
  let closed: Promise<void> | undefined;
  return {
    port: address.port,
    url: `redis://127.0.0.1:${address.port}`,
    commands: () => seen,
    dropNth: (n) => void (target = seen + n),
    connections: () => accepted,
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}

/** The name of the first complete command in `data` (a RESP array of bulk strings) and its length in bytes. */
function parseCommand(data: Buffer): { name: string; length: number } | undefined {
  if (data.length === 0) return undefined;
  if (data[0] !== 0x2a) {
    // An inline command: one line.
    const end = data.indexOf("\r\n");
    return end < 0
      ? undefined
      : { name: data.subarray(0, end).toString().split(" ")[0]!.toUpperCase(), length: end + 2 };
  }
  const head = data.indexOf("\r\n");
  if (head < 0) return undefined;
  const count = Number(data.subarray(1, head).toString());
  let offset = head + 2;
  let name = "";
  for (let i = 0; i < count; i++) {
    const line = data.indexOf("\r\n", offset);
    if (line < 0) return undefined;
    const size = Number(data.subarray(offset + 1, line).toString());
    const start = line + 2;
    if (data.length < start + size + 2) return undefined;
    if (i === 0) name = data.subarray(start, start + size).toString().toUpperCase();
    offset = start + size + 2;
  }
  return { name, length: offset };
}

/** The length in bytes of the complete reply starting at `offset`, or -1 if it has not all arrived (RESP2 and RESP3). */
function replyLength(data: Buffer, offset: number): number {
  if (offset >= data.length) return -1;
  const line = data.indexOf("\r\n", offset);
  if (line < 0) return -1;
  const type = String.fromCharCode(data[offset]!);
  const header = line + 2 - offset;
  const value = data.subarray(offset + 1, line).toString();
  switch (type) {
    case "+":
    case "-":
    case ":":
    case "_":
    case ",":
    case "#":
    case "(":
      return header;
    case "$":
    case "!":
    case "=": {
      const size = Number(value);
      if (size < 0) return header;
      return data.length < line + 2 + size + 2 ? -1 : header + size + 2;
    }
    case "*":
    case "~":
    case ">":
    case "%":
    case "|": {
      const count = Number(value) * (type === "%" || type === "|" ? 2 : 1);
      let total = header;
      for (let i = 0; i < count; i++) {
        const inner = replyLength(data, offset + total);
        if (inner < 0) return -1;
        total += inner;
      }
      // An attribute precedes the reply it describes.
      if (type === "|") {
        const next = replyLength(data, offset + total);
        return next < 0 ? -1 : total + next;
      }
      return total;
    }
    default:
      throw new Error(`The Redis proxy cannot read a reply starting with ${JSON.stringify(type)}`);
  }
}
