// Builds the npm package into npm/ from the sources, with nothing but what the build imports:
// TypeScript (declarations) and esbuild (JavaScript), run by Deno with scripts/npm/imports.json.
// `deno task build:npm` works on a fresh clone and downloads only those two, valibot and std.
// The package is ES modules only (Node 22.12 and later can require() it):
//
//   npm/esm/<entry>.d.ts  declarations of each entry point and the modules their types name
//   npm/esm/<entry>.js    each entry point bundled by esbuild, beside its .d.ts; what entries
//   npm/esm/_chunks/      share lives in chunks, so each module (SmileIdError's too) exists once
//   npm/package.json, README.md, LICENSE, SECURITY.md, BENCHMARKS.md, THIRD_PARTY_LICENSES.md
//
// Imports are rewritten only in code: esbuild's resolver (a plugin with the module graph Deno
// resolved) for the JavaScript, TypeScript's syntax tree for the declarations. The examples in the
// declarations' comments and in the README import `smile-id-job-status` and assert with
// `node:assert/strict` (scripts/npm/examples.ts). Last, the build fails if any import in the
// package's .js and .d.ts files names a file the package does not ship or a module that is not
// Node's. Linting, packing and testing the package are the test command's "npm checks" step.
//
//   deno task build:npm [version]      (version defaults to deno.json's)
import * as esbuild from "esbuild";
import ts from "typescript";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type StdGraph, stdGraph, usedStdSpecifiers } from "../_std.ts";
import { commentExamplesForNpm } from "./examples.ts";
import { moduleSpecifiers, unresolvedImports } from "./imports_check.ts";
import { markdownForNpm, npmMarkdownProblems } from "./markdown.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Where the package is built. */
export const NPM: string = join(ROOT, "npm");
const ESM = join(NPM, "esm");
/** The npm package's name. */
export const PACKAGE = "smile-id-job-status";
/**
 * Placeholder until the project has a public repository: the package says so, and `npm publish`
 * refuses to run while it is here (a dry run only warns).
 */
export const REPOSITORY = "git+https://github.com/smile-id-kit/job-status.git";
const PLACEHOLDER_REPOSITORY = REPOSITORY;
const DESCRIPTION = "Smile ID's v1 job-status utility for every JavaScript runtime: HMAC-SHA256 request signing on " +
  "WebCrypto, verified and typed job-status answers, polling, and callback verification.";
const KEYWORDS = ["smile-id", "smileidentity", "kyc", "job-status", "hmac", "signature", "webcrypto", "callback"];
/**
 * Node versions the package supports: 22.12 is the first Node 22 whose require() loads ES
 * modules without a flag (the package has no CommonJS build); 22 and 24 are tested.
 */
export const ENGINES_NODE = ">=22.12.0";

/** An entry point of deno.json's exports: its subpath and source file. */
export interface Entry {
  readonly subpath: string;
  readonly source: string;
}

/** Entry points, from deno.json's exports. */
export const ENTRIES: readonly Entry[] = Object.entries(
  JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).exports as Record<string, string>,
).map(([subpath, source]) => ({ subpath, source: source.replace(/^\.\//, "") }));

/** The npm specifier of an entry: `smile-id-job-status` or `smile-id-job-status/<subpath>`. */
export function npmSpecifier(entry: Entry): string {
  return entry.subpath === "." ? PACKAGE : `${PACKAGE}/${entry.subpath.slice(2)}`;
}

/** Where an entry's files go, relative to npm/esm/ and without extension: `mod`, `src/testing/mod`, … */
function entryOut(source: string): string {
  return source.replace(/\.ts$/, "");
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(path)) as T;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2) + "\n");
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

/** src/_version.ts as built: the version given, so that requests send it as `source_sdk_version`. */
function versionModule(version: string): string {
  return `/** The package's version, sent as \`source_sdk_version\`. */\nexport const VERSION: string = ${
    JSON.stringify(version)
  };\n`;
}

/** The names the examples are carried over with. */
async function exampleNames(): Promise<{ jsrName: string; npmName: string }> {
  return { jsrName: (await readJson<{ name: string }>(join(ROOT, "deno.json"))).name, npmName: PACKAGE };
}

/**
 * The declarations, with TypeScript's compiler on the sources as they are (`noCheck`: the types
 * are checked by `deno check` and by the npm checks' Node-only project). Relative `.ts` imports
 * become `.js` on the syntax tree, the examples in comments are carried over for npm, and only
 * the files the entry points' declarations reach are kept.
 */
async function declarations(version: string): Promise<void> {
  const names = await exampleNames();
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    types: [],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    declaration: true,
    emitDeclarationOnly: true,
    noCheck: true,
    rootDir: ROOT,
    outDir: ESM,
    strict: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: true,
    newLine: ts.NewLineKind.LineFeed,
  };
  const host = ts.createCompilerHost(options);
  const versionFile = join(ROOT, "src", "_version.ts");
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, language, onError, shouldCreate) =>
    resolve(fileName) === versionFile
      ? ts.createSourceFile(fileName, versionModule(version), language)
      : getSourceFile(fileName, language, onError, shouldCreate);
  const written = new Map<string, string>();
  host.writeFile = (fileName, text) => {
    if (!fileName.endsWith(".d.ts")) return;
    // `./x.ts` → `./x.js`: TypeScript before 5.0 and other tools follow only `.js` names.
    const edits = moduleSpecifiers(fileName, text)
      .filter((literal) => /^\.\.?\//.test(literal.text) && literal.text.endsWith(".ts"))
      .map((literal) => ({ literal, text: JSON.stringify(literal.text.replace(/\.ts$/, ".js")) }))
      .sort((a, b) => b.literal.getStart() - a.literal.getStart());
    let out = text;
    for (const { literal, text: replacement } of edits) {
      out = out.slice(0, literal.getStart()) + replacement + out.slice(literal.getEnd());
    }
    written.set(resolve(fileName), commentExamplesForNpm(out, names, relative(NPM, fileName)));
  };
  const program = ts.createProgram(ENTRIES.map((entry) => join(ROOT, entry.source)), options, host);
  const result = program.emit();
  const problems = result.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  if (problems.length > 0) throw new Error(`TypeScript could not write the declarations:\n${problems.join("\n")}`);

  // Keep what the entry points' declarations reach through relative imports.
  const kept = new Set<string>();
  const reach = (path: string) => {
    if (kept.has(path) || !written.has(path)) return;
    kept.add(path);
    for (const literal of moduleSpecifiers(path, written.get(path)!)) {
      if (/^\.\.?\//.test(literal.text)) reach(resolve(dirname(path), literal.text.replace(/\.js$/, ".d.ts")));
    }
  };
  for (const entry of ENTRIES) reach(join(ESM, `${entryOut(entry.source)}.d.ts`));
  for (const path of kept) {
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, written.get(path)!);
  }
  await writeJson(join(ESM, "package.json"), { type: "module" });
}

/**
 * esbuild plugin: `@std/…` and the imports inside std modules resolve to the modules Deno
 * resolved (`deno info`, through whichever registry JSR_URL names); src/_version.ts carries
 * the version being built; each entry other than "." first loads all of ".".
 */
function sourcesPlugin(std: StdGraph, version: string, root: Entry): esbuild.Plugin {
  const modules = new Map(std.modules.map((module) => [module.path, module]));
  return {
    name: "package-sources",
    setup(build) {
      build.onResolve({ filter: /^@std\// }, (args) => {
        const target = std.entries.get(args.path);
        return target === undefined
          ? { errors: [{ text: `${args.path} is not among the std modules the sources import` }] }
          : { path: target, namespace: "std" };
      });
      build.onResolve({ filter: /.*/, namespace: "std" }, (args) => {
        const target = modules.get(args.importer)?.imports.get(args.path);
        return target === undefined
          ? { errors: [{ text: `${args.importer} imports ${args.path}, which deno info did not resolve` }] }
          : { path: target, namespace: "std" };
      });
      build.onLoad({ filter: /.*/, namespace: "std" }, async (args) => ({
        contents: await Deno.readTextFile(modules.get(args.path)!.local),
        loader: "ts",
      }));
      build.onLoad(
        { filter: /[\\/]src[\\/]_version\.ts$/ },
        () => ({ contents: versionModule(version), loader: "ts" }),
      );
      // The entry module of a subpath: its source's exports, after loading all of ".".
      build.onResolve(
        { filter: /^entry:/ },
        (args) => ({ path: args.path.slice("entry:".length), namespace: "entry" }),
      );
      build.onLoad({ filter: /.*/, namespace: "entry" }, async (args) => {
        // The source's `#!` line (the bin's) must open the entry file.
        const shebang = /^#!.*\n/.exec(await Deno.readTextFile(join(ROOT, args.path)))?.[0] ?? "";
        const contents = `${shebang}import ${JSON.stringify(`./${root.source}`)};\n` +
          `export * from ${JSON.stringify(`./${args.path}`)};\n`;
        return { contents, resolveDir: ROOT, loader: "ts" };
      });
    },
  };
}

/**
 * Bundles every entry point at once with code splitting, so that what several entries use is one
 * module in one chunk, whichever entry loads it. Each entry other than "." also loads all of ".",
 * so that everything "." reaches (SmileIdError first of all) is one chunk, the core: importing the
 * package reads its facade and the core, not one chunk per combination of entries. valibot and
 * std are compiled in, so no dependency is read either. Returns the files' sizes by path.
 */
async function bundle(version: string): Promise<Map<string, number>> {
  const root = ENTRIES.find((entry) => entry.subpath === ".")!;
  const std = await stdGraph(await usedStdSpecifiers(["src"]));
  const result = await esbuild.build({
    entryPoints: Object.fromEntries(ENTRIES.map((entry) => [
      entryOut(entry.source),
      entry === root ? join(ROOT, entry.source) : `entry:${entry.source}`,
    ])),
    outdir: ESM,
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
    plugins: [sourcesPlugin(std, version, root)],
    metafile: true,
    logLevel: "error",
  });
  await esbuild.stop();
  // esbuild keeps the JSDoc of class members: their examples are carried over for npm too.
  const names = await exampleNames();
  const sizes = new Map<string, number>();
  for (const file of Object.keys(result.metafile.outputs)) {
    const path = resolve(ROOT, file);
    const text = commentExamplesForNpm(await Deno.readTextFile(path), names, relative(NPM, path));
    await Deno.writeTextFile(path, text);
    sizes.set(relative(NPM, path), new TextEncoder().encode(text).byteLength);
  }
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
  const stdPackage = (input: string) => /^std:(@std\/[^/]+\/[^/]+)\//.exec(input)?.[1] ?? [];
  const std = [...new Set(inputs.flatMap(stdPackage))].sort();
  const parts = [
    "# Third-party code in this package\n",
    "The JavaScript under `esm/` includes code from the packages below, under their licenses.\n",
  ];
  if (
    inputs.some((input) => input.includes("node_modules/valibot/") || input.includes("node_modules/.deno/valibot@"))
  ) {
    const valibot = await Deno.realPath(join(ROOT, "node_modules/valibot"));
    const { version } = await readJson<{ version: string }>(join(valibot, "package.json"));
    parts.push(`## valibot ${version}\n`, (await Deno.readTextFile(join(valibot, "LICENSE.md"))).trim() + "\n");
  } else throw new Error("valibot is no longer bundled: update the third-party notices");
  if (std.length === 0) throw new Error("no std module is bundled: update the third-party notices");
  const mit = (await Deno.readTextFile(join(ROOT, "LICENSE"))).split("\n").slice(3).join("\n").trim();
  parts.push(
    `## The Deno standard library: ${std.map((name) => name.replace(/\/([^/]+)$/, "@$1")).join(", ")}\n`,
    `MIT License\n\nCopyright 2018-2026 the Deno authors\n\n${mit}\n`,
  );
  return parts.join("\n");
}

/** npm/package.json, LICENSE, and the Markdown files as npm shows them. */
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
    sideEffects: false,
    engines: { node: ENGINES_NODE },
    scripts: { prepublishOnly: refusePlaceholder() },
  });
  // The README links SECURITY.md and BENCHMARKS.md, so they ship beside it (as on JSR), each
  // rewritten for npm: examples for npm users, relative links to the repository.
  await Deno.copyFile(join(ROOT, "LICENSE"), join(NPM, "LICENSE"));
  const names = { ...(await exampleNames()), repository: REPOSITORY.replace(/^git\+/, "").replace(/\.git$/, "") };
  for (const file of ["README.md", "SECURITY.md", "BENCHMARKS.md"]) {
    const text = markdownForNpm(await Deno.readTextFile(join(ROOT, file)), names);
    const problems = npmMarkdownProblems(text, names.jsrName);
    if (problems.length > 0) throw new Error(`npm/${file} would not work on npm: ${problems.join("; ")}`);
    await Deno.writeTextFile(join(NPM, file), text);
  }
  await Deno.chmod(join(NPM, `esm/${entryOut(cli.source)}.js`), 0o755);
}

/**
 * npm runs `prepublishOnly` before `npm publish`: this one refuses while the repository URL is
 * the placeholder, and lets a dry run (the release gate in CI) through with a warning.
 */
function refusePlaceholder(): string {
  const script = `const p=require('./package.json');` +
    `if(p.repository.url==='${PLACEHOLDER_REPOSITORY}'){` +
    `const m='package.json names the placeholder repository '+p.repository.url+'; set REPOSITORY in scripts/npm/build.ts and rebuild';` +
    `if(process.env.npm_config_dry_run==='true'){console.warn('warning: '+m)}else{console.error(m);process.exit(1)}}`;
  return `node -e "${script}"`;
}

/** Builds npm/; returns the version built. */
export async function buildNpm(args: readonly string[]): Promise<string> {
  const version = await resolveVersion(args);
  await Deno.remove(NPM, { recursive: true }).catch(() => {});
  await Deno.mkdir(ESM, { recursive: true });
  await declarations(version);
  const sizes = await bundle(version);
  await writeManifest(version);
  const problems = await unresolvedImports(NPM);
  if (problems.length > 0) {
    throw new Error(`The package mentions paths it does not ship:\n  ${problems.join("\n  ")}`);
  }
  console.log(`built ${PACKAGE}@${version} into ${relative(Deno.cwd(), NPM) || "npm"}/`);
  for (const [path, bytes] of [...sizes].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`  ${path.padEnd(40)} ${String(bytes).padStart(7)} B`);
  }
  console.log("every import in the package's .js and .d.ts files resolves inside it or to a Node built-in");
  return version;
}

if (import.meta.main) {
  try {
    await buildNpm(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(1);
  }
}
