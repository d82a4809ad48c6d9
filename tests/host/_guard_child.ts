// One instance of an application for the two-process proofs: its own store client, its own
// replay guard and (in "serve" mode) its own callback handler. Started by _children.ts with the
// runtime that runs the test; speaks JSON lines (see _children.ts).
//
//   _guard_child.ts '<json config>'
//
// config.store: "node-redis" | "ioredis" (config.url, config.port) or "deno-kv" (config.path).
// config.mode:
//   "begins": prints {ready}, waits for "go" on stdin, makes config.begins concurrent begins
//             spread over config.keys keys (in reverse key order with config.reverse), prints
//             {wins: {key: number claimed}}, exits.
//   "serve":  serves createCallbackHandler on 127.0.0.1 (confirming against config.fakeBase),
//             prints {ready, origin}; GET /count answers {count} (onCallback runs); exits when
//             stdin closes.

import process from "node:process";
import type { ReplayGuard } from "../../src/replay_guard.ts";
import { startFetchServer } from "./_fault_server.ts";

interface Config {
  readonly store: "node-redis" | "ioredis" | "deno-kv";
  readonly mode: "begins" | "serve";
  readonly url?: string;
  readonly port?: number;
  readonly path?: string;
  readonly keys?: number;
  readonly begins?: number;
  /** Begin the keys in reverse order, so that two processes meet, and contend, in the middle. */
  readonly reverse?: boolean;
  readonly partnerId?: string;
  readonly apiKey?: string;
  readonly fakeBase?: string;
  /** Milliseconds onCallback takes, so that concurrent deliveries arrive while it runs. */
  readonly workMs?: number;
}

interface Store {
  readonly guard: ReplayGuard;
  close(): Promise<void>;
}

function print(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function openStore(config: Config): Promise<Store> {
  switch (config.store) {
    case "node-redis": {
      const { createClient } = await import("redis");
      const { createRedisReplayGuard } = await import("../../src/redis.ts");
      const client = await createClient({ url: config.url!, disableOfflineQueue: true }).connect();
      return { guard: createRedisReplayGuard(client), close: () => client.close() };
    }
    case "ioredis": {
      const { Redis } = await import("ioredis");
      const { createRedisReplayGuard } = await import("../../src/redis.ts");
      const client = new Redis(config.port!, "127.0.0.1", { maxRetriesPerRequest: 1 });
      await client.ping();
      return {
        guard: createRedisReplayGuard(client),
        close: async () => {
          await client.quit();
        },
      };
    }
    case "deno-kv": {
      const { createKvReplayGuard } = await import("../../src/deno_kv.ts");
      const deno = (globalThis as unknown as {
        Deno: { openKv(path: string): Promise<Parameters<typeof createKvReplayGuard>[0] & { close(): void }> };
      }).Deno;
      const kv = await deno.openKv(config.path!);
      return {
        guard: createKvReplayGuard(kv),
        close: () => Promise.resolve(kv.close()),
      };
    }
  }
}

/** Resolves with the next line written to stdin, or undefined when stdin closes. */
function stdinLines(): () => Promise<string | undefined> {
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let closed = false;
  let buffered = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf("\n")) !== -1) {
      lines.push(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
    waiters.splice(0).forEach((wake) => wake());
  });
  process.stdin.on("end", () => {
    closed = true;
    waiters.splice(0).forEach((wake) => wake());
  });
  return async () => {
    for (;;) {
      if (lines.length > 0) return lines.shift();
      if (closed) return undefined;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
}

async function begins(config: Config, store: Store, nextLine: () => Promise<string | undefined>): Promise<void> {
  const keys = config.keys ?? 10;
  const total = config.begins ?? 100;
  print({ ready: true });
  if ((await nextLine()) !== "go") return;
  const results = await Promise.all(
    Array.from({ length: total }, (_, i) => {
      const key = `proof-${config.reverse ? keys - 1 - (i % keys) : i % keys}`;
      return store.guard.begin(key, 60).then((state) => [key, state.state === "claimed"] as const);
    }),
  );
  const wins: Record<string, number> = {};
  for (const [key, won] of results) wins[key] = (wins[key] ?? 0) + (won ? 1 : 0);
  print({ wins });
}

async function serve(config: Config, store: Store, nextLine: () => Promise<string | undefined>): Promise<void> {
  const { createClient } = await import("../../src/client.ts");
  const { createCallbackHandler } = await import("../../src/handler.ts");
  const client = createClient({ partnerId: config.partnerId!, apiKey: config.apiKey!, server: config.fakeBase! });
  let count = 0;
  const handler = createCallbackHandler({
    client,
    replayGuard: store.guard,
    onCallback: async () => {
      count++;
      await new Promise((resolve) => setTimeout(resolve, config.workMs ?? 50));
    },
  });
  const server = await startFetchServer((request) => {
    if (request.method === "GET" && new URL(request.url).pathname === "/count") {
      return Promise.resolve(Response.json({ count }));
    }
    return handler(request);
  });
  try {
    print({ ready: true, origin: server.origin });
    while ((await nextLine()) !== undefined) {
      // Nothing to do until stdin closes.
    }
  } finally {
    await server.close();
  }
}

const config = JSON.parse(process.argv[process.argv.length - 1]!) as Config;
const nextLine = stdinLines();
let store: Store | undefined;
let failed = false;
try {
  store = await openStore(config);
  if (config.mode === "begins") await begins(config, store, nextLine);
  else await serve(config, store, nextLine);
} catch (error) {
  failed = true;
  print({ error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error) });
} finally {
  await store?.close().catch(() => {});
  process.stdin.destroy();
}
process.exit(failed ? 1 : 0);
