// Tests of the installed npm package's entry points, compiled by scripts/npm/build.ts into the
// suite it runs against the packed package (once as ES modules, once as CommonJS). The package is
// ES modules only and bundled, its shared code in chunks: these tests prove that whichever entry a
// program reaches, and whether through `import` or `require()`, `SmileIdError` is one class.
//
// The package is reached only through the loaders passed in, so this file names no package and
// type-checks in Deno like the other scripts.
import { test } from "node:test";
import { assert, assertEquals, assertInstanceOf, assertStrictEquals } from "@std/assert";

/** A loaded entry point's exports. */
type Exports = Record<string, unknown>;

/** How the generated test file reaches the installed package. */
export interface PackageLoaders {
  /** The package's name. */
  readonly name: string;
  /** Every subpath of the package's `exports` except `./package.json` (`.` included). */
  readonly subpaths: readonly string[];
  /** `import()` of a specifier, from the test file. */
  readonly importEntry: (specifier: string) => Promise<Exports>;
  /** `require()` of a specifier, from the test file (Node's require of ES modules). */
  readonly requireEntry: (specifier: string) => Exports;
}

/**
 * For each entry point, an exported function and an argument it rejects with a `SmileIdError`
 * thrown by the entry's own code. `./cli` has none that throws without starting a server, so it
 * is checked by the build instead (every entry imports `SmileIdError` from one chunk).
 */
const PROBES: Readonly<Record<string, readonly [exportName: string, argument: unknown]>> = {
  ".": ["createSigner", {}],
  "./testing": ["createFakeSmileId", null],
  "./testing/node": ["serveFetch", null],
  "./node": ["toNodeHandler", null],
  "./redis": ["createRedisReplayGuard", null],
  "./deno-kv": ["createKvReplayGuard", null],
  "./cloudflare": ["createDurableObjectReplayGuard", null],
};
const UNPROBED = new Set(["./cli"]);

function specifier(name: string, subpath: string): string {
  return subpath === "." ? name : `${name}/${subpath.slice(2)}`;
}

/** What the probe of `subpath` throws, synchronously or as a rejection. */
async function probe(entry: Exports, subpath: string): Promise<unknown> {
  const [exportName, argument] = PROBES[subpath]!;
  const fn = entry[exportName];
  assertStrictEquals(typeof fn, "function", `${subpath} must export a function ${exportName}`);
  try {
    await (fn as (argument: unknown) => unknown)(argument);
  } catch (error) {
    return error;
  }
  throw new Error(`${subpath}: ${exportName}(${JSON.stringify(argument)}) did not throw`);
}

/** Registers the entry-point tests. */
export function registerEntryTests(loaders: PackageLoaders): void {
  const { name, subpaths } = loaders;

  test("every entry point of the package has an instanceof probe", () => {
    const missing = subpaths.filter((subpath) => !(subpath in PROBES) && !UNPROBED.has(subpath));
    assertEquals(missing, [], "add a probe for each new entry point to scripts/npm/entries.ts");
  });

  test("import and require() of the package give the same SmileIdError class", async () => {
    const imported = await loaders.importEntry(name);
    const required = loaders.requireEntry(name);
    assertStrictEquals(typeof imported.SmileIdError, "function");
    assertStrictEquals(required.SmileIdError, imported.SmileIdError);
    const Class = imported.SmileIdError as new (code: string, message: string) => Error;
    assertInstanceOf(new (required.SmileIdError as typeof Class)("http", "x"), Class);
  });

  for (const subpath of subpaths.filter((subpath) => subpath in PROBES)) {
    test(`a SmileIdError thrown by ${specifier(name, subpath)} is an instance of the package's class, imported or required`, async () => {
      const Class = (await loaders.importEntry(name)).SmileIdError as new (...args: never[]) => Error;
      const Required = loaders.requireEntry(name).SmileIdError as typeof Class;
      for (const load of ["import", "require"] as const) {
        const entry = load === "import"
          ? await loaders.importEntry(specifier(name, subpath))
          : loaders.requireEntry(specifier(name, subpath));
        const error = await probe(entry, subpath);
        assert(error instanceof Error, `${load} ${subpath}: expected an Error, got ${String(error)}`);
        assertStrictEquals(error.name, "SmileIdError", `${load} ${subpath}: ${error.message}`);
        assertInstanceOf(error, Class);
        assertInstanceOf(error, Required);
      }
    });
  }

  test("require() and import of every entry point give the same module", async () => {
    for (const subpath of subpaths) {
      const imported = await loaders.importEntry(specifier(name, subpath));
      const required = loaders.requireEntry(specifier(name, subpath));
      const names = Object.keys(imported).sort();
      assert(names.length > 0, `${subpath} exports nothing`);
      assertEquals(Object.keys(required).filter((key) => key !== "__esModule").sort(), names);
      for (const key of names) assertStrictEquals(required[key], imported[key], `${subpath} ${key}`);
    }
  });
}
