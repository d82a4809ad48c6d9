// The README, SECURITY.md and BENCHMARKS.md as the npm package ships them (scripts/_npm_markdown.ts):
// npm import names in every example, no relative link left.
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { assert, assertEquals } from "@std/assert";
import { markdownForNpm, npmMarkdownProblems } from "../../scripts/_npm_markdown.ts";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const jsrName: string = JSON.parse(read("deno.json")).name;
const exports = Object.keys(JSON.parse(read("deno.json")).exports as Record<string, string>);
const names = { jsrName, npmName: "smile-id-job-status", repository: "https://github.com/owner/repo" };
const specifiers = (markdown: string) => [...markdown.matchAll(/\bfrom\s+"([^"]+)"/g)].map((match) => match[1]!);

test("the npm README imports only the npm package's entry points, one for each JSR import of the source", () => {
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
});

test("the npm copies of README.md, SECURITY.md and BENCHMARKS.md keep no relative link", () => {
  for (const file of ["README.md", "SECURITY.md", "BENCHMARKS.md"]) {
    const npm = markdownForNpm(read(file), names);
    assertEquals(npmMarkdownProblems(npm, jsrName), [], file);
    for (const match of npm.matchAll(/\]\(([^)\s]+)\)/g)) assert(/^(https:\/\/|#)/.test(match[1]!), match[1]);
  }
});

test("markdownForNpm() sends relative links to the repository and leaves anchors, URLs, code and jsr: specifiers", () => {
  const source = [
    "See [SECURITY.md](SECURITY.md#reporting), [the top](#top), [std](https://jsr.io/@std) and [/LICENSE](/LICENSE).",
    "",
    "```ts",
    `import { createClient } from "${jsrName}";`,
    `const { createFakeSmileId } = await import('${jsrName}/testing');`,
    "const handlers = [(x: number) => x]; handlers[0](1);",
    "```",
    "",
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
    `{ "imports": { "${jsrName}": "jsr:${jsrName}@^0.1.0" } } and ${jsrName}-extras stay.`,
  ]);
  assertEquals(npmMarkdownProblems(source, jsrName), [
    `an import of "${jsrName}`,
    `an import of '${jsrName}`,
    "a relative link to SECURITY.md#reporting",
    "a relative link to LICENSE",
  ]);
});
