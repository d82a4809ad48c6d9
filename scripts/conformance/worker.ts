// The conformance Worker's fetch handler: runs every registered test and answers the report
// as JSON. Bundled (with the portable suite) by scripts/conformance/workerd.ts; no nodejs_compat flag.
import { runTests } from "./node_test.ts";
import { conformanceEnv } from "./env.ts";

export default {
  async fetch(_request: Request, env: Record<string, unknown>): Promise<Response> {
    conformanceEnv.fakeServer = String(env.FAKE_SMILE_ID ?? "");
    conformanceEnv.runtime = "workerd";
    return Response.json(await runTests("workerd"));
  },
};
