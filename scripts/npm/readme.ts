// Runs every TypeScript example of the npm README (npm/README.md, as the package ships it) the
// way a user copies it: as a file of a fresh `"type": "module"` project that has installed the
// packed tarball, under Node 22's type stripping and in Bun (the test command's "npm readme"
// step, after "npm checks" packed the package). No SMILE_* variable is set, so an example that
// serves or needs credentials does nothing. Each example in each runtime is one test; each must
// exit 0 within EXAMPLE_TIMEOUT_MS (they take well under a second; the bound only ends a hang).
//
//   deno run -A --import-map=scripts/dev_imports.json scripts/npm/readme.ts
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { BUN, NODE22 } from "../_toolchain.ts";
import { capture } from "../_run.ts";
import { NPM, PACKAGE } from "./build.ts";
import { SUITE } from "./check.ts";
import { markdownExamples } from "./markdown.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PROJECT = join(ROOT, "dist", "npm-readme");
const EXAMPLE_TIMEOUT_MS = 60_000;

/** The environment without SMILE_* variables, as on a machine where none is set. */
function bareEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(Deno.env.toObject()).filter(([name]) => !name.startsWith("SMILE_")));
}

/** Runs `cmd` in the project with a bare environment; resolves how it ended and what it printed. */
async function runExample(cmd: string[]): Promise<{ ok: boolean; ms: number; output: string }> {
  const started = performance.now();
  const child = new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    cwd: PROJECT,
    clearEnv: true,
    env: bareEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), EXAMPLE_TIMEOUT_MS);
  const { success, stdout, stderr, signal } = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  const killed = signal === "SIGKILL" ? `\n(killed after ${EXAMPLE_TIMEOUT_MS} ms)` : "";
  return {
    ok: success,
    ms: performance.now() - started,
    output: decoder.decode(stdout) + decoder.decode(stderr) + killed,
  };
}

const tarballs = [...Deno.readDirSync(SUITE)].filter((entry) => entry.name.endsWith(".tgz")).map((entry) => entry.name);
if (tarballs.length !== 1) {
  console.log(`npm readme: expected one packed tarball in ${relative(ROOT, SUITE)}/ (run the npm checks first)`);
  console.log("npm readme: 0 passed, 1 failed");
  Deno.exit(1);
}
await Deno.remove(PROJECT, { recursive: true }).catch(() => {});
const installed = join(PROJECT, "node_modules", PACKAGE);
await Deno.mkdir(installed, { recursive: true });
await Deno.writeTextFile(
  join(PROJECT, "package.json"),
  JSON.stringify({ name: "readme-examples", private: true, type: "module" }, null, 2) + "\n",
);
const untar = await capture(["tar", "-xzf", join(SUITE, tarballs[0]!), "-C", installed, "--strip-components=1"]);
if (!untar.success) throw new Error(`could not unpack the tarball: ${untar.output}`);

const examples = markdownExamples(await Deno.readTextFile(join(NPM, "README.md")));
let passed = 0;
let failed = 0;
for (const [index, code] of examples.entries()) {
  const file = `example-${String(index + 1).padStart(2, "0")}.ts`;
  await Deno.writeTextFile(join(PROJECT, file), code + "\n");
  const firstLine = code.split("\n").find((line) => line.trim() !== "" && !line.startsWith("import")) ?? "";
  for (const [runtime, cmd] of [["node22", [NODE22, file]], ["bun", [BUN, file]]] as const) {
    const result = await runExample([...cmd]);
    const name = `README example ${index + 1} (${file}) in ${runtime}`;
    if (result.ok) {
      passed++;
      console.log(`ok ${name} (${Math.round(result.ms)} ms)`);
    } else {
      failed++;
      console.log(`FAIL ${name}: ${firstLine.trim()}\n${result.output.trimEnd().replace(/^/gm, "    ")}`);
    }
  }
}
console.log(`npm readme: ${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 && passed > 0 ? 0 : 1);
