// The repository's Markdown as it reads inside the npm package (scripts/npm/build.ts writes
// npm/README.md, SECURITY.md and BENCHMARKS.md through it): each TypeScript example is carried
// over by scripts/npm/examples.ts (the npm package's names, `node:assert/strict` for
// `@std/assert`), and relative links, which neither npm's site nor an editor opening
// node_modules can follow, point to the repository.
import ts from "typescript";
import { exampleForNpm, type ExampleNames, isExampleFence } from "./examples.ts";

/** The names the rewrite needs. */
export interface NpmMarkdownNames extends ExampleNames {
  /** The repository's web address, without a trailing slash. */
  readonly repository: string;
}

/** A Markdown file cut into prose and fenced code blocks. */
interface Part {
  /** The part's lines, as in the file. */
  readonly lines: readonly string[];
  /** The fence's info string (`ts`, `sh`, …) for a code block; undefined for prose. */
  readonly info?: string;
  /** The fence's indentation, for a code block. */
  readonly indent?: string;
  /** The code between the fences, for a code block. */
  readonly code?: string;
}

/** Splits Markdown into prose and ``` fenced blocks (the only fences this project writes). */
export function markdownParts(markdown: string): Part[] {
  const parts: Part[] = [];
  const lines = markdown.split("\n");
  let prose: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(.*)$/.exec(lines[i]!);
    const close = open ? lines.findIndex((line, j) => j > i && line.trim() === "```") : -1;
    if (!open || close === -1) {
      prose.push(lines[i]!);
      continue;
    }
    if (prose.length > 0) parts.push({ lines: prose });
    prose = [];
    const indent = open[1]!;
    const code = lines.slice(i + 1, close).map((line) => line.startsWith(indent) ? line.slice(indent.length) : line);
    parts.push({ lines: lines.slice(i, close + 1), info: open[2]!, indent, code: code.join("\n") });
    i = close;
  }
  if (prose.length > 0) parts.push({ lines: prose });
  return parts;
}

/** An inline link whose target has no scheme and is not an anchor: `[text](SECURITY.md#x)`. */
const RELATIVE_LINK = /\]\((?![a-z][a-z0-9+.-]*:|#)\/?([^)\s]+)\)/gi;

/** `markdown` as npm should show it: examples for npm users, relative links to the repository. */
export function markdownForNpm(markdown: string, names: NpmMarkdownNames): string {
  return markdownParts(markdown).flatMap((part) => {
    if (part.info === undefined) {
      return part.lines.map((line) =>
        line.replace(RELATIVE_LINK, (_, target: string) => `](${names.repository}/blob/HEAD/${target})`)
      );
    }
    if (!isExampleFence(part.info)) return part.lines;
    const indent = part.indent!;
    const example = exampleForNpm(part.code!, names).split("\n").map((line) => (line === "" ? "" : indent + line));
    return [part.lines[0]!, ...example, part.lines.at(-1)!];
  }).join("\n");
}

/** The TypeScript examples of a Markdown file (the code of each ```ts block), in order. */
export function markdownExamples(markdown: string): string[] {
  return markdownParts(markdown).filter((part) => part.info !== undefined && isExampleFence(part.info))
    .map((part) => part.code!);
}

/**
 * What in `markdown` would not work on npm: each import of `jsrName` or `@std/…` in an example
 * (found by TypeScript's parser), and each relative link.
 */
export function npmMarkdownProblems(markdown: string, jsrName: string): string[] {
  const problems: string[] = [];
  for (const part of markdownParts(markdown)) {
    if (part.info === undefined) {
      for (const match of part.lines.join("\n").matchAll(RELATIVE_LINK)) {
        problems.push(`a relative link to ${match[1]}`);
      }
    } else if (isExampleFence(part.info)) {
      const file = ts.createSourceFile("example.ts", part.code!, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
      const visit = (node: ts.Node): void => {
        const specifier = ts.isImportDeclaration(node) || ts.isExportDeclaration(node)
          ? node.moduleSpecifier
          : ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword
          ? node.arguments[0]
          : undefined;
        if (specifier && ts.isStringLiteralLike(specifier)) {
          const name = specifier.text;
          if (name === jsrName || name.startsWith(`${jsrName}/`) || name.startsWith("@std/")) {
            problems.push(`an import of ${specifier.getText(file)}`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(file);
    }
  }
  return problems;
}
