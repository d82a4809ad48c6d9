// The workerd cold-start worker (bundled by scripts/bench/bench.ts, run by scripts/bench/_workerd.mjs):
// its first request verifies one signature with our verifySignature. Same inputs as
// scripts/bench/_suite.ts and scripts/bench/_cold.mjs.

import { verifySignature } from "../../mod.ts";

const credentials = { partnerId: "085", apiKey: "benchmark-api-key-0123456789abcdef" };
const signed = { timestamp: "2024-05-01T12:00:00.000Z", signature: "0cM6NGENvifoMtQAY2rGwq4MUAsV+Gr/+o+VHgr20pE=" };

export default {
  async fetch(): Promise<Response> {
    const ok = await verifySignature({ ...credentials, ...signed });
    return new Response(ok ? "verified" : "failed");
  },
};
