// Builds the npm package into npm/ in the layout dnt (https://jsr.io/@deno/dnt) produces, with
// tsc and esbuild standing in for dnt because JSR cannot be reached from this project's machines.
// The package is ES modules only (Node 20.19 and 22.12 on can require() it):
//
//   npm/esm/**/*.d.ts   declarations in dnt's layout (tsc), std's under deps/jsr.io/@std
//   npm/esm/<entry>.js  each entry point bundled (esbuild), beside its .d.ts; the code entries
//   npm/esm/_chunks/    share lives in chunks, so each module (SmileIdError's too) exists once
//   npm/package.json, README.md, LICENSE, SECURITY.md, BENCHMARKS.md, THIRD_PARTY_LICENSES.md
//
// Then lints the package (publint --strict, @arethetypeswrong/cli with the ESM-only profile),
// type-checks a Node-only TypeScript project against it with each tested @types/node, and
// prepares the test suite against the packed package in dist/npm-suite/: every portable test
// (tests/*_test.ts) compiled once as ESM (import) and once as CommonJS (require), importing
// `smile-id-job-status` instead of ../mod.ts, plus checks of the entry points and of the
// `smile-id-job-status` bin. Unless --no-test is given, runs that suite on Node 20 (the
// machine's `node`), 22 and 24.
//
//   deno task build:npm [version] [--no-test]      (version defaults to deno.json's)
import * as esbuild from "esbuild";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { rewriteImports, stdGraph, usedStdSpecifiers, writeStdSources } from "./_std.ts";
import { ATTW, NODE22, NODE24, NODE_TYPES, NODE_TYPES_BY_MAJOR, PUBLINT, TSC } from "./_toolchain.ts";
import { capture, type Captured, runOrThrow } from "./_run.ts";
import { markdownForNpm, npmMarkdownProblems } from "./_npm_markdown.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const NPM = join(ROOT, "npm");
/** Where the suite against the built package is prepared. */
export const SUITE = join(ROOT, "dist", "npm-suite");
const PACKAGE = "smile-id-job-status";
/** Placeholder until the project has a public repository; confirm before publishing. */
const REPOSITORY = "git+https://github.com/smile-id-kit/job-status.git";
const DESCRIPTION = "Smile ID's v1 job-status utility for every JavaScript runtime: HMAC-SHA256 request signing on " +
  "WebCrypto, verified and typed job-status answers, polling, and callback verification.";
const KEYWORDS = ["smile-id", "smileidentity", "kyc", "job-status", "hmac", "signature", "webcrypto", "callback"];
/**
 * Node versions the package supports: the majors tested here, from the first releases whose
 * require() loads ES modules without a flag (the package has no CommonJS build).
 */
const ENGINES_NODE = "^20.19.0 || >=22.12.0";

/** The Node binaries the built package is tested on (system Node 20, npm-installed 22 and 24). */
export const NODES: readonly { readonly name: string; readonly bin: string }[] = [
  { name: "node20", bin: "node" },
  { name: "node22", bin: NODE22 },
  { name: "node24", bin: NODE24 },
];

/** Entry points, from deno.json's exports: the subpath and its source file. */
const ENTRIES: readonly { readonly subpath: string; readonly source: string }[] = Object.entries(
  JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).exports as Record<string, string>,
).map(([subpath, source]) => ({ subpath, source: source.replace(/^\.\//, "") }));

/** Runs a command in the repository (or `cwd`), printing its output unless `quiet`; throws if it fails. */
async function run(cmd: string[], options: { cwd?: string; quiet?: boolean } = {}): Promise<Captured> {
  const result = await runOrThrow(cmd, { cwd: options.cwd ?? ROOT });
  if (!options.quiet && result.output.trim() !== "") console.log(result.output.trimEnd());
  return result;
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(path)) as T;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2) + "\n");
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else yield path;
  }
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(join(from, entry.name), join(to, entry.name));
    else await Deno.copyFile(join(from, entry.name), join(to, entry.name));
  }
}

/** The version to build: the first argument (a semver, "v" prefix allowed) or deno.json's. */
async function resolveVersion(args: readonly string[]): Promise<string> {
  const given = args.find((arg) => !arg.startsWith("--"));
  const version = given?.replace(/^v/, "") ?? (await readJson<{ version: string }>(join(ROOT, "deno.json"))).version;
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(version)) {
    throw new Error(`The version must be a semver such as 1.2.3, got ${JSON.stringify(version)}`);
  }
  return version;
}

/**
 * dnt's polyfill module: the package's oldest target, Node 20, lacks ES2024's
 * `ArrayBuffer.prototype.transfer`, which @std/encoding's base64 calls. Installed only where
 * missing, with the standard's behaviour (a copy of the given length; the original detached).
 */
const POLYFILLS = `// Added by the npm build, as dnt adds polyfills for what the oldest target lacks.
if (typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer !== "function") {
  Object.defineProperty(ArrayBuffer.prototype, "transfer", {
    configurable: true,
    writable: true,
    value: function transfer(this: ArrayBuffer, newLength?: number): ArrayBuffer {
      const length = newLength === undefined ? this.byteLength : Math.trunc(Number(newLength));
      const copy = new ArrayBuffer(length);
      new Uint8Array(copy).set(new Uint8Array(this, 0, Math.min(length, this.byteLength)));
      structuredClone(this, { transfer: [this] });
      return copy;
    },
  });
}
export {};
`;

/**
 * Copies the sources to a staging folder with the version written into src/_version.ts, and
 * the std modules they import into deps/jsr.io/ (dnt's layout), the imports rewritten to
 * relative paths; each module that imports std first imports the polyfills.
 */
async function stage(version: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "npm-build-" });
  await Deno.copyFile(join(ROOT, "mod.ts"), join(dir, "mod.ts"));
  await copyTree(join(ROOT, "src"), join(dir, "src"));
  await Deno.symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
  const versionFile = join(dir, "src", "_version.ts");
  const source = await Deno.readTextFile(versionFile);
  const pattern = /export const VERSION = "[^"]*";/;
  if (!pattern.test(source)) throw new Error(`src/_version.ts must contain: export const VERSION = "x.y.z";`);
  await Deno.writeTextFile(versionFile, source.replace(pattern, `export const VERSION = ${JSON.stringify(version)};`));
  const std = await stdGraph(await usedStdSpecifiers(["src"]));
  const deps = join(dir, "deps", "jsr.io");
  await writeStdSources(std, deps);
  await Deno.writeTextFile(join(dir, "_dnt.polyfills.ts"), POLYFILLS);
  for await (const path of walk(dir)) {
    if (!path.endsWith(".ts") || path.includes("/node_modules/") || path.startsWith(deps)) continue;
    const text = await Deno.readTextFile(path);
    const relativeTo = (file: string) => {
      const rel = relative(dirname(path), file).replaceAll("\\", "/");
      return rel.startsWith(".") ? rel : `./${rel}`;
    };
    let fixed = rewriteImports(text, std.entries, (target) => relativeTo(join(deps, target)));
    if (fixed !== text) {
      // After a leading `#!` line, which must stay first.
      const shebang = /^#!.*\n/.exec(fixed)?.[0] ?? "";
      fixed = `${shebang}import "${relativeTo(join(dir, "_dnt.polyfills.ts"))}";\n${fixed.slice(shebang.length)}`;
    }
    // Doc examples import the JSR name; npm users import the npm name.
    fixed = fixed.replaceAll(`from "@smile-id-kit/job-status`, `from "${PACKAGE}`);
    if (fixed !== text) await Deno.writeTextFile(path, fixed);
  }
  return dir;
}

/** The declarations, in dnt's layout under npm/esm/, with tsc (which also type-checks the sources). */
async function declarations(dir: string): Promise<void> {
  const out = join(NPM, "esm");
  const tsconfig = join(dir, "tsconfig.json");
  await writeJson(tsconfig, {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2022", "DOM", "DOM.Iterable"],
      types: ["node"],
      typeRoots: [NODE_TYPES],
      module: "ESNext",
      moduleResolution: "Bundler",
      allowImportingTsExtensions: true,
      rewriteRelativeImportExtensions: true,
      declaration: true,
      emitDeclarationOnly: true,
      rootDir: dir,
      outDir: out,
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
      noFallthroughCasesInSwitch: true,
      skipLibCheck: true,
      newLine: "lf",
    },
    files: ENTRIES.map((entry) => join(dir, entry.source)),
  });
  await run(["node", TSC, "-p", tsconfig]);
  // tsc keeps `.ts` in the declarations' relative imports; TypeScript before 5.0 cannot follow
  // those, so point them at the `.js` names as dnt does.
  for await (const path of walk(out)) {
    if (!path.endsWith(".d.ts")) continue;
    const text = await Deno.readTextFile(path);
    const fixed = text.replace(/((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g, "$1$2.js$3");
    if (fixed !== text) await Deno.writeTextFile(path, fixed);
  }
  await writeJson(join(out, "package.json"), { type: "module" });
}

/** Where an entry's JavaScript goes, relative to npm/esm/ and without extension: beside its .d.ts. */
function entryOut(source: string): string {
  return source.replace(/\.ts$/, "");
}

/** Stands for the polyfill module in esbuild's output until each file's relative path is known. */
const POLYFILLS_MARK = "./__polyfills__.js";

/**
 * Bundles every entry point at once with code splitting, so that what several entries use is one
 * module in one chunk, whichever entry loads it. Each entry other than "." also loads all of ".",
 * so that everything "." reaches (SmileIdError first of all) is one chunk, the core: importing the
 * package reads its facade, the core and the polyfill file, not one chunk per combination of
 * entries. valibot and std are compiled in, so no dependency is read either. The polyfill stays
 * its own file (the one `sideEffects` names), imported by the chunks that need it.
 * Returns the bundled files' sizes, in bytes, by path relative to npm/.
 */
async function bundle(dir: string): Promise<Map<string, number>> {
  const out = join(NPM, "esm");
  const root = ENTRIES.find((entry) => entry.subpath === ".")!;
  const plugin: esbuild.Plugin = {
    name: "package-entries",
    setup(build) {
      build.onResolve({ filter: /_dnt\.polyfills\.ts$/ }, () => ({ path: POLYFILLS_MARK, external: true }));
      // The entry module of a subpath: its source's exports, after loading all of ".".
      build.onResolve(
        { filter: /^entry:/ },
        (args) => ({ path: args.path.slice("entry:".length), namespace: "entry" }),
      );
      build.onLoad({ filter: /.*/, namespace: "entry" }, async (args) => {
        // The source's `#!` line (the bin's) must open the entry file.
        const shebang = /^#!.*\n/.exec(await Deno.readTextFile(join(dir, args.path)))?.[0] ?? "";
        const contents = `${shebang}import ${JSON.stringify(`./${root.source}`)};\n` +
          `export * from ${JSON.stringify(`./${args.path}`)};\n`;
        return { contents, resolveDir: dir, loader: "ts" };
      });
    },
  };
  const result = await esbuild.build({
    entryPoints: Object.fromEntries(ENTRIES.map((entry) => [
      entryOut(entry.source),
      entry === root ? join(dir, entry.source) : `entry:${entry.source}`,
    ])),
    outdir: out,
    chunkNames: "_chunks/[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    // Runtime-neutral output (browser bundlers consume the package too); Node's built-ins,
    // imported only by the Node-specific entries, stay imports.
    platform: "neutral",
    mainFields: ["module", "main"],
    external: ["node:*"],
    target: "es2022",
    plugins: [plugin],
    metafile: true,
    logLevel: "error",
  });
  const sizes = new Map<string, number>();
  for (const file of Object.keys(result.metafile.outputs)) {
    const path = resolve(ROOT, file);
    const text = await Deno.readTextFile(path);
    const rel = relative(dirname(path), join(out, "_dnt.polyfills.js")).replaceAll("\\", "/");
    // Every module that imports std imported the polyfills: keep the first import, pointed at the file.
    const mark = `import ${JSON.stringify(POLYFILLS_MARK)};\n`;
    const [head, ...rest] = text.split(mark);
    const fixed = rest.length === 0
      ? text
      : `${head}import ${JSON.stringify(rel.startsWith(".") ? rel : `./${rel}`)};\n${rest.join("")}`;
    if (fixed.includes(POLYFILLS_MARK)) throw new Error(`${path}: the polyfill import is not on a line of its own`);
    if (fixed !== text) await Deno.writeTextFile(path, fixed);
    sizes.set(relative(NPM, path), new TextEncoder().encode(fixed).byteLength);
  }
  const polyfills = await esbuild.transform(POLYFILLS, { loader: "ts", format: "esm", target: "es2022" });
  await Deno.writeTextFile(join(out, "_dnt.polyfills.js"), polyfills.code);
  // One SmileIdError, whichever entry a program reaches: its module is in exactly one output, the
  // core, which every entry loads and which must stay portable (browsers and workerd load it).
  const holders = Object.entries(result.metafile.outputs)
    .filter(([, output]) => Object.keys(output.inputs).some((input) => input.endsWith("src/errors.ts")));
  const [[coreFile, core] = [], ...more] = holders;
  const name = (file: string) => relative(NPM, resolve(ROOT, file));
  if (!core || more.length > 0) {
    throw new Error(`src/errors.ts must be bundled into one file, found in: ${holders.map(([file]) => name(file))}`);
  }
  const hostImports = core.imports.map((imported) => imported.path).filter((path) => path.startsWith("node:"));
  if (hostImports.length > 0) {
    throw new Error(`The core chunk ${name(coreFile!)} must stay portable, imports ${hostImports}`);
  }
  await Deno.writeTextFile(join(NPM, "THIRD_PARTY_LICENSES.md"), await thirdPartyNotices(result.metafile));
  return sizes;
}

/** The notices of the code compiled into the bundles from other projects (valibot, std), as their MIT licenses ask. */
async function thirdPartyNotices(metafile: esbuild.Metafile): Promise<string> {
  const inputs = Object.keys(metafile.inputs);
  const stdPackage = (input: string) => /deps\/jsr\.io\/(@std\/[^/]+\/[^/]+)\//.exec(input)?.[1] ?? [];
  const std = [...new Set(inputs.flatMap(stdPackage))].sort();
  const parts = [
    "# Third-party code in this package\n",
    "The JavaScript under `esm/` includes code from the packages below, under their licenses.\n",
  ];
  if (inputs.some((input) => input.includes("node_modules/valibot/"))) {
    const valibot = await Deno.realPath(join(ROOT, "node_modules/valibot"));
    const { version } = await readJson<{ version: string }>(join(valibot, "package.json"));
    parts.push(`## valibot ${version}\n`, (await Deno.readTextFile(join(valibot, "LICENSE.md"))).trim() + "\n");
  }
  if (std.length > 0) {
    const mit = (await Deno.readTextFile(join(ROOT, "LICENSE"))).split("\n").slice(3).join("\n").trim();
    parts.push(
      `## The Deno standard library: ${std.map((name) => name.replace(/\/([^/]+)$/, "@$1")).join(", ")}\n`,
      `MIT License\n\nCopyright 2018-2026 the Deno authors\n\n${mit}\n`,
    );
  }
  return parts.join("\n");
}

/** npm/package.json. */
async function writeManifest(version: string): Promise<void> {
  const exports: Record<string, unknown> = {};
  for (const entry of ENTRIES) {
    const file = `./esm/${entryOut(entry.source)}`;
    exports[entry.subpath] = { types: `${file}.d.ts`, default: `${file}.js` };
  }
  exports["./package.json"] = "./package.json";
  const cli = ENTRIES.find((entry) => entry.subpath === "./cli")!;
  await writeJson(join(NPM, "package.json"), {
    name: PACKAGE,
    version,
    description: DESCRIPTION,
    license: "MIT",
    repository: { type: "git", url: REPOSITORY },
    keywords: KEYWORDS,
    type: "module",
    main: "./esm/mod.js",
    types: "./esm/mod.d.ts",
    exports,
    // Node10 resolution (TypeScript's old `moduleResolution: node`) ignores `exports`; this
    // sends it to the subpaths' declarations.
    typesVersions: {
      "*": Object.fromEntries(
        ENTRIES.filter((entry) => entry.subpath !== ".").map((entry) => [
          entry.subpath.slice(2),
          [`./esm/${entryOut(entry.source)}.d.ts`],
        ]),
      ),
    },
    bin: { [PACKAGE]: `./esm/${entryOut(cli.source)}.js` },
    sideEffects: ["./esm/_dnt.polyfills.js"],
    engines: { node: ENGINES_NODE },
  });
  // The README links SECURITY.md and BENCHMARKS.md, so they ship beside it (as on JSR), each
  // rewritten for npm: the examples import `smile-id-job-status…`, relative links go to the repository.
  await Deno.copyFile(join(ROOT, "LICENSE"), join(NPM, "LICENSE"));
  const jsrName = (await readJson<{ name: string }>(join(ROOT, "deno.json"))).name;
  const repository = REPOSITORY.replace(/^git\+/, "").replace(/\.git$/, "");
  for (const file of ["README.md", "SECURITY.md", "BENCHMARKS.md"]) {
    const text = markdownForNpm(await Deno.readTextFile(join(ROOT, file)), { jsrName, npmName: PACKAGE, repository });
    const problems = npmMarkdownProblems(text, jsrName);
    if (problems.length > 0) throw new Error(`npm/${file} would not work on npm: ${problems.join("; ")}`);
    await Deno.writeTextFile(join(NPM, file), text);
  }
  await Deno.chmod(join(NPM, `esm/${entryOut(cli.source)}.js`), 0o755);
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
  const subpaths = ENTRIES.map((entry) => entry.subpath === "." ? PACKAGE : `${PACKAGE}/${entry.subpath.slice(2)}`);
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
        return { path: entry.subpath === "." ? PACKAGE : `${PACKAGE}/${entry.subpath.slice(2)}`, external: true };
      });
    },
  };
}

/** The entry-point checks (scripts/_conformance/npm_entries.ts), wired to `import` and `require()`, as a test file. */
function entriesTest(format: "esm" | "cjs"): string {
  const subpaths = ENTRIES.map((entry) => entry.subpath);
  const loaders = format === "esm"
    ? `import { createRequire } from "node:module";
const requireEntry = createRequire(import.meta.url);
`
    : `const requireEntry = require;
`;
  return `import { registerEntryTests } from "./scripts/_conformance/npm_entries.ts";
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
      // A test that imports std itself (not through the package) or an internal module compiles
      // std code of its own, which on Node 20 needs the package's polyfill too.
      const imports = [...(await Deno.readTextFile(file)).matchAll(/from "([^"]+)"/g)].map((match) => match[1]!);
      const ownStd = imports.some((specifier) =>
        (specifier.startsWith("@std/") && !specifier.startsWith("@std/assert")) ||
        (specifier.startsWith("../src/") && !ENTRIES.some((entry) => `../${entry.source}` === specifier))
      );
      await esbuild.build({
        entryPoints: [file],
        inject: ownStd ? [join(installed, "esm", "_dnt.polyfills.js")] : [],
        outfile: join(outDir, basename(file).replace(/_test\.ts$/, extension)),
        bundle: true,
        format,
        platform: "node",
        target: "node20",
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
        target: "node20",
        external: [PACKAGE, `${PACKAGE}/*`],
        ...(format === "cjs" ? { banner: { js: '"use strict";' } } : {}),
        logLevel: "error",
      });
    }
  }
  await esbuild.stop();
  return installed;
}

/** Module systems the built package is tested through. */
export const FORMATS = ["import", "require"] as const;

/** The command that runs the suite against the built package on `node` through `format`. */
export function packageSuiteCommand(node: string, format: typeof FORMATS[number]): string[] {
  const dir = join(SUITE, format === "import" ? "esm" : "cjs");
  const files = [...Deno.readDirSync(dir)]
    .map((entry) => join(dir, entry.name))
    .filter((path) => /\.test\.[cm]js$/.test(path))
    .sort();
  if (files.length === 0) throw new Error(`no compiled tests in ${dir}; run scripts/build_npm.ts first`);
  return [node, "--test", "--test-reporter=tap", ...files];
}

/** Builds, lints and prepares the suite; returns the version built. */
export async function buildNpm(args: readonly string[]): Promise<string> {
  const version = await resolveVersion(args);
  await Deno.remove(NPM, { recursive: true }).catch(() => {});
  const dir = await stage(version);
  let sizes: Map<string, number>;
  try {
    await declarations(dir);
    sizes = await bundle(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await writeManifest(version);
  console.log(`built ${PACKAGE}@${version} into ${relative(Deno.cwd(), NPM) || "npm"}/`);
  for (const [path, bytes] of [...sizes].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`  ${path.padEnd(40)} ${String(bytes).padStart(7)} B`);
  }
  await lint();
  const installed = await prepareSuite();
  await checkNodeTypes(installed);
  console.log(`prepared the suite against the packed package in ${relative(Deno.cwd(), SUITE)}/`);
  return version;
}

if (import.meta.main) {
  // `deno task` puts node_modules/.bin (whose `node` is Node 22 or 24) first on PATH; "node20"
  // must be the machine's own node.
  Deno.env.set(
    "PATH",
    (Deno.env.get("PATH") ?? "").split(":").filter((dir) => !dir.includes("node_modules/.bin")).join(":"),
  );
  let failed = 0;
  let passed = 0;
  try {
    await buildNpm(Deno.args);
    passed++;
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    console.log("npm build: 0 passed, 1 failed");
    Deno.exit(1);
  }
  if (!Deno.args.includes("--no-test")) {
    const runs = NODES.flatMap((node) =>
      FORMATS.map((format) => ({ name: `${node.name} npm ${format}`, cmd: packageSuiteCommand(node.bin, format) }))
    );
    for (const { name, cmd } of runs) {
      const result = await capture(cmd);
      const text = result.output;
      const pass = Number(/^# pass (\d+)$/m.exec(text)?.[1] ?? 0);
      const fail = Number(/^# fail (\d+)$/m.exec(text)?.[1] ?? 0) + (result.success ? 0 : pass === 0 ? 1 : 0);
      if (!result.success) console.log(text.split("\n").filter((line) => /^not ok|^#|error/i.test(line)).join("\n"));
      console.log(`${name}: ${pass} passed, ${fail} failed`);
      passed += pass;
      failed += fail;
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  Deno.exit(failed === 0 ? 0 : 1);
}
