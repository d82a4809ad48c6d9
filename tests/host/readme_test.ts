// The README's examples as a Deno user copies them: each `ts` block is a file of a fresh Deno
// project whose deno.json names the package (linked to this repository, as "Get it" says) and
// `jsr:@std/assert`, run with `deno run`. `deno test --doc README.md` runs them in place; this
// proves they need nothing else. Deno-only (the npm README's copies run in Node and Bun in the
// test command's "npm readme" step).
import { test } from "node:test";
import { assert, assertStrictEquals } from "@std/assert";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { markdownExamples } from "../../scripts/npm/markdown.ts";
import { bareEnv, spawnCapture } from "./_children.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const skip = "Deno" in globalThis ? false : "a Deno project's run; Node and Bun run the npm README's copies";

test(
  "every example of the README runs as copied into a fresh Deno project with jsr:@std/assert",
  { skip },
  async () => {
    const config = JSON.parse(await readFile(join(ROOT, "deno.json"), "utf8"));
    const examples = markdownExamples(await readFile(join(ROOT, "README.md"), "utf8"));
    assert(examples.length >= 5, "the README has its examples");
    const project = await mkdtemp(join(tmpdir(), "readme-deno-"));
    try {
      await writeFile(
        join(project, "deno.json"),
        JSON.stringify({
          imports: {
            [config.name]: `jsr:${config.name}@^${config.version}`,
            "@std/assert": config.imports["@std/assert"],
          },
          links: [ROOT],
        }),
      );
      for (const [index, code] of examples.entries()) {
        const file = join(project, `example-${index + 1}.ts`);
        await writeFile(file, code);
        // No SMILE_* variable: the example that serves does nothing, as on a machine without credentials.
        const run = spawnCapture(process.execPath, ["run", "-A", file], {
          cwd: project,
          env: bareEnv({ NO_COLOR: "1" }),
        });
        assertStrictEquals(await run.exited, 0, `example ${index + 1}:\n${code}\n${run.stdout()}${run.stderr()}`);
      }
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  },
);
