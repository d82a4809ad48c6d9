// Child process of secrets_test.ts: prints the library's objects and errors with console.log,
// console.dir and "%o", then dies of an uncaught SmileIdError, so that the parent can search
// what the runtime itself printed for the API key (passed in SECRET_UNDER_TEST).

import process from "node:process";
import { createClient, createSigner, SmileIdError } from "../../mod.ts";
import { createFakeSmileId } from "../../src/testing/mod.ts";

const apiKey = process.env.SECRET_UNDER_TEST ?? "";
if (apiKey === "") throw new Error("SECRET_UNDER_TEST is not set");
const partnerId = "085";
const query = { userId: "user-1", jobId: "job-1" };
const signer = createSigner({ partnerId, apiKey });
const forger = createSigner({ partnerId, apiKey: "another-key" });

const answers: Record<string, () => Promise<Response>> = {
  http: () =>
    Promise.resolve(Response.json({ code: "2205", error: "You are not authorized to do that" }, { status: 401 })),
  signature_mismatch: async () => Response.json({ job_complete: true, ...(await forger.sign()) }),
  schema: async () => Response.json({ job_complete: "yes", ...(await signer.sign()) }),
  transport: () => Promise.reject(new TypeError("fetch failed", { cause: new Error("read ECONNRESET") })),
  success: async () => Response.json({ job_complete: true, result: { ResultCode: "1012" }, ...(await signer.sign()) }),
};

const printed: unknown[] = [];
for (const [name, answer] of Object.entries(answers)) {
  const client = createClient({ partnerId, apiKey, server: "http://127.0.0.1:9/v1", fetch: answer });
  try {
    printed.push(await client.getJobStatus(query));
  } catch (error) {
    if (!(error instanceof SmileIdError) || error.code !== name) throw new Error(`unexpected outcome for ${name}`);
    printed.push(error);
  }
}
const never = createClient({
  partnerId,
  apiKey,
  server: "http://127.0.0.1:9/v1",
  timeoutMs: 50,
  fetch: () => new Promise<Response>(() => {}),
});
printed.push(await never.waitForJobStatus(query, { timeoutMs: 120 }).catch((error) => error));
try {
  createSigner({ partnerId, apiKey: { apiKey } as unknown as string });
} catch (error) {
  printed.push(error);
}
const fake = createFakeSmileId({ partnerId, apiKey });
fake.addJob(query);
printed.push(
  await createClient({ partnerId, apiKey, fetch: fake.fetch }).verifyCallback(await fake.buildCallback("job-1")),
);
printed.push(createClient({ partnerId, apiKey }), signer, fake);

for (const value of printed) {
  console.log(value);
  console.log("%o", value);
  console.dir(value, { depth: null, showHidden: true });
  console.log(String(value), JSON.stringify(value));
}
console.log("console-child-done");
throw new SmileIdError("signature_mismatch", "uncaught test error", { cause: printed[1] });
