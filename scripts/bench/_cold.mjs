// Cold start: one fresh process that imports a library and verifies one signature, then prints
// one JSON line. Plain JavaScript, so that no runtime spends time on TypeScript for the entry.
// Spawned by scripts/bench/bench.ts many times:
//   <runtime> scripts/bench/_cold.mjs ours <module path or URL>       our verifySignature
//   <runtime> scripts/bench/_cold.mjs official <package or path>      the official SDK (Node)
//   <runtime> scripts/bench/_cold.mjs empty                           the runtime alone
// Times are performance.now() readings: milliseconds since the runtime's time origin.

const startMs = performance.now();
const args = globalThis.Deno ? globalThis.Deno.args : globalThis.process.argv.slice(2);
const [kind, target] = args;
const partnerId = "085";
const apiKey = "benchmark-api-key-0123456789abcdef";
const timestamp = "2024-05-01T12:00:00.000Z";
const signature = "0cM6NGENvifoMtQAY2rGwq4MUAsV+Gr/+o+VHgr20pE=";

let ok;
if (kind === "ours") {
  const { verifySignature } = await import(target);
  ok = await verifySignature({ partnerId, apiKey, timestamp, signature });
} else if (kind === "official") {
  const { createRequire } = await import("node:module");
  const require = createRequire(import.meta.url);
  const { Signature } = require(target);
  ok = new Signature(partnerId, apiKey).confirm_signature(timestamp, signature);
} else if (kind === "empty") {
  ok = true;
} else {
  throw new Error(`Unknown kind ${JSON.stringify(kind)}: expected ours, official or empty`);
}
const doneMs = performance.now();
if (ok !== true) throw new Error(`The signature did not verify (${kind} ${target})`);
console.log(JSON.stringify({ ok, startMs, doneMs }));
