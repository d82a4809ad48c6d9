// What the npm package says to its users (scripts/npm/): the README, SECURITY.md and BENCHMARKS.md
// with npm's names and no relative link; the examples carried over from @std/assert to
// node:assert/strict on their syntax tree; the build's check that every import in the package
// resolves. The README's examples themselves run in Node and Bun in the test command's
// "npm readme" step (scripts/npm/readme.ts).
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { commentExamplesForNpm, ExampleError, exampleForNpm } from "../../scripts/npm/examples.ts";
import { markdownExamples, markdownForNpm, npmMarkdownProblems } from "../../scripts/npm/markdown.ts";
import { unresolvedImports } from "../../scripts/npm/imports_check.ts";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const jsrName: string = JSON.parse(read("deno.json")).name;
const exports = Object.keys(JSON.parse(read("deno.json")).exports as Record<string, string>);
const names = { jsrName, npmName: "smile-id-job-status", repository: "https://github.com/owner/repo" };
const specifiers = (markdown: string) => [...markdown.matchAll(/\bfrom\s+"([^"]+)"/g)].map((match) => match[1]!);

test("the npm README imports only the npm package's entry points and node:assert/strict", () => {
  const readme = read("README.md");
  const npm = markdownForNpm(readme, names);
  const fromJsr = specifiers(readme).filter((specifier) => specifier.startsWith(jsrName));
  assert(fromJsr.length >= 5, "the README's examples import the JSR package");
  assertEquals(npmMarkdownProblems(npm, jsrName), []);
  const fromNpm = specifiers(npm).filter((specifier) => specifier.startsWith(names.npmName));
  assert(fromNpm.length >= fromJsr.length, "every JSR import became an npm import");
  for (const specifier of fromNpm) {
    const subpath = specifier === names.npmName ? "." : `.${specifier.slice(names.npmName.length)}`;
    assert(exports.includes(subpath), `${specifier} is an entry point of the package`);
  }
  const asserting = markdownExamples(readme).filter((code) => code.includes('from "@std/assert"')).length;
  assert(asserting >= 4, "the README's examples assert with @std/assert");
  assertEquals(markdownExamples(npm).filter((code) => code.includes('from "node:assert/strict"')).length, asserting);
});

test("the npm copies of README.md, SECURITY.md and BENCHMARKS.md keep no relative link", () => {
  for (const file of ["README.md", "SECURITY.md", "BENCHMARKS.md"]) {
    const npm = markdownForNpm(read(file), names);
    assertEquals(npmMarkdownProblems(npm, jsrName), [], file);
    for (const match of npm.matchAll(/\]\(([^)\s]+)\)/g)) assert(/^(https:\/\/|#)/.test(match[1]!), match[1]);
  }
});

test("markdownForNpm() sends relative links to the repository and leaves anchors, URLs, other code and jsr: specifiers", () => {
  const source = [
    "See [SECURITY.md](SECURITY.md#reporting), [the top](#top), [std](https://jsr.io/@std) and [/LICENSE](/LICENSE).",
    "",
    "```ts",
    `import { createClient } from "${jsrName}";`,
    `const { createFakeSmileId } = await import('${jsrName}/testing');`,
    "const handlers = [(x: number) => x]; handlers[0](1);",
    "```",
    "",
    "```sh",
    `echo 'import x from "${jsrName}"' [link](SECURITY.md)`,
    "```",
    `{ "imports": { "${jsrName}": "jsr:${jsrName}@^0.1.0" } } and ${jsrName}-extras stay.`,
  ].join("\n");
  assertEquals(markdownForNpm(source, names).split("\n"), [
    "See [SECURITY.md](https://github.com/owner/repo/blob/HEAD/SECURITY.md#reporting), [the top](#top), " +
    "[std](https://jsr.io/@std) and [/LICENSE](https://github.com/owner/repo/blob/HEAD/LICENSE).",
    "",
    "```ts",
    'import { createClient } from "smile-id-job-status";',
    "const { createFakeSmileId } = await import('smile-id-job-status/testing');",
    "const handlers = [(x: number) => x]; handlers[0](1);",
    "```",
    "",
    "```sh",
    `echo 'import x from "${jsrName}"' [link](SECURITY.md)`,
    "```",
    `{ "imports": { "${jsrName}": "jsr:${jsrName}@^0.1.0" } } and ${jsrName}-extras stay.`,
  ]);
  assertEquals(npmMarkdownProblems(source, jsrName), [
    "a relative link to SECURITY.md#reporting",
    "a relative link to LICENSE",
    `an import of "${jsrName}"`,
    `an import of '${jsrName}/testing'`,
  ]);
});

test("exampleForNpm() maps @std/assert to node:assert/strict on the syntax tree, the errors std returns included", () => {
  const example = [
    'import { assert, assertEquals, assertInstanceOf, assertRejects, assertThrows } from "@std/assert";',
    `import { createClient, SmileIdError } from "${jsrName}";`,
    "",
    '// assertEquals in a comment, and "@std/assert" in a string, stay as written.',
    'const note = "assertEquals(a, b) from @std/assert";',
    "const error = await assertRejects(() => client.getJobStatus(query), SmileIdError);",
    'assertEquals(error.code, "timeout");',
    'assertEquals(assertThrows(() => resolveServer("ftp://x"), SmileIdError).code, "invalid_argument");',
    "await assertRejects(() => other(), SmileIdError);",
    "if (note) {",
    '  assertInstanceOf(error, Error, "an Error");',
    "  assert(note.length > 0);",
    "}",
  ].join("\n");
  assertEquals(exampleForNpm(example, names).split("\n"), [
    'import { deepStrictEqual, ok, rejects, throws } from "node:assert/strict";',
    'import { createClient, SmileIdError } from "smile-id-job-status";',
    "",
    '// assertEquals in a comment, and "@std/assert" in a string, stay as written.',
    'const note = "assertEquals(a, b) from @std/assert";',
    "let error;",
    "await rejects(() => client.getJobStatus(query), (caught) => (error = caught) instanceof SmileIdError);",
    'deepStrictEqual(error.code, "timeout");',
    "let thrown;",
    'throws(() => resolveServer("ftp://x"), (caught) => (thrown = caught) instanceof SmileIdError);',
    'deepStrictEqual(thrown.code, "invalid_argument");',
    "await rejects(() => other(), SmileIdError);",
    "if (note) {",
    '  ok(error instanceof Error, "an Error");',
    "  ok(note.length > 0);",
    "}",
  ]);
});

test("exampleForNpm() refuses what node:assert/strict cannot say, naming the line", () => {
  const refused = (code: string) => assertThrows(() => exampleForNpm(code, names), ExampleError).message;
  assertMatch(
    refused('import { assertAlmostEquals } from "@std/assert";\nassertAlmostEquals(0.1 + 0.2, 0.3);'),
    /^line 2 of the example \("assertAlmostEquals\(0\.1 \+ 0\.2, 0\.3\);"\): assertAlmostEquals has no counterpart/,
  );
  assertMatch(
    refused('import { assertRejects } from "@std/assert";\nawait assertRejects(() => f(), Error, "timed out");'),
    /assertRejects with a message to include/,
  );
  assertMatch(
    refused('import { assertEquals } from "@std/assert";\nconst check = assertEquals;'),
    /used other than by calling it/,
  );
  assertMatch(
    refused('import * as asserts from "@std/assert";\nasserts.assert(true);'),
    /import the @std\/assert functions by name/,
  );
});

test("commentExamplesForNpm() carries over the ```ts examples in a declaration's JSDoc, margins kept", () => {
  const declaration = [
    "/**",
    " * Resolves a server.",
    " *",
    " * @example",
    " * ```ts",
    ' * import { assertEquals } from "@std/assert";',
    ` * import { resolveServer } from "${jsrName}";`,
    " *",
    ' * assertEquals(resolveServer(0), "https://testapi.smileidentity.com/v1");',
    " * ```",
    " */",
    "export declare function resolveServer(server: unknown): string;",
  ].join("\n");
  assertEquals(commentExamplesForNpm(declaration, names).split("\n").slice(4, 10), [
    " * ```ts",
    ' * import { deepStrictEqual } from "node:assert/strict";',
    ' * import { resolveServer } from "smile-id-job-status";',
    " *",
    ' * deepStrictEqual(resolveServer(0), "https://testapi.smileidentity.com/v1");',
    " * ```",
  ]);
});

test("unresolvedImports() names every import a package's files cannot follow, comments and strings aside", async () => {
  const dir = await mkdtemp(join(tmpdir(), "npm-imports-"));
  try {
    await mkdir(join(dir, "esm", "src"), { recursive: true });
    const files: Record<string, string> = {
      "esm/mod.js":
        'import "./src/a.js";\nimport { x } from "node:http";\n// import "./gone.js";\nexport const s = "import(\'valibot\')";',
      "esm/mod.d.ts": 'export * from "./src/a.js";\nexport type T = import("./src/b.js").B;\n',
      "esm/src/a.js": 'export { y } from "valibot";\nexport const z = await import("../../../outside.js");',
      "esm/src/a.d.ts":
        '/// <reference types="node" />\n/// <reference types="bun-types" />\nexport declare const y: 1;',
    };
    for (const [path, text] of Object.entries(files)) await writeFile(join(dir, path), text);
    assertEquals(await unresolvedImports(dir), [
      'esm/mod.d.ts: "./src/b.js" names esm/src/b.d.ts, which the package does not ship',
      'esm/src/a.d.ts: /// <reference types="bun-types">, which users may not have',
      'esm/src/a.js: "../../../outside.js" points outside the package',
      'esm/src/a.js: "valibot" is not a file of the package nor a Node built-in (node:…), and the package has no dependencies',
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
