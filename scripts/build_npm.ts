// Builds the npm package into npm/ in the layout dnt (https://jsr.io/@deno/dnt) produces, with
// tsc standing in for dnt because JSR cannot be reached from this project's machines:
//
//   npm/esm/**      ES modules + .d.ts, with {"type":"module"}
//   npm/script/**   CommonJS + .d.ts, with {"type":"commonjs"} (the CLI is ESM-only: it uses import.meta)
//   npm/package.json, README.md, LICENSE
//
// Then lints the package (publint --strict, @arethetypeswrong/cli) and prepares the test suite
// against the packed package in dist/npm-suite/: every portable test (tests/*_test.ts) compiled
// once as ESM (import) and once as CommonJS (require), importing `smile-id-job-status` instead of
// ../mod.ts, plus a check of the `smile-id-job-status` bin. Unless --no-test is given, runs that
// suite on Node 20 (the machine's `node`), 22 and 24.
//
//   deno task build:npm [version] [--no-test]      (version defaults to deno.json's)
import * as esbuild from "esbuild";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { rewriteImports, stdGraph, usedStdSpecifiers, writeStdSources } from "./_std.ts";
import { ATTW, NODE22, NODE24, NODE_TYPES, PUBLINT, TSC } from "./_toolchain.ts";

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
 * Node versions the suite runs on: the majors tested here. 20.19 and 22.12 are where require()
 * of ES modules (needed only by `require("smile-id-job-status/cli")`) works without a flag.
 */
const ENGINES_NODE = "^20.19.0 || >=22.12.0";

/** The Node binaries the built package is tested on (system Node 20, npm-installed 22 and 24). */
export const NODES: readonly { readonly name: string; readonly bin: string }[] = [
  { name: "node20", bin: "node" },
  { name: "node22", bin: NODE22 },
  { name: "node24", bin: NODE24 },
];

/** Entry points: export subpath, source file, and whether a CommonJS build exists. */
const ENTRIES = [
  { subpath: ".", source: "mod.ts", cjs: true },
  { subpath: "./testing", source: "src/testing/mod.ts", cjs: true },
  { subpath: "./cli", source: "src/cli.ts", cjs: false },
  { subpath: "./node", source: "src/node.ts", cjs: true },
  { subpath: "./redis", source: "src/redis.ts", cjs: true },
  { subpath: "./deno-kv", source: "src/deno_kv.ts", cjs: true },
  { subpath: "./cloudflare", source: "src/cloudflare.ts", cjs: true },
] as const;

async function run(cmd: string[], options: { cwd?: string; quiet?: boolean } = {}): Promise<string> {
  const output = await new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    cwd: options.cwd ?? ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`${cmd.join(" ")} failed (exit ${output.code}):\n${text}`);
  if (!options.quiet && text.trim() !== "") console.log(text.trimEnd());
  return text;
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

/** valibot's version range from deno.json's import map (`npm:valibot@^1.5.0` gives `^1.5.0`). */
async function valibotRange(): Promise<string> {
  const { imports } = await readJson<{ imports: Record<string, string> }>(join(ROOT, "deno.json"));
  const match = /^npm:valibot@(.+)$/.exec(imports.valibot ?? "");
  if (!match) throw new Error(`deno.json must map "valibot" to npm:valibot@<range>, got ${imports.valibot}`);
  return match[1]!;
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
    if (fixed !== text) fixed = `import "${relativeTo(join(dir, "_dnt.polyfills.ts"))}";\n${fixed}`;
    // Doc examples import the JSR name; npm users import the npm name.
    fixed = fixed.replaceAll(`from "@smile-id-kit/job-status`, `from "${PACKAGE}`);
    if (fixed !== text) await Deno.writeTextFile(path, fixed);
  }
  return dir;
}

/** Compiles the staged sources with tsc, once per module format. */
async function compile(dir: string, format: "esm" | "script"): Promise<void> {
  const tsconfig = join(dir, `tsconfig.${format}.json`);
  await writeJson(tsconfig, {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2022", "DOM", "DOM.Iterable"],
      types: ["node"],
      typeRoots: [NODE_TYPES],
      module: format === "esm" ? "ESNext" : "CommonJS",
      moduleResolution: "Bundler",
      esModuleInterop: true,
      allowImportingTsExtensions: true,
      rewriteRelativeImportExtensions: true,
      declaration: true,
      rootDir: dir,
      outDir: join(NPM, format),
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
      noFallthroughCasesInSwitch: true,
      skipLibCheck: true,
      newLine: "lf",
    },
    files: ENTRIES.filter((entry) => format === "esm" || entry.cjs).map((entry) => join(dir, entry.source)),
  });
  await run(["node", TSC, "-p", tsconfig]);
  // tsc rewrites `./x.ts` to `./x.js` in JavaScript but keeps `.ts` in declarations; TypeScript
  // before 5.0 cannot follow those, so point them at the `.js` files as dnt does.
  for await (const path of walk(join(NPM, format))) {
    if (!path.endsWith(".d.ts")) continue;
    const text = await Deno.readTextFile(path);
    const fixed = text.replace(/((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g, "$1$2.js$3");
    if (fixed !== text) await Deno.writeTextFile(path, fixed);
  }
  await writeJson(join(NPM, format, "package.json"), { type: format === "esm" ? "module" : "commonjs" });
}

function target(format: "esm" | "script", source: string): string {
  return `./${format}/${source.replace(/\.ts$/, "")}`;
}

/** npm/package.json. */
async function writeManifest(version: string): Promise<void> {
  const exports: Record<string, unknown> = {};
  for (const entry of ENTRIES) {
    const esm = target("esm", entry.source);
    exports[entry.subpath] = entry.cjs
      ? {
        import: { types: `${esm}.d.ts`, default: `${esm}.js` },
        require: { types: `${target("script", entry.source)}.d.ts`, default: `${target("script", entry.source)}.js` },
      }
      : { types: `${esm}.d.ts`, default: `${esm}.js` };
  }
  exports["./package.json"] = "./package.json";
  await writeJson(join(NPM, "package.json"), {
    name: PACKAGE,
    version,
    description: DESCRIPTION,
    license: "MIT",
    repository: { type: "git", url: REPOSITORY },
    keywords: KEYWORDS,
    type: "module",
    main: "./script/mod.js",
    module: "./esm/mod.js",
    types: "./script/mod.d.ts",
    exports,
    // Node10 resolution (TypeScript's old `moduleResolution: node`) ignores `exports`; this
    // sends it to the subpaths' declarations.
    typesVersions: {
      "*": Object.fromEntries(
        ENTRIES.filter((entry) => entry.subpath !== ".").map((entry) => [
          entry.subpath.slice(2),
          [`${target(entry.cjs ? "script" : "esm", entry.source)}.d.ts`],
        ]),
      ),
    },
    bin: { [PACKAGE]: "./esm/src/cli.js" },
    sideEffects: ["./esm/_dnt.polyfills.js", "./script/_dnt.polyfills.js"],
    engines: { node: ENGINES_NODE },
    dependencies: { valibot: await valibotRange() },
  });
  await Deno.copyFile(join(ROOT, "README.md"), join(NPM, "README.md"));
  await Deno.copyFile(join(ROOT, "LICENSE"), join(NPM, "LICENSE"));
  await Deno.chmod(join(NPM, "esm/src/cli.js"), 0o755);
}

/** publint --strict and @arethetypeswrong/cli on the packed package. */
async function lint(): Promise<void> {
  await run(["node", PUBLINT, "--strict", NPM]);
  const attw = ATTW;
  // ".", "./testing": dual ESM + CommonJS, no problem of any kind allowed.
  await run(["node", attw, "--pack", NPM, "--format", "table", "--exclude-entrypoints", "./cli"]);
  // "./cli" is ESM-only (it uses import.meta): require() reaches it only through Node's
  // require(esm), which attw reports as "CJS resolves to ESM"; every other rule still applies.
  await run([
    "node",
    attw,
    "--pack",
    NPM,
    "--format",
    "table",
    "--entrypoints",
    "./cli",
    "--ignore-rules",
    "cjs-resolves-to-esm",
  ]);
}

/** Plugin: the suite's imports of ../mod.ts and ../src/** go to the installed package. */
function toPackage(format: "esm" | "cjs", outDir: string, installed: string): esbuild.Plugin {
  const folder = format === "esm" ? "esm" : "script";
  return {
    name: "to-package",
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.kind === "entry-point") return undefined;
        const abs = resolve(args.resolveDir, args.path);
        const rel = relative(ROOT, abs).replaceAll("\\", "/");
        const entry = ENTRIES.find((e) => e.source === rel);
        if (entry) {
          return { path: entry.subpath === "." ? PACKAGE : `${PACKAGE}/${entry.subpath.slice(2)}`, external: true };
        }
        if (rel.startsWith("src/") && rel.endsWith(".ts")) {
          // Internal modules the package does not export: the same built file the package's own
          // modules load, so classes such as SmileIdError stay one and the same.
          const file = join(installed, folder, rel.replace(/\.ts$/, ".js"));
          return { path: relative(outDir, file).replaceAll("\\", "/"), external: true };
        }
        return undefined;
      });
    },
  };
}

/** Checks of the CLI entry (`./cli` through the exports map) and of the installed bin, as a test file. */
function cliTest(format: "esm" | "cjs"): string {
  const header = format === "esm"
    ? `import { fileURLToPath } from "node:url";
const here = fileURLToPath(new URL(".", import.meta.url));
const loadCli = () => import("${PACKAGE}/cli");
`
    : `const here = __dirname;
const loadCli = async () => require("${PACKAGE}/cli"); // Node's require(esm): the CLI is ESM-only
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

/** Packs npm/, installs the tarball into dist/npm-suite and compiles the suite against it. */
async function prepareSuite(): Promise<void> {
  await Deno.remove(SUITE, { recursive: true }).catch(() => {});
  const modules = join(SUITE, "node_modules");
  const installed = join(modules, PACKAGE);
  await Deno.mkdir(installed, { recursive: true });
  // The tarball is what npm would publish; unpacking it (rather than linking npm/) proves every
  // file the tests need is in it.
  const packed = (await run(["npm", "pack", "--silent", "--pack-destination", SUITE], { cwd: NPM, quiet: true }))
    .trim().split("\n").at(-1)!;
  await run(["tar", "-xzf", join(SUITE, packed), "-C", installed, "--strip-components=1"]);
  // The one dependency, as the repository resolved it (no registry access needed).
  await Deno.symlink(await Deno.realPath(join(ROOT, "node_modules/valibot")), join(modules, "valibot"));

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
        target: "node20",
        plugins: [toPackage(format, outDir, installed)],
        // The tests are ES modules, so strict mode code; keep them so as CommonJS.
        ...(format === "cjs" ? { banner: { js: '"use strict";' } } : {}),
        logLevel: "error",
      });
    }
    await esbuild.build({
      stdin: { contents: cliTest(format), resolveDir: ROOT, sourcefile: `cli${extension}.ts`, loader: "ts" },
      outfile: join(outDir, `cli${extension}`),
      bundle: true,
      format,
      platform: "node",
      target: "node20",
      external: [PACKAGE, `${PACKAGE}/*`],
      ...(format === "cjs" ? { banner: { js: '"use strict";' } } : {}),
      logLevel: "error",
    });
  }
  await esbuild.stop();
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
  try {
    await compile(dir, "esm");
    await compile(dir, "script");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await writeManifest(version);
  console.log(`built ${PACKAGE}@${version} into ${relative(Deno.cwd(), NPM) || "npm"}/`);
  await lint();
  await prepareSuite();
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
      const output = await new Deno.Command(cmd[0]!, { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
        .output();
      const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
      const pass = Number(/^# pass (\d+)$/m.exec(text)?.[1] ?? 0);
      const fail = Number(/^# fail (\d+)$/m.exec(text)?.[1] ?? 0) + (output.success ? 0 : pass === 0 ? 1 : 0);
      if (!output.success) console.log(text.split("\n").filter((line) => /^not ok|^#|error/i.test(line)).join("\n"));
      console.log(`${name}: ${pass} passed, ${fail} failed`);
      passed += pass;
      failed += fail;
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  Deno.exit(failed === 0 ? 0 : 1);
}
