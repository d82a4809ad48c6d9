// The Deno standard library for runtimes that cannot resolve `jsr:` or `@std/*` themselves.
//
// Node and Bun (and esbuild, which bundles the suite for workerd and Chromium) resolve bare
// specifiers through node_modules only. We bring the std code along the way dnt does: Deno
// resolves the `@std/*` imports of src/ and tests/ (through whichever registry JSR_URL
// names), and each module it found is copied, with its imports rewritten to relative paths,
// into a `jsr.io/@std/<name>/<version>/` tree: as TypeScript for tsc (the npm build's
// `deps/` folder) and as JavaScript plus a package.json per std package in node_modules/@std
// (for the suite run from the sources). Nothing is bundled, so each file stays std's own.
import * as esbuild from "esbuild";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { runOrThrow } from "./_run.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** One std module: where Deno has it, and its std imports as written → the module they name. */
interface StdModule {
  /** `@std/<name>/<version>/<path>.ts`. */
  readonly path: string;
  readonly local: string;
  readonly imports: ReadonlyMap<string, string>;
}

/** What Deno resolved: each bare `@std/…` specifier used by the project → its module path, and every module. */
export interface StdGraph {
  readonly entries: ReadonlyMap<string, string>;
  readonly modules: readonly StdModule[];
}

/** `…/@std/<name>/<version>/<file>` of a resolved module URL, or undefined for non-std modules. */
function stdPath(url: string): string | undefined {
  const match = /\/(@std\/[^/]+\/[^/]+\/.+)$/.exec(url);
  return match?.[1];
}

/** Every `@std/…` specifier imported by the .ts files under `dirs`. */
export async function usedStdSpecifiers(dirs: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory && entry.name !== "node_modules") await walk(path);
      else if (entry.isFile && path.endsWith(".ts")) {
        for (const match of (await Deno.readTextFile(path)).matchAll(/(?:from|import)\s*\(?\s*"(@std\/[^"]+)"/g)) {
          found.add(match[1]!);
        }
      }
    }
  };
  for (const dir of dirs) await walk(join(ROOT, dir));
  return [...found].sort();
}

/** Asks Deno (`deno info --json`) for the modules behind `specifiers`, resolved through deno.json. */
export async function stdGraph(specifiers: readonly string[]): Promise<StdGraph> {
  const entryFile = join(ROOT, "dist", `_std_entry_${crypto.randomUUID()}.ts`);
  await Deno.mkdir(dirname(entryFile), { recursive: true });
  await Deno.writeTextFile(entryFile, specifiers.map((s) => `import ${JSON.stringify(s)};\n`).join(""));
  let info: {
    modules: {
      specifier: string;
      local?: string;
      dependencies?: { specifier: string; code?: { specifier: string } }[];
    }[];
    redirects: Record<string, string>;
  };
  try {
    info = JSON.parse((await runOrThrow([Deno.execPath(), "info", "--json", entryFile], { cwd: ROOT })).stdout);
  } finally {
    await Deno.remove(entryFile).catch(() => {});
  }
  const resolve = (specifier: string) => info.redirects[specifier] ?? specifier;
  const entries = new Map<string, string>();
  const modules: StdModule[] = [];
  for (const module of info.modules) {
    const path = stdPath(module.specifier);
    const imports = new Map<string, string>();
    for (const dependency of module.dependencies ?? []) {
      const target = dependency.code && stdPath(resolve(dependency.code.specifier));
      if (target) imports.set(dependency.specifier, target);
    }
    if (path) modules.push({ path, local: module.local!, imports });
    else if (module.specifier.startsWith("file:") && module.local === entryFile) {
      for (const [specifier, target] of imports) entries.set(specifier, target);
    }
  }
  const missing = specifiers.filter((specifier) => !entries.has(specifier));
  if (missing.length > 0) throw new Error(`deno info did not resolve ${missing.join(", ")} to std modules`);
  return { entries, modules };
}

/** A relative import from module `from` to module `to` (both std paths), with extension `ext`. */
function relativeImport(from: string, to: string, ext: ".ts" | ".js"): string {
  const rel = relative(dirname(from), to).replaceAll("\\", "/").replace(/\.ts$/, ext);
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/** `source` with each import specifier in `imports` replaced through `to`. */
export function rewriteImports(source: string, imports: ReadonlyMap<string, string>, to: (target: string) => string) {
  return source.replace(
    /((?:from|import)\s*\(?\s*)(["'])([^"']+)\2/g,
    (whole, head: string, quote: string, specifier: string) => {
      const target = imports.get(specifier);
      return target === undefined ? whole : `${head}${quote}${to(target)}${quote}`;
    },
  );
}

/** Writes every module of `graph` as TypeScript under `dir` (`dir/@std/<name>/<version>/…`). */
export async function writeStdSources(graph: StdGraph, dir: string): Promise<void> {
  for (const module of graph.modules) {
    const source = rewriteImports(
      await Deno.readTextFile(module.local),
      module.imports,
      (target) => relativeImport(module.path, target, ".ts"),
    );
    const file = join(dir, module.path);
    await Deno.mkdir(dirname(file), { recursive: true });
    await Deno.writeTextFile(file, source);
  }
}

/**
 * Lays the std modules out as packages in `modules` (a node_modules folder):
 * `@std/<name>/<version>/<file>.js` beside its `.ts` (for type checkers), and a package.json
 * whose exports are the specifiers the project uses.
 */
export async function writeStdPackages(graph: StdGraph, modules: string): Promise<void> {
  const exportsOf = new Map<string, Record<string, { types: string; default: string }>>();
  for (const [specifier, target] of graph.entries) {
    const [, name, subpath] = /^(@std\/[^/]+)(\/.*)?$/.exec(specifier)!;
    const inPackage = `./${target.split("/").slice(2).join("/")}`;
    const map = exportsOf.get(name!) ?? {};
    map[subpath ? `.${subpath}` : "."] = { types: inPackage, default: inPackage.replace(/\.ts$/, ".js") };
    exportsOf.set(name!, map);
  }
  const names = new Set(graph.modules.map((module) => module.path.split("/").slice(0, 2).join("/")));
  for (const name of names) await Deno.remove(join(modules, name), { recursive: true }).catch(() => {});
  for (const module of graph.modules) {
    const original = await Deno.readTextFile(module.local);
    const typescript = rewriteImports(original, module.imports, (t) => relativeImport(module.path, t, ".js"));
    const { code } = await esbuild.transform(typescript, { loader: "ts", format: "esm", target: "es2022" });
    const file = join(modules, module.path);
    await Deno.mkdir(dirname(file), { recursive: true });
    await Deno.writeTextFile(file, typescript);
    await Deno.writeTextFile(file.replace(/\.ts$/, ".js"), code);
  }
  for (const name of names) {
    await Deno.writeTextFile(
      join(modules, name, "package.json"),
      JSON.stringify({ name, private: true, type: "module", exports: exportsOf.get(name) ?? {} }, null, 2) + "\n",
    );
  }
}

/** Lays node_modules/@std out for the std modules that src/, tests/ and scripts/ import. */
export async function vendorStdForNode(): Promise<StdGraph> {
  const graph = await stdGraph(await usedStdSpecifiers(["src", "tests", "scripts"]));
  await writeStdPackages(graph, join(ROOT, "node_modules"));
  return graph;
}

if (import.meta.main) {
  const graph = await vendorStdForNode();
  console.log(`node_modules/@std: ${graph.modules.length} modules for ${[...graph.entries.keys()].join(", ")}`);
  await esbuild.stop();
}
