// A throwaway redis-server for one test file: a free 127.0.0.1 port, no persistence, stopped
// with SHUTDOWN NOSAVE (then SIGKILL) afterwards. Built on node:child_process and node:net so it
// runs the same in Deno, Node and Bun. `redis-server` must be on PATH (Debian's redis-server
// package; .ci/run installs it).

import { type ChildProcess, spawn } from "node:child_process";
import { createConnection, createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A running redis-server. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops the server (SHUTDOWN NOSAVE, SIGKILL after 3 s) and waits for it to exit; idempotent. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago: listen on port 0, read it, close. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("No TCP address for the probe server");
  return address.port;
}

/** Sends raw RESP commands on a fresh connection and resolves with everything read until `done` says so. */
export function rawCommand(port: number, command: string, done: (reply: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on port ${port} did not answer ${JSON.stringify(command)} within 2 s`));
    }, 2000);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply);
    };
    socket.on("connect", () => socket.write(command));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (done(reply)) finish();
    });
    socket.on("error", (error) => finish(error));
    socket.on("close", () => finish());
  });
}

/** Starts redis-server on a free port and waits until it answers PING. */
export async function startRedis(): Promise<RedisServer> {
  let lastError: unknown;
  // The free port may be taken between the probe and redis-server's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(await freePort());
    } catch (error) {
      lastError = error;
      if (error instanceof Error && error.message.includes("not on PATH")) throw error;
    }
  }
  throw lastError;
}

async function startOnce(port: number): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "smile-redis-"));
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stdout?.on("data", (chunk) => (log += chunk));
  child.stderr?.on("data", (chunk) => (log += chunk));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  const spawnError = new Promise<never>((_, reject) => {
    child.once("error", (error: Error & { code?: string }) => {
      reject(
        error.code === "ENOENT"
          ? new Error("redis-server is not on PATH: install it (Debian: apt-get install -y redis-server)")
          : error,
      );
    });
  });
  spawnError.catch(() => {});
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: once(async () => {
      await stopChild(child, port, exited);
      rmSync(dir, { recursive: true, force: true });
    }),
  };
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const answered = await Promise.race([
        rawCommand(port, "PING\r\n", (reply) => reply.includes("\r\n")).then((r) => r.startsWith("+PONG"), () => false),
        spawnError,
        exited.then(() => {
          throw new Error(`redis-server exited before answering PING:\n${log}`);
        }),
      ]);
      if (answered) return server;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer PING within 10 s:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function stopChild(child: ChildProcess, port: number, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    await rawCommand(port, "SHUTDOWN NOSAVE\r\n", () => false).catch(() => {});
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }
  child.stdout?.destroy();
  child.stderr?.destroy();
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () => (pending ??= fn());
}
