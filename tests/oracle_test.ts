// A limit SECURITY.md states, run the way it would be used: the callback endpoint's answers tell
// anyone holding one genuine pair, of any age, which user/job pairs exist at Smile ID and whether
// they were processed. Portable: runs in every runtime of the suite.

import { test } from "node:test";
import { assertEquals } from "@std/assert";
import { createCallbackHandler, createClient } from "../mod.ts";
import { createFakeSmileId, createTestClock } from "../src/testing/mod.ts";

const partnerId = "085";
const apiKey = "oracle-test-key-6b2e";

test("createCallbackHandler() answers tell a holder of one old pair which jobs exist and which were processed", async () => {
  const clock = createTestClock("2024-05-01T12:00:00.000Z");
  const fake = createFakeSmileId({ partnerId, apiKey, clock });
  fake.addJob({ userId: "user-1", jobId: "job-1" });
  fake.addJob({ userId: "user-2", jobId: "job-2" });
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch, clock });
  const processed: string[] = [];
  const handler = createCallbackHandler({
    client,
    onCallback: ({ status }) =>
      void processed.push(typeof status.result === "object" ? status.result.partnerParams?.jobId ?? "" : ""),
  });
  const post = async (body: unknown) => {
    const response = await handler(
      new Request("https://partner.example/cb", { method: "POST", body: JSON.stringify(body) }),
    );
    return [response.status, (await response.json()).code];
  };

  // job-1's genuine callback is delivered and processed; a copy of it is all the prober holds.
  const captured = await fake.buildCallback("job-1");
  assertEquals(await post(captured), [200, "processed"]);
  const pair = { timestamp: captured.timestamp, signature: captured.signature };
  clock.advance(86_400_000); // a day later: outside every freshness window

  // Made-up bodies under that pair, each naming a user and job to ask about.
  const probe = (userId: string, jobId: string) =>
    post({ ResultCode: "1012", PartnerParams: { user_id: userId, job_id: jobId }, ...pair });
  assertEquals(await probe("user-1", "job-1"), [200, "duplicate"], "exists, already processed");
  assertEquals(await probe("user-2", "job-2"), [200, "processed"], "exists, not processed before: now it is");
  assertEquals(await probe("user-3", "job-3"), [503, "confirm_failed"], "does not exist (Smile ID answers 2210)");
  assertEquals(processed, ["job-1", "job-2"], "only Smile ID's own results ran, never the made-up bodies");
});
