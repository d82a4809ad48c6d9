// Cold start in workerd, through miniflare (run with Node 22 by scripts/bench/bench.ts):
//   node scripts/bench/_workerd.mjs '{"workers":{"empty":"<bundle>","ours":"<bundle>"},"reps":N}'
// Each repetition starts a new workerd process with one worker and sends it one request. Inside
// workerd, clocks stand still while a request runs, so the times are taken here, in the host:
//   readyMs: new Miniflare() until `ready` (workerd spawned, worker script loaded and run);
//   firstMs: the first request, from dispatchFetch() to the response text ("verified");
//   totalMs: readyMs + firstMs, a fresh process to the first verified signature.
// Variants are interleaved so that machine load drifts over all of them alike.

import { readFileSync } from "node:fs";
import { Miniflare } from "miniflare";

const { workers, reps } = JSON.parse(process.argv[2]);
const scripts = Object.fromEntries(Object.entries(workers).map(([name, path]) => [name, readFileSync(path, "utf8")]));
const results = Object.fromEntries(Object.keys(scripts).map((name) => [name, []]));

async function once(script) {
  const t0 = performance.now();
  const mf = new Miniflare({ modules: true, script, compatibilityDate: "2026-04-01" });
  try {
    await mf.ready;
    const t1 = performance.now();
    const response = await mf.dispatchFetch("http://localhost/");
    const text = await response.text();
    const t2 = performance.now();
    if (text !== "verified") throw new Error(`The worker answered ${JSON.stringify(text)}, expected "verified"`);
    return { readyMs: t1 - t0, firstMs: t2 - t1, totalMs: t2 - t0 };
  } finally {
    await mf.dispose();
  }
}

// One untimed start of each, so that both pay the same one-time costs (disk cache, miniflare's
// lazy modules) before the timed repetitions.
for (const script of Object.values(scripts)) await once(script);
for (let i = 0; i < reps; i++) {
  for (const [name, script] of Object.entries(scripts)) results[name].push(await once(script));
}
process.stdout.write(JSON.stringify(results) + "\n");
