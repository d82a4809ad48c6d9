// Guards that keep the portable core honest: mod.ts and everything in src/ except src/cli.ts,
// src/node.ts and src/testing/node.ts may import only relative modules, valibot and portable std modules, and may not touch Node's or Deno's globals
// (Buffer, process, Deno, require, ...), whether by name or through globalThis. Comments and
// strings are not code, so the TypeScript parser walks the files rather than a regex.
// The other half of the guard, a type check with lib DOM + ES2022 and no Node types, is
// scripts/tsconfig.core.json. Prints one line per finding; exits non-zero if any.
//
//   deno run -A scripts/check_core.ts
import ts from "typescript";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** Files that may use host APIs (and everything in src/cli/, the command line's modules). */
const EXEMPT = new Set(["src/cli.ts", "src/node.ts", "src/testing/node.ts"]);
/** Bare specifiers the core may import. */
const ALLOWED_PACKAGES = new Set(["valibot", "@std/encoding/base64", "@std/async/delay"]);
/** Host-only globals the core must not name. */
const HOST_GLOBALS = new Set([
  "Buffer",
  "process",
  "Deno",
  "Bun",
  "require",
  "module",
  "__dirname",
  "__filename",
  "global",
  "setImmediate",
  "clearImmediate",
]);
const GLOBAL_OBJECTS = new Set(["globalThis", "self", "window"]);

function coreFiles(): string[] {
  const files = ["mod.ts"];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(ROOT, dir)).sort()) {
      const path = `${dir}/${name}`;
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (/\.(ts|tsx|mts|js|mjs)$/.test(name) && !EXEMPT.has(path) && !path.startsWith("src/cli/")) {
        files.push(path);
      }
    }
  };
  walk("src");
  return files;
}

/** Returns the findings for one file, as `path:line:col message`. */
export function checkSource(path: string, source: string): string[] {
  const file = ts.createSourceFile(path, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const findings: string[] = [];
  const report = (node: ts.Node, message: string) => {
    const { line, character } = file.getLineAndCharacterOfPosition(node.getStart(file));
    findings.push(`${path}:${line + 1}:${character + 1} ${message}`);
  };
  const checkSpecifier = (node: ts.Node, specifier: string) => {
    if (specifier.startsWith("./") || specifier.startsWith("../")) return;
    if (ALLOWED_PACKAGES.has(specifier)) return;
    report(node, `imports ${JSON.stringify(specifier)}; the core may import only relative modules and valibot`);
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) checkSpecifier(node.moduleSpecifier, node.moduleSpecifier.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) checkSpecifier(literal, literal.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      report(node, "uses a dynamic import(); the core imports statically");
    } else if (ts.isIdentifier(node) && HOST_GLOBALS.has(node.text) && !isPropertyName(node)) {
      report(node, `uses ${node.text}, which only some runtimes have; use web-standard APIs`);
    } else if (
      ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) &&
      GLOBAL_OBJECTS.has(node.expression.text) && HOST_GLOBALS.has(node.name.text)
    ) {
      report(node, `reaches ${node.name.text} through ${node.expression.text}; use web-standard APIs`);
    } else if (
      ts.isElementAccessExpression(node) && ts.isIdentifier(node.expression) &&
      GLOBAL_OBJECTS.has(node.expression.text) && ts.isStringLiteralLike(node.argumentExpression) &&
      HOST_GLOBALS.has(node.argumentExpression.text)
    ) {
      report(node, `reaches ${node.argumentExpression.text} through ${node.expression.text}; use web-standard APIs`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return findings;
}

/** Whether an identifier is a property name (`x.process`, `{ process: 1 }`), not a reference. */
function isPropertyName(node: ts.Identifier): boolean {
  const parent = node.parent;
  if ((ts.isPropertyAccessExpression(parent) || ts.isQualifiedName(parent)) && node !== parent.getChildAt(0)) {
    return true;
  }
  return (ts.isPropertyAssignment(parent) || ts.isPropertySignature(parent) || ts.isPropertyDeclaration(parent) ||
    ts.isMethodDeclaration(parent) || ts.isMethodSignature(parent) || ts.isGetAccessor(parent) ||
    ts.isSetAccessor(parent) || ts.isEnumMember(parent)) && parent.name === node;
}

if (import.meta.main) {
  const files = coreFiles();
  const findings = files.flatMap((path) => checkSource(path, readFileSync(join(ROOT, path), "utf8")));
  for (const finding of findings) console.log(finding);
  const rel = relative(Deno.cwd(), ROOT) || ".";
  console.log(
    findings.length === 0
      ? `core guards: ${files.length} files in ${rel} use web-standard APIs only`
      : `core guards: ${findings.length} problems in ${files.length} files`,
  );
  Deno.exit(findings.length === 0 ? 0 : 1);
}
