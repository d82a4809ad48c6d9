// A fake Smile ID in a process of its own, for the callback handler benchmark's confirm cases
// (scripts/bench/_handler.ts): it creates every job it is asked about, complete at once, and
// serves over HTTP on 127.0.0.1. Prints one JSON line `{"url": "http://127.0.0.1:<port>/v1"}`
// on stdout, then serves until its stdin closes.
//
//   node scripts/bench/_fake.ts

import process from "node:process";
import { createFakeSmileId } from "../../src/testing/mod.ts";
import { serveFetch } from "../../src/testing/node.ts";
import { API_KEY, PARTNER_ID } from "./_suite.ts";

let served = 0;
const fake = createFakeSmileId({
  partnerId: PARTNER_ID,
  apiKey: API_KEY,
  autoCreateJobs: { completesAfterMs: 0 },
  // The fake keeps a record of every request; a long run would hold them all.
  onRequest: () => void (++served % 1000 === 0 && fake.clearRequests()),
});
const server = await serveFetch(fake.fetch, { hostname: "127.0.0.1", port: 0 });
process.stdout.write(`${JSON.stringify({ url: `${server.url}/v1` })}\n`);
process.stdin.resume();
process.stdin.on("end", () => void server.close().then(() => process.exit(0)));
