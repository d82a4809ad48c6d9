// Checks the npm package that scripts/npm/build.ts made, with the programs of scripts/toolchain
// (the test command's "npm checks" step): publint --strict and @arethetypeswrong/cli, `npm
// pack` into dist/npm-suite/ (the tests use the tarball's files, so a file missing from it
// fails them), a Node-only TypeScript project type-checked against it with @types/node 22 and
// 24, and the portable suite compiled against it twice, as ES modules (import) and as CommonJS
// (require), for the "node22 npm import" … "node24 npm require" steps to run.
//
//   deno run -A --import-map=scripts/dev_imports.json scripts/npm/check.ts
import * as esbuild from "esbuild";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ATTW, NODE_TYPES_BY_MAJOR, PUBLINT, TSC } from "../_toolchain.ts";
import { type Captured, runOrThrow } from "../_run.ts";
import { ENTRIES, NPM, npmSpecifier, PACKAGE } from "./build.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Where the suite against the built package is prepared. */
export const SUITE: string = join(ROOT, "dist", "npm-suite");

/** Runs a command in the repository (or `cwd`), printing its output unless `quiet`; throws if it fails. */
async function run(cmd: string[], options: { cwd?: string; quiet?: boolean } = {}): Promise<Captured> {
  const result = await runOrThrow(cmd, { cwd: options.cwd ?? ROOT });
  if (!options.quiet && result.output.trim() !== "") console.log(result.output.trimEnd());
  return result;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2) + "\n");
}

/** publint --strict and @arethetypeswrong/cli (ESM-only profile: CommonJS resolution is not offered) on the packed package. */
async function lint(): Promise<void> {
  await run(["node", PUBLINT, "--strict", NPM]);
  await run(["node", ATTW, "--pack", NPM, "--format", "table", "--profile", "esm-only"]);
}

/**
 * Type-checks a throwaway Node-only TypeScript project against the installed package: no DOM
 * library (`lib: ["es2022"]`, `types: ["node"]`), `skipLibCheck: false`, no dependency but the
 * package, once with each tested @types/node. It imports every entry point, as an ES module and
 * from a CommonJS file, and makes a few typed uses.
 */
async function checkNodeTypes(installed: string): Promise<void> {
  const subpaths = ENTRIES.map((entry) => npmSpecifier(entry));
  const esm = [
    'import { webcrypto } from "node:crypto";',
    'import { createServer } from "node:http";',
    ...subpaths.map((specifier, i) => `import * as entry${i} from ${JSON.stringify(specifier)};`),
    `import { createSigner, SmileIdError, verifySignature, type SignerCredentials } from "${PACKAGE}";`,
    `import { toNodeHandler } from "${PACKAGE}/node";`,
    "",
    `export const entries = [${subpaths.map((_, i) => `entry${i}`).join(", ")}];`,
    "const key: webcrypto.CryptoKey = await crypto.subtle.importKey(",
    '  "raw", new TextEncoder().encode("key"), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"],',
    ");",
    'const credentials: SignerCredentials = { partnerId: "085", apiKey: key };',
    "const signed = await createSigner(credentials).sign();",
    "const ok: boolean = await verifySignature({ ...credentials, ...signed });",
    'const error: Error = new SmileIdError("http", "Smile ID answered 503");',
    "export const server = createServer(toNodeHandler(() => new Response(String(ok))));",
    "export { error };",
    "",
  ].join("\n");
  const cjs = [
    `import core = require("${PACKAGE}");`,
    `import type { JobStatus } from "${PACKAGE}";`,
    "export const isError = (value: unknown): value is InstanceType<typeof core.SmileIdError> =>",
    "  value instanceof core.SmileIdError;",
    'export type Status = JobStatus["jobComplete"];',
    "",
  ].join("\n");
  for (const [major, types] of Object.entries(NODE_TYPES_BY_MAJOR)) {
    const project = join(ROOT, "dist", "npm-types", `node${major}`);
    await Deno.remove(project, { recursive: true }).catch(() => {});
    await Deno.mkdir(join(project, "node_modules", "@types"), { recursive: true });
    await Deno.symlink(installed, join(project, "node_modules", PACKAGE));
    await Deno.symlink(types, join(project, "node_modules", "@types", "node"));
    await writeJson(join(project, "package.json"), { private: true, type: "module" });
    await writeJson(join(project, "tsconfig.json"), {
      compilerOptions: {
        target: "es2022",
        lib: ["es2022"],
        types: ["node"],
        module: "nodenext",
        moduleResolution: "nodenext",
        strict: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: false,
        noEmit: true,
      },
      files: ["index.ts", "require.cts"],
    });
    await Deno.writeTextFile(join(project, "index.ts"), esm);
    await Deno.writeTextFile(join(project, "require.cts"), cjs);
    try {
      await run(["node", TSC, "-p", project], { quiet: true });
    } catch (error) {
      throw new Error(
        `The package's types do not compile in a Node-only project with @types/node ${major} (dist/npm-types/node${major}): ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
    console.log(`types: a Node-only TypeScript project with @types/node ${major} compiles against the package`);
  }
}

/**
 * Plugin: the suite's imports of the entry points (../mod.ts, ../src/testing/mod.ts, …) go to the
 * installed package. The few internal modules a test imports (pure helpers such as
 * `decodeDigest`, the `VERSION` constant) are not in the package as modules of their own, so
 * they are compiled into the test from the sources.
 */
function toPackage(): esbuild.Plugin {
  return {
    name: "to-package",
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.kind === "entry-point") return undefined;
        const rel = relative(ROOT, resolve(args.resolveDir, args.path)).replaceAll("\\", "/");
        const entry = ENTRIES.find((e) => e.source === rel);
        if (!entry) return undefined;
        return { path: npmSpecifier(entry), external: true };
      });
    },
  };
}

/** The entry-point checks (scripts/npm/entries.ts), wired to `import` and `require()`, as a test file. */
function entriesTest(format: "esm" | "cjs"): string {
  const subpaths = ENTRIES.map((entry) => entry.subpath);
  const loaders = format === "esm"
    ? `import { createRequire } from "node:module";
const requireEntry = createRequire(import.meta.url);
`
    : `const requireEntry = require;
`;
  return `import { registerEntryTests } from "./scripts/npm/entries.ts";
${loaders}
registerEntryTests({
  name: ${JSON.stringify(PACKAGE)},
  subpaths: ${JSON.stringify(subpaths)},
  importEntry: (specifier) => import(specifier),
  requireEntry: (specifier) => requireEntry(specifier),
});
`;
}

/** Checks of the CLI entry (`./cli` through the exports map) and of the installed bin, as a test file. */
function cliTest(format: "esm" | "cjs"): string {
  const header = format === "esm"
    ? `import { fileURLToPath } from "node:url";
const here = fileURLToPath(new URL(".", import.meta.url));
const loadCli = () => import("${PACKAGE}/cli");
`
    : `const here = __dirname;
const loadCli = async () => require("${PACKAGE}/cli"); // Node's require(esm): the package is ESM-only
`;
  return `import { test } from "node:test";
import { assert, assertStrictEquals } from "@std/assert";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
${header}
test("${PACKAGE}/cli exports main()", async () => {
  const cli = await loadCli();
  assertStrictEquals(typeof cli.main, "function");
});

test("the ${PACKAGE} bin runs and prints the package version", () => {
  const root = here + "/../node_modules/${PACKAGE}";
  const manifest = JSON.parse(readFileSync(root + "/package.json", "utf8"));
  const out = execFileSync(process.execPath, [root + "/" + manifest.bin["${PACKAGE}"], "--version"], { encoding: "utf8" });
  assert(out.includes(manifest.version), "expected " + manifest.version + " in " + JSON.stringify(out));
});
`;
}

/** Packs npm/, installs the tarball into dist/npm-suite and compiles the suite against it; returns the installed package's folder. */
async function prepareSuite(): Promise<string> {
  await Deno.remove(SUITE, { recursive: true }).catch(() => {});
  const modules = join(SUITE, "node_modules");
  const installed = join(modules, PACKAGE);
  await Deno.mkdir(installed, { recursive: true });
  // The tarball is what npm would publish; unpacking it (rather than linking npm/) proves every
  // file the tests need is in it.
  const packed = (await run(["npm", "pack", "--silent", "--pack-destination", SUITE], { cwd: NPM, quiet: true }))
    .stdout.trim().split("\n").at(-1)!;
  await run(["tar", "-xzf", join(SUITE, packed), "-C", installed, "--strip-components=1"]);
  // No dependency is installed beside it: the package has none.

  const tests = [...Deno.readDirSync(join(ROOT, "tests"))]
    .filter((entry) => entry.isFile && entry.name.endsWith("_test.ts"))
    .map((entry) => join(ROOT, "tests", entry.name))
    .sort();
  for (const format of ["esm", "cjs"] as const) {
    const outDir = join(SUITE, format);
    await Deno.mkdir(outDir, { recursive: true });
    const extension = format === "esm" ? ".test.mjs" : ".test.cjs";
    for (const file of tests) {
      await esbuild.build({
        entryPoints: [file],
        outfile: join(outDir, basename(file).replace(/_test\.ts$/, extension)),
        bundle: true,
        format,
        platform: "node",
        target: "node22",
        plugins: [toPackage()],
        // The tests are ES modules, so strict mode code; keep them so as CommonJS.
        ...(format === "cjs" ? { banner: { js: '"use strict";' } } : {}),
        logLevel: "error",
      });
    }
    for (const [name, contents] of [["cli", cliTest(format)], ["entries", entriesTest(format)]]) {
      await esbuild.build({
        stdin: { contents: contents!, resolveDir: ROOT, sourcefile: `${name}${extension}.ts`, loader: "ts" },
        outfile: join(outDir, `${name}${extension}`),
        bundle: true,
        format,
        platform: "node",
        target: "node22",
        external: [PACKAGE, `${PACKAGE}/*`],
        ...(format === "cjs" ? { banner: { js: '"use strict";' } } : {}),
        logLevel: "error",
      });
    }
  }
  await esbuild.stop();
  return installed;
}

/** Node versions × module systems the built package is tested through: one runner step each. */
export const PACKAGE_RUNS: readonly { readonly node: "node22" | "node24"; readonly format: "import" | "require" }[] = (
  ["node22", "node24"] as const
).flatMap((node) => (["import", "require"] as const).map((format) => ({ node, format })));

/** The command that runs the suite against the built package on `node` through `format`. */
export function packageSuiteCommand(node: string, format: "import" | "require"): string[] {
  const dir = join(SUITE, format === "import" ? "esm" : "cjs");
  const files = [...Deno.readDirSync(dir)]
    .map((entry) => join(dir, entry.name))
    .filter((path) => /\.test\.[cm]js$/.test(path))
    .sort();
  if (files.length === 0) {
    throw new Error(`no compiled tests in ${dir}; run the npm checks (scripts/npm/check.ts) first`);
  }
  return [node, "--test", "--test-reporter=tap", ...files];
}

if (import.meta.main) {
  try {
    await lint();
    const installed = await prepareSuite();
    await checkNodeTypes(installed);
    console.log(`prepared the suite against the packed package in ${relative(ROOT, SUITE)}/`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(1);
  }
}
