// The documentation examples as npm users run them. The sources' examples assert with
// `@std/assert` (which `deno test --doc` runs) and import the JSR name; npm users have neither.
// `exampleForNpm` edits an example's syntax tree, found by TypeScript's parser: the JSR name
// becomes the npm name, and each `@std/assert` function becomes its `node:assert/strict`
// counterpart through one fixed map. An assertion the map does not know fails the build, with
// what to write instead. `commentExamplesForNpm` applies it to every ```ts block in a file's
// comments (the JSDoc of the package's `.d.ts` files); scripts/npm/markdown.ts applies it to
// the README's code blocks.
import ts from "typescript";

/** The names the rewrite needs. */
export interface ExampleNames {
  /** The JSR package the examples import, as in deno.json: `@smile-id-kit/job-status`. */
  readonly jsrName: string;
  /** The npm package: `smile-id-job-status`. */
  readonly npmName: string;
}

/** `@std/assert` functions that `node:assert/strict` has under another name, arguments alike. */
const RENAMED: Readonly<Record<string, string>> = {
  assert: "ok",
  assertEquals: "deepStrictEqual",
  assertNotEquals: "notDeepStrictEqual",
  assertStrictEquals: "strictEqual",
  assertNotStrictEquals: "notStrictEqual",
  assertMatch: "match",
  assertNotMatch: "doesNotMatch",
  assertRejects: "rejects",
  assertThrows: "throws",
  fail: "fail",
};

/** `@std/assert` functions written as an `ok(…)` of an expression: their arguments' text in, the expression out. */
const AS_OK: Readonly<Record<string, (args: readonly string[]) => string>> = {
  assertFalse: ([value]) => `!(${value})`,
  assertExists: ([value]) => `${value} !== undefined && ${value} !== null`,
  assertInstanceOf: ([value, type]) => `${value} instanceof ${type}`,
  assertStringIncludes: ([text, part]) => `${text}.includes(${part})`,
  assertGreater: ([a, b]) => `${a} > ${b}`,
  assertGreaterOrEqual: ([a, b]) => `${a} >= ${b}`,
  assertLess: ([a, b]) => `${a} < ${b}`,
  assertLessOrEqual: ([a, b]) => `${a} <= ${b}`,
};

/** Arguments each rewritten function takes at most (a last, optional one is the failure message). */
const AS_OK_ARITY: Readonly<Record<string, number>> = {
  assertFalse: 1,
  assertExists: 1,
  assertInstanceOf: 2,
  assertStringIncludes: 2,
  assertGreater: 2,
  assertGreaterOrEqual: 2,
  assertLess: 2,
  assertLessOrEqual: 2,
};

/** Thrown for an example the map cannot carry over; the message says what to write instead. */
export class ExampleError extends Error {
  override name = "ExampleError";
}

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** `specifier` with the JSR name (or one of its subpaths) replaced by the npm name, or undefined if it names neither. */
function npmSpecifier(specifier: string, names: ExampleNames): string | undefined {
  if (specifier === names.jsrName) return names.npmName;
  if (specifier.startsWith(`${names.jsrName}/`)) return names.npmName + specifier.slice(names.jsrName.length);
  return undefined;
}

/**
 * `code`, an example in TypeScript, as npm users run it: imports of the JSR package name the npm
 * package, and `@std/assert` is `node:assert/strict`. Everything else is left as written.
 * Throws {@linkcode ExampleError} for an `@std/assert` function or form the map does not cover.
 */
export function exampleForNpm(code: string, names: ExampleNames): string {
  const file = ts.createSourceFile("example.ts", code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const edits: Edit[] = [];
  const text = (node: ts.Node) => node.getText(file);
  const replace = (node: ts.Node, replacement: string) =>
    edits.push({ start: node.getStart(file), end: node.getEnd(), text: replacement });
  const where = (node: ts.Node) => {
    const { line } = file.getLineAndCharacterOfPosition(node.getStart(file));
    return `line ${line + 1} of the example (${JSON.stringify(code.split("\n")[line]?.trim())})`;
  };

  // Local name → @std/assert name, for every function the example imports from @std/assert.
  const asserts = new Map<string, string>();
  const assertImports: ts.ImportDeclaration[] = [];
  const renameSpecifier = (literal: ts.Expression | undefined) => {
    if (literal === undefined || !ts.isStringLiteralLike(literal)) return;
    const npm = npmSpecifier(literal.text, names);
    const quote = literal.getText(file)[0]!;
    if (npm !== undefined) replace(literal, quote + npm + quote);
  };
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      if (statement.moduleSpecifier.text === "@std/assert") {
        const bindings = statement.importClause?.namedBindings;
        if (!bindings || !ts.isNamedImports(bindings) || statement.importClause?.name) {
          throw new ExampleError(`${where(statement)}: import the @std/assert functions by name`);
        }
        for (const element of bindings.elements) {
          asserts.set(element.name.text, (element.propertyName ?? element.name).text);
        }
        assertImports.push(statement);
      }
    }
  }

  // Names node:assert/strict must provide, in the order first used.
  const needed = new Set<string>();
  const used = new Set<string>(); // identifiers the example already uses, so a new one does not clash
  const collect = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) used.add(node.text);
    ts.forEachChild(node, collect);
  };
  collect(file);
  const original = new Set(used);
  const fresh = (base: string) => {
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}${i}`;
    used.add(name);
    return name;
  };

  /** The statement of `node` whose parent is a block or the file, where a line can go before it. */
  const statementOf = (node: ts.Node): ts.Statement => {
    let current: ts.Node = node;
    while (!(ts.isBlock(current.parent) || ts.isSourceFile(current.parent))) current = current.parent;
    return current as ts.Statement;
  };
  const hoisted = new Map<ts.Statement, string[]>();

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      renameSpecifier(node.moduleSpecifier);
      return;
    }
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) renameSpecifier(node.argument.literal);
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      renameSpecifier(node.arguments[0]);
    }
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && asserts.has(node.expression.text)) {
      const name = asserts.get(node.expression.text)!;
      rewriteCall(node, name);
      // An argument may hold an assertion too (`assertEquals(assertThrows(…).code, …)`), unless
      // the whole call was rewritten from its arguments' text.
      for (const argument of node.arguments) {
        if (name in AS_OK && containsAssert(argument)) {
          throw new ExampleError(`${where(argument)}: an assertion inside the arguments of ${name}`);
        }
        visit(argument);
      }
      return;
    }
    if (ts.isIdentifier(node) && asserts.has(node.text) && !ts.isImportSpecifier(node.parent)) {
      throw new ExampleError(`${where(node)}: ${node.text} is used other than by calling it`);
    }
    ts.forEachChild(node, visit);
  };
  const containsAssert = (node: ts.Node): boolean =>
    (ts.isIdentifier(node) && asserts.has(node.text)) || (ts.forEachChild(node, containsAssert) ?? false);

  const rewriteCall = (call: ts.CallExpression, name: string) => {
    const args = call.arguments.map(text);
    if (name in AS_OK) {
      if (args.length > AS_OK_ARITY[name]! + 1) throw new ExampleError(`${where(call)}: too many arguments to ${name}`);
      const message = args[AS_OK_ARITY[name]!];
      needed.add("ok");
      replace(call, `ok(${AS_OK[name]!(args)}${message === undefined ? "" : `, ${message}`})`);
      return;
    }
    const renamed = RENAMED[name];
    if (renamed === undefined) {
      throw new ExampleError(
        `${where(call)}: ${name} has no counterpart in node:assert/strict in scripts/npm/examples.ts; ` +
          "use one that has, or add it to the map",
      );
    }
    if (name !== "assertRejects" && name !== "assertThrows") {
      needed.add(renamed);
      replace(call.expression, renamed);
      return;
    }
    // std's assertRejects(fn, ErrorClass) and assertThrows return the error; node's return nothing,
    // and their third argument is a message where std's is text the error message includes.
    if (args.length > 2) {
      throw new ExampleError(`${where(call)}: ${name} with a message to include; check error.message after it`);
    }
    needed.add(renamed);
    const awaited = ts.isAwaitExpression(call.parent) ? call.parent : undefined;
    const value: ts.Node = awaited ?? call;
    if (ts.isExpressionStatement(value.parent)) {
      replace(call.expression, renamed); // the error is not used
      return;
    }
    // The error is used: bind it with the validation function node's assertion calls.
    const [fn, type] = args;
    const declaration = ts.isVariableDeclaration(value.parent) && value.parent.initializer === value &&
        ts.isIdentifier(value.parent.name) && ts.isVariableDeclarationList(value.parent.parent) &&
        value.parent.parent.declarations.length === 1
      ? value.parent
      : undefined;
    const variable = declaration ? (declaration.name as ts.Identifier).text : fresh("thrown");
    const check = type === undefined ? "true" : `(${variable} = caught) instanceof ${type}`;
    const validate = type === undefined ? `(caught) => ((${variable} = caught), true)` : `(caught) => ${check}`;
    const statement = `${awaited ? "await " : ""}${renamed}(${fn}, ${validate});`;
    if (declaration) {
      replace(statementOf(declaration), `let ${variable};\n${indentOf(statementOf(declaration))}${statement}`);
    } else {
      const at = statementOf(call);
      hoisted.set(at, [...(hoisted.get(at) ?? []), `let ${variable};`, statement]);
      replace(value, variable);
    }
  };
  const indentOf = (node: ts.Node) => {
    const start = node.getStart(file);
    const lineStart = code.lastIndexOf("\n", start - 1) + 1;
    return code.slice(lineStart, start);
  };

  for (const statement of file.statements) visit(statement);
  for (const [statement, lines] of hoisted) {
    const indent = indentOf(statement);
    edits.push({
      start: statement.getStart(file),
      end: statement.getStart(file),
      text: lines.join(`\n${indent}`) + `\n${indent}`,
    });
  }
  const [first, ...others] = assertImports;
  if (first) {
    const names = [...needed].sort();
    const clash = names.filter((name) => original.has(name) && !asserts.has(name));
    if (clash.length > 0) {
      throw new ExampleError(
        `the example names ${clash.join(", ")} itself, which node:assert/strict's import would shadow`,
      );
    }
    replace(first, names.length > 0 ? `import { ${names.join(", ")} } from "node:assert/strict";` : "");
    for (const other of others) replace(other, "");
  }
  return applyEdits(code, edits);
}

function applyEdits(code: string, edits: readonly Edit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start || b.end - a.end);
  let out = code;
  let limit = Infinity;
  for (const edit of sorted) {
    if (edit.end > limit) throw new Error(`overlapping edits at ${edit.start}`);
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
    limit = edit.start;
  }
  return out;
}

/** A fenced ```ts (or ```typescript, ```js) block's language, or undefined for any other fence. */
export function isExampleFence(info: string): boolean {
  const language = info.trim().split(/\s+/)[0];
  return language === "ts" || language === "typescript" || language === "js" || language === "javascript";
}

/**
 * `source` (a `.d.ts` or `.ts` file) with every ```ts example in its comments carried over by
 * {@linkcode exampleForNpm}. The comments are found by TypeScript's scanner; an example's lines
 * keep their ` * ` margin. An example marked `ignore` is carried over too.
 */
export function commentExamplesForNpm(source: string, names: ExampleNames, fileName = "file.ts"): string {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, source);
  const edits: Edit[] = [];
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (token !== ts.SyntaxKind.MultiLineCommentTrivia) continue;
    const start = scanner.getTokenStart();
    const comment = scanner.getTokenText();
    const changed = commentForNpm(comment, names, fileName);
    if (changed !== comment) edits.push({ start, end: start + comment.length, text: changed });
  }
  return applyEdits(source, edits);
}

/** One `/** … *\/` comment with its examples carried over. */
function commentForNpm(comment: string, names: ExampleNames, fileName: string): string {
  const lines = comment.split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*\*\s?)```(.*)$/.exec(lines[i]!);
    if (!open || !isExampleFence(open[2]!)) {
      out.push(lines[i]!);
      continue;
    }
    const margin = open[1]!;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*\*\s?```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.replace(/^\s*\*\s?/, ""));
    if (j === lines.length) throw new ExampleError(`${fileName}: an example in a comment has no closing fence`);
    let example: string;
    try {
      example = exampleForNpm(body.join("\n"), names);
    } catch (error) {
      throw error instanceof ExampleError ? new ExampleError(`${fileName}: ${error.message}`) : error;
    }
    out.push(
      lines[i]!,
      ...example.split("\n").map((line) => (line === "" ? margin.trimEnd() : margin + line)),
      lines[j]!,
    );
    i = j;
  }
  return out.join("\n");
}
