// Running a program to its end and keeping what it printed: how every script here starts the
// programs it needs (Deno itself, Node, Bun, npm, tsc, apt-get, the package linters).

/** What a program printed, and how it ended. */
export interface Captured {
  /** The exit code (128 plus the signal's number when a signal ended it). */
  readonly code: number;
  /** Whether it exited with code 0. */
  readonly success: boolean;
  /** Its standard output, as UTF-8 text. */
  readonly stdout: string;
  /** Its standard error, as UTF-8 text. */
  readonly stderr: string;
  /** Both, interleaved in the order they arrived: what a terminal would have shown. */
  readonly output: string;
  /** Whether `timeoutMs` passed and the program was killed. */
  readonly timedOut: boolean;
}

/** Where and how {@linkcode capture} runs a program. */
export interface CaptureOptions {
  /** The working directory (default: this process's). */
  readonly cwd?: string;
  /** Variables added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Kills the program (SIGKILL) after this many milliseconds (default: never). */
  readonly timeoutMs?: number;
}

/**
 * Runs `cmd` (the program, then its arguments) with no standard input, and resolves once it
 * has exited and both of its output streams are read. Rejects only when the program cannot be
 * started at all (not found, not executable).
 */
export async function capture(cmd: readonly string[], options: CaptureOptions = {}): Promise<Captured> {
  const child = new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.env === undefined ? {} : { env: { ...options.env } }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const read = async (stream: ReadableStream<Uint8Array>): Promise<string> => {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of stream) {
      const part = decoder.decode(chunk, { stream: true });
      text += part;
      output += part;
    }
    const rest = decoder.decode();
    output += rest;
    return text + rest;
  };
  let timedOut = false;
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs);
  try {
    const [status, stdout, stderr] = await Promise.all([child.status, read(child.stdout), read(child.stderr)]);
    return { code: status.code, success: status.success, stdout, stderr, output, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Like {@linkcode capture}, but rejects with an Error naming the command, its exit code and
 * its output when it does not exit with code 0.
 */
export async function runOrThrow(cmd: readonly string[], options: CaptureOptions = {}): Promise<Captured> {
  const result = await capture(cmd, options);
  if (!result.success) throw new Error(`${cmd.join(" ")} failed (exit ${result.code}):\n${result.output}`);
  return result;
}
