// Bundles the portable suite (tests/*_test.ts) with esbuild into one ES module for workerd or
// Chromium. `node:test` is replaced by the runner beside this file; any other `node:` import is
// an error, because the portable suite must not need Node. `@std/assert` comes from
// node_modules/@std, laid out by scripts/_std.ts.
import * as esbuild from "esbuild";
import { basename, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { readdirSync, readFileSync } from "node:fs";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));
const HERE = fileURLToPath(new URL("./", import.meta.url));

/** The portable suite: every `tests/*_test.ts` (not `tests/host/`), sorted. */
export function portableTestFiles(): string[] {
  return readdirSync(join(ROOT, "tests"))
    .filter((name) => name.endsWith("_test.ts"))
    .sort()
    .map((name) => join(ROOT, "tests", name));
}

const shims: esbuild.Plugin = {
  name: "conformance-shims",
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => {
      if (args.path === "node:test") return { path: join(HERE, "node_test.ts") };
      return {
        errors: [{
          text: `${relative(ROOT, args.importer)} imports ${args.path}, which workerd and browsers do not have; ` +
            `portable tests may import only node:test (move host tests to tests/host/)`,
        }],
      };
    });
    // Tag each test file's tests with its name, for the report.
    build.onLoad({ filter: /([\\/]tests[\\/][^\\/]+_test|[\\/]conformance[\\/]runtime_checks)\.ts$/ }, (args) => ({
      contents: `import { enterFile as __enterFile } from "node:test";\n__enterFile(${
        JSON.stringify(basename(args.path))
      });\n${readFileSync(args.path, "utf8")}`,
      loader: "ts",
    }));
  },
};

/** Builds the suite for `target`: the test files, the runtime checks, then the target's entry. */
export async function bundleSuite(target: "workerd" | "chromium"): Promise<string> {
  const imports = [...portableTestFiles(), join(HERE, "runtime_checks.ts")].map((file) =>
    `import ${JSON.stringify(file)};`
  );
  const entry = target === "workerd"
    ? `${imports.join("\n")}\nexport { default } from ${JSON.stringify(join(HERE, "worker.ts"))};\n`
    : `${imports.join("\n")}\nimport ${JSON.stringify(join(HERE, "browser.ts"))};\n`;
  return await bundleEntry(entry, target);
}

/** Bundles one module (given as source text) for `target` and returns the JavaScript. */
export async function bundleEntry(contents: string, target: "workerd" | "chromium"): Promise<string> {
  const result = await esbuild.build({
    stdin: { contents, resolveDir: ROOT, sourcefile: `${target}-entry.ts`, loader: "ts" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    conditions: target === "workerd" ? ["workerd", "worker", "browser"] : ["browser"],
    target: "es2022",
    plugins: [shims],
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

/** Releases esbuild's service process so the runner can exit. */
export async function stopBundler(): Promise<void> {
  await esbuild.stop();
}
