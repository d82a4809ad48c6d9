// Chooses the JSR registry before any Deno process that resolves `jsr:` imports starts (Deno
// reads JSR_URL once, when it starts), then runs the Deno command given as arguments with it:
//
//   deno run -A scripts/jsr.ts run -A scripts/demo.ts      (what `deno task demo` runs)
//
// In order: JSR_URL already set → use it (a file:// URL must name an existing folder);
// jsr.io resolves → use it; a mirror of JSR laid at ../shared/jsr beside the repository (as on
// this project's machines and in its CI) → use that; otherwise stop with one sentence. This
// is the only file that names the mirror. It imports nothing, so it runs before any registry
// is known.

const ROOT = new URL("../", import.meta.url);
const MIRROR = new URL("../shared/jsr/", ROOT);

function exists(url: URL): boolean {
  try {
    return Deno.statSync(url).isDirectory;
  } catch {
    return false;
  }
}

async function jsrIoResolves(): Promise<boolean> {
  try {
    const addresses = await Deno.resolveDns("jsr.io", "A", { signal: AbortSignal.timeout(3000) });
    return addresses.length > 0;
  } catch {
    return false;
  }
}

/**
 * The JSR registry URL to use, `undefined` for jsr.io itself, or a one-sentence reason why no
 * registry can be used.
 */
export async function chooseJsrRegistry(): Promise<{ url: string | undefined } | { problem: string }> {
  const given = Deno.env.get("JSR_URL");
  if (given) {
    if (given.startsWith("file:") && !exists(new URL(given.endsWith("/") ? given : `${given}/`))) {
      return {
        problem: `JSR_URL is ${given}, which is not a folder: point it at a JSR mirror (file:///path/to/mirror/).`,
      };
    }
    return { url: given };
  }
  if (await jsrIoResolves()) return { url: undefined };
  if (exists(new URL("@std/", MIRROR))) return { url: MIRROR.href };
  return {
    problem: "jsr.io cannot be reached from this machine: set JSR_URL to a JSR mirror " +
      "(JSR_URL=file:///path/to/mirror/, with the trailing slash) and run the command again.",
  };
}

/** Sets JSR_URL for this process and its children, or exits with the one-sentence reason. */
export async function useJsrRegistry(): Promise<void> {
  const choice = await chooseJsrRegistry();
  if ("problem" in choice) {
    console.error(choice.problem);
    Deno.exit(1);
  }
  if (choice.url) Deno.env.set("JSR_URL", choice.url);
}

if (import.meta.main) {
  await useJsrRegistry();
  const child = new Deno.Command(Deno.execPath(), { args: Deno.args, stdin: "inherit" }).spawn();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => child.kill(signal));
  }
  const status = await child.status;
  Deno.exit(status.signal ? 128 + (status.signal === "SIGINT" ? 2 : 15) : status.code);
}
