// The build's last check (scripts/npm/build.ts): every import in the package's .js and .d.ts
// files, found by TypeScript's parser, resolves to a file the package ships or to a Node
// built-in. Runtime-neutral, so that tests/host/npm_examples_test.ts runs it in Node and Bun too.
import ts from "typescript";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";

/**
 * Each module specifier in a declaration or JavaScript file, found by TypeScript's parser:
 * imports, re-exports, `import("…")` types and calls, and `/// <reference>` directives.
 */
export function moduleSpecifiers(fileName: string, text: string): ts.StringLiteralLike[] {
  const kind = fileName.endsWith(".js") ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, kind);
  const found: ts.StringLiteralLike[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteralLike(node.moduleSpecifier)) found.push(node.moduleSpecifier);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      if (ts.isStringLiteralLike(node.argument.literal)) found.push(node.argument.literal);
    } else if (
      ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0]!) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === "require"))
    ) {
      found.push(node.arguments[0] as ts.StringLiteralLike);
    } else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) {
      found.push(node.name);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/**
 * Why the package in `dir` (npm/) would break for its users: each import in its .js and .d.ts files
 * that names a file the package does not have, or a module other than Node's built-ins (the
 * package has no dependencies). An empty list when every import resolves.
 */
export async function unresolvedImports(dir: string): Promise<string[]> {
  const problems: string[] = [];
  const files = new Set<string>();
  for (const name of await readdir(dir, { recursive: true })) files.add(join(dir, name));
  for (const path of files) {
    if (!/\.(d\.ts|js)$/.test(path)) continue;
    const text = await readFile(path, "utf8");
    const declaration = path.endsWith(".d.ts");
    for (const literal of moduleSpecifiers(path, text)) {
      const specifier = literal.text;
      const at = `${relative(dir, path)}: ${JSON.stringify(specifier)}`;
      if (/^\.\.?\//.test(specifier)) {
        const target = resolve(dirname(path), declaration ? specifier.replace(/\.js$/, ".d.ts") : specifier);
        if (!target.startsWith(`${dir}/`)) problems.push(`${at} points outside the package`);
        else if (!files.has(target)) {
          problems.push(`${at} names ${relative(dir, target)}, which the package does not ship`);
        }
      } else if (!specifier.startsWith("node:")) {
        problems.push(
          `${at} is not a file of the package nor a Node built-in (node:…), and the package has no dependencies`,
        );
      }
    }
    if (declaration) {
      const info = ts.preProcessFile(text, true, true);
      for (const reference of info.referencedFiles) {
        problems.push(
          `${
            relative(dir, path)
          }: /// <reference path="${reference.fileName}"> (the package's types reference no file)`,
        );
      }
      for (const reference of info.typeReferenceDirectives) {
        if (reference.fileName !== "node") {
          problems.push(
            `${relative(dir, path)}: /// <reference types="${reference.fileName}">, which users may not have`,
          );
        }
      }
    }
  }
  return problems.sort();
}
