// A deno lint plugin (deno.json `lint.plugins`) with the one guard of the portable core that
// neither tsc nor deno's own rules give: what it may import. mod.ts and everything in src/ but
// the CLI (src/cli.ts, src/cli/), src/node.ts and src/testing/node.ts may import only relative
// modules, valibot and the portable std modules below, and only statically. The other half of
// the guard, no host globals, is the type check of scripts/tsconfig.core.json (lib DOM, no Node
// or Deno types) and deno lint's no-process-global and no-node-globals.

/** Bare specifiers the core may import. */
const ALLOWED: ReadonlySet<string> = new Set(["valibot", "@std/encoding/base64", "@std/async/delay"]);
/** Files under src/ that may use host APIs (and everything in src/cli/). */
const HOST: ReadonlySet<string> = new Set(["src/cli.ts", "src/node.ts", "src/testing/node.ts"]);
const ROOT = new URL("../", import.meta.url).pathname;

/** Whether `filename` (absolute) is a file of the portable core. */
function isCore(filename: string): boolean {
  if (!filename.startsWith(ROOT)) return false;
  const path = filename.slice(ROOT.length);
  return path === "mod.ts" || (path.startsWith("src/") && !HOST.has(path) && !path.startsWith("src/cli/"));
}

const plugin: Deno.lint.Plugin = {
  name: "core",
  rules: {
    "portable-imports": {
      create(context) {
        if (!isCore(context.filename)) return {};
        const check = (node: Deno.lint.Node, specifier: unknown) => {
          if (typeof specifier !== "string" || specifier.startsWith("./") || specifier.startsWith("../")) return;
          if (ALLOWED.has(specifier)) return;
          context.report({
            node,
            message: `The portable core imports ${JSON.stringify(specifier)}; it may import only relative modules, ` +
              `${[...ALLOWED].join(", ")}`,
            hint: "Host-specific code belongs in src/node.ts, src/cli/ or a store guard's own entry point.",
          });
        };
        return {
          ImportDeclaration: (node) => check(node, node.source.value),
          ExportAllDeclaration: (node) => check(node, node.source.value),
          ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
          TSImportType: (node) => {
            const literal = node.argument.type === "TSLiteralType" ? node.argument.literal : undefined;
            check(node, literal && "value" in literal ? literal.value : undefined);
          },
          ImportExpression: (node) =>
            context.report({ node, message: "The portable core imports statically; it has no dynamic import()" }),
        };
      },
    },
  },
};

export default plugin;
