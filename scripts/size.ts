// Size budget: bundles entry points of mod.ts with esbuild, minified for the browser, prints
// their minified and gzip sizes, and fails when one grows past its ceiling. Deterministic:
// same sources, same esbuild, same gzip level, same bytes.
//
// Two numbers per entry:
// - `target`: the size issue 4 asked for (3 kB for the verification path, 8 kB for the
//   client). Both are missed today and printed as MISSED with the gap: valibot alone, with the
//   schemas the callback must validate, is ~2.7 kB gzip, so the verification path cannot reach
//   3 kB while it validates with the same schemas as the core. BENCHMARKS.md has the breakdown.
// - `ceiling`: what CI enforces, the size measured when the gap was recorded plus ~3%, so that
//   any growth is a deliberate, reviewed change of this file. Last raised with the move to the
//   standard library and the callback endpoint: std's base64 (`_common64` carries both
//   alphabets, encoding and decoding) is ~2.3 kB minified where the btoa/atob helper was 0.3 kB,
//   `delay` 0.7 kB; verifyCallback's confirm (the two-sided mismatch walk, the SHA-256 result
//   key) took callback.ts from 4.2 to 6.9 kB; answers bound to their request and lossless
//   parsing took response.ts from 1.8 to 3.4 kB. Measured then: 2,265, 8,055 and 12,638 B gzip.
//
//   deno run -A scripts/size.ts
import * as esbuild from "esbuild";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

interface Entry {
  readonly label: string;
  readonly source: string;
  /** The size asked for, in gzip bytes (1 kB = 1000 bytes). */
  readonly target?: number;
  /** The size CI enforces, in gzip bytes. */
  readonly ceiling?: number;
}

const ENTRIES: readonly Entry[] = [
  { label: "verifySignature alone", source: `export { verifySignature } from "./mod.ts";`, ceiling: 2_330 },
  {
    label: "verifySignature + verifyCallback",
    source: `export { verifyCallback, verifySignature } from "./mod.ts";`,
    target: 3_000,
    ceiling: 8_300,
  },
  {
    label: "createClient (the whole client)",
    source: `export { createClient } from "./mod.ts";`,
    target: 8_000,
    ceiling: 13_000,
  },
  { label: "everything in mod.ts", source: `export * from "./mod.ts";` },
];

async function measure(source: string): Promise<{ minified: number; gzip: number }> {
  const result = await esbuild.build({
    stdin: { contents: source, resolveDir: ROOT, sourcefile: "size-entry.ts", loader: "ts" },
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    legalComments: "none",
    logLevel: "silent",
  });
  const bytes = result.outputFiles[0]!.contents;
  return { minified: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

const n = (value: number) => value.toLocaleString("en-US").padStart(7);
let passed = 0;
let failed = 0;
console.log(`bundle sizes (esbuild ${esbuild.version}, minified for the browser, ES2022; gzip -9):`);
try {
  for (const entry of ENTRIES) {
    const { minified, gzip } = await measure(entry.source);
    const notes: string[] = [];
    if (entry.target !== undefined) {
      notes.push(
        gzip <= entry.target
          ? `target ${n(entry.target)} B: met`
          : `target ${n(entry.target)} B: MISSED by ${n(gzip - entry.target)} B`,
      );
    }
    if (entry.ceiling !== undefined) {
      const within = gzip <= entry.ceiling;
      if (within) passed++;
      else failed++;
      notes.push(`ceiling ${n(entry.ceiling)} B: ${within ? "ok" : "EXCEEDED"}`);
    }
    console.log(`  ${entry.label.padEnd(34)} ${n(minified)} B min ${n(gzip)} B gzip   ${notes.join("; ")}`);
  }
} finally {
  await esbuild.stop();
}
console.log(`size: ${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);
