// Child processes of the runtime running the test (Deno, Node or Bun), spoken to in JSON lines:
// each line the child prints on stdout is one message; the parent writes lines to its stdin.
// Used by the store tests' two-process proofs (tests/host/_guard_child.ts is the child).

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** One message a child printed. */
export type Message = Record<string, unknown>;

/** A running child. */
export interface Child {
  /** The next message, or a rejection when the child exits first or `timeoutMs` passes. */
  next(timeoutMs?: number): Promise<Message>;
  /** Writes one line to the child's stdin. */
  send(line: string): void;
  /** Closes stdin (the child's cue to stop), waits up to `graceMs` (default 5 s) for it to exit, then kills it. */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * A minimal environment for a child that must not inherit the caller's (a CLI run with only
 * the variables a test sets): PATH and HOME, plus what Deno needs to start at all here (the
 * JSR registry and Deno's cache, the CA settings).
 */
export function bareEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
  for (const name of ["JSR_URL", "DENO_DIR", "DENO_TLS_CA_STORE", "NODE_EXTRA_CA_CERTS"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

const DEV_IMPORT_MAP = fileURLToPath(new URL("../../scripts/dev_imports.json", import.meta.url));

/**
 * The command that runs `script` with this runtime: Deno with every permission, Deno KV and
 * the development import map (which the Redis clients come from); Node and Bun as they run.
 */
export function runtimeCommand(script: string, args: readonly string[]): [string, string[]] {
  if ("Deno" in globalThis) {
    return [process.execPath, ["run", "-A", "--unstable-kv", `--import-map=${DEV_IMPORT_MAP}`, script, ...args]];
  }
  // Node: keep loader flags (--import, --conditions, …) but not the test runner's own.
  const execArgv = "Bun" in globalThis ? [] : process.execArgv.filter((arg) => !arg.startsWith("--test"));
  return [process.execPath, [...execArgv, script, ...args]];
}

/** A child process whose output is collected as text while it runs. */
export interface CapturedChild {
  /** The process (its stdin is a pipe when asked for). */
  readonly child: ChildProcess;
  /** Resolves when it has exited and its output is read: its exit code, or the signal that ended it. */
  readonly exited: Promise<number | string>;
  /** Everything it printed on stdout so far. */
  stdout(): string;
  /** Everything it printed on stderr so far. */
  stderr(): string;
}

/**
 * Starts `command` with `args`, collecting stdout and stderr as UTF-8 text. `exited` rejects when
 * the program cannot be started; after `timeoutMs` (if given) the child is killed.
 */
export function spawnCapture(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; stdin?: "pipe" | "ignore"; timeoutMs?: number } =
    {},
): CapturedChild {
  const child = spawn(command, args, {
    stdio: [options.stdin ?? "ignore", "pipe", "pipe"],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill(), options.timeoutMs);
  const exited = new Promise<number | string>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve(code ?? signal!));
  }).finally(() => clearTimeout(timer));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Starts `tests/host/<name>` with this runtime and `args`. */
export function startChild(name: string, args: readonly string[]): Child {
  const script = fileURLToPath(new URL(`./${name}`, import.meta.url));
  const [command, argv] = runtimeCommand(script, args);
  const child: ChildProcess = spawn(command, argv, {
    stdio: ["pipe", "pipe", "pipe"],
    cwd: fileURLToPath(new URL("../../", import.meta.url)),
    env: { ...process.env, NO_COLOR: "1" },
  });
  const messages: Message[] = [];
  const waiters: Array<() => void> = [];
  let stderr = "";
  let buffered = "";
  let exitCode: number | null | undefined;
  const wake = () => waiters.splice(0).forEach((resolve) => resolve());
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf("\n")) !== -1) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (!line.startsWith("{")) continue;
      try {
        messages.push(JSON.parse(line));
      } catch {
        stderr += `(unparsable stdout line) ${line}\n`;
      }
    }
    wake();
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => (stderr += chunk));
  child.stdin!.on("error", () => {});
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      exitCode = code;
      wake();
      resolve(code);
    });
    child.once("error", (error) => {
      stderr += String(error);
      exitCode = null;
      wake();
      resolve(null);
    });
  });

  return {
    async next(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const message = messages.shift();
        if (message !== undefined) {
          if (typeof message.error === "string") throw new Error(`${name} failed: ${message.error}\n${stderr}`);
          return message;
        }
        if (exitCode !== undefined) throw new Error(`${name} exited (code ${exitCode}) before answering:\n${stderr}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${name} did not answer within ${timeoutMs} ms:\n${stderr}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    send(line) {
      child.stdin!.write(`${line}\n`);
    },
    async stop(graceMs = 5000) {
      if (exitCode === undefined) {
        child.stdin!.end();
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      child.stdout!.destroy();
      child.stderr!.destroy();
      return exitCode ?? null;
    },
  };
}
