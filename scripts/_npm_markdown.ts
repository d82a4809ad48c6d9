// The repository's Markdown as it reads inside the npm package (scripts/build_npm.ts writes
// npm/README.md, SECURITY.md and BENCHMARKS.md through it): the examples import the npm
// package's names instead of the JSR name, and relative links, which neither npm's site nor an
// editor opening node_modules can follow, point to the repository.

/** The names the rewrite needs. */
export interface NpmMarkdownNames {
  /** The JSR package the examples import, as in deno.json: `@smile-id-kit/job-status`. */
  readonly jsrName: string;
  /** The npm package: `smile-id-job-status`. */
  readonly npmName: string;
  /** The repository's web address, without a trailing slash. */
  readonly repository: string;
}

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `from "name…"`, `import "name…"` and `import("name…")` of the package or one of its subpaths. */
const importsOf = (name: string) =>
  new RegExp(`(\\bfrom\\s+|\\bimport\\s+|\\bimport\\s*\\(\\s*)(["'])${literal(name)}(?=["'/])`, "g");

/** An inline link whose target has no scheme and is not an anchor: `[text](SECURITY.md#x)`. */
const RELATIVE_LINK = /\]\((?![a-z][a-z0-9+.-]*:|#)\/?([^)\s]+)\)/gi;

/** Applies `change` to the text outside fenced code blocks (where `](` is code, not a link). */
function outsideCode(markdown: string, change: (text: string) => string): string {
  const parts = markdown.split(/^(```.*\n[\s\S]*?^```[ \t]*$)/m);
  return parts.map((part, i) => i % 2 === 1 ? part : change(part)).join("");
}

/** `markdown` as npm should show it: imports of `jsrName` name `npmName`, relative links go to the repository. */
export function markdownForNpm(markdown: string, names: NpmMarkdownNames): string {
  const imported = markdown.replace(importsOf(names.jsrName), `$1$2${names.npmName}`);
  return outsideCode(
    imported,
    (text) => text.replace(RELATIVE_LINK, (_, target: string) => `](${names.repository}/blob/HEAD/${target})`),
  );
}

/** What in `markdown` would not work on npm: each import of `jsrName` and each relative link. */
export function npmMarkdownProblems(markdown: string, jsrName: string): string[] {
  const problems = [...markdown.matchAll(importsOf(jsrName))].map((match) => `an import of ${match[2]}${jsrName}`);
  outsideCode(markdown, (text) => {
    for (const match of text.matchAll(RELATIVE_LINK)) problems.push(`a relative link to ${match[1]}`);
    return text;
  });
  return problems;
}
