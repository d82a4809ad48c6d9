// `deno task demo`: the whole job-status flow in one command, with no credentials and no
// network. A fake Smile ID and a callback endpoint (createCallbackHandler) run on 127.0.0.1
// (real HTTP); the client polls a job until it completes, the result is summarised, and the
// endpoint processes a genuine callback once, rejects a forged one, answers a redelivery as a
// duplicate, and, when a tampered delivery arrives before the genuine one, processes Smile ID's
// own result exactly once. Exits 0 only if every step behaved as expected.

import { createCallbackHandler, createClient, describeResult, type JobStatus } from "../mod.ts";
import { progressLine } from "../src/cli/_format.ts";
import { createFakeSmileId } from "../src/testing/mod.ts";

const PARTNER_ID = "085";
const API_KEY = `demo-key-${crypto.randomUUID()}`; // made up for this run; the fake accepts only this key
const USER_ID = "demo-user";
const JOB_ID = `demo-job-${Date.now()}`;
const REJECTED_JOB_ID = `${JOB_ID}-b`;
const COMPLETES_AFTER_MS = 3000;

const encoder = new TextEncoder();
const tty = Deno.stdout.isTerminal();
const results: { step: string; ok: boolean }[] = [];

function say(text = ""): void {
  console.log(text);
}

function heading(n: number, title: string, why: string): void {
  say();
  say(`${n}. ${title}`);
  say(`   ${why}`);
}

function check(step: string, ok: boolean, detail: string): void {
  results.push({ step, ok });
  say(`   ${ok ? "✓" : "✗"} ${detail}`);
}

// --- 1. The fake Smile ID -------------------------------------------------------------------

const fake = createFakeSmileId({ partnerId: PARTNER_ID, apiKey: API_KEY });
const smileServer = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  (request) => fake.fetch(request),
);
const smileBase = `http://127.0.0.1:${smileServer.addr.port}/v1`;

// --- The partner's side: one client, and a callback handler that uses it --------------------

const client = createClient({ partnerId: PARTNER_ID, apiKey: API_KEY, server: smileBase });

/** What the partner's code saved: one entry per result, from Smile ID's own status. */
const saved: { jobId: string; decision: string; ignored: string[] }[] = [];

/** The webhook a partner would deploy: verified, confirmed with Smile ID, processed once. */
const callbackHandler = createCallbackHandler({
  client,
  onCallback: (result) => {
    if (result.source !== "callback") return; // reconcileJobs' polled results: none in this demo
    const { payload, status, mismatches } = result;
    saved.push({
      jobId: payload.jobId ?? "?",
      decision: describeResult(status).decision,
      ignored: mismatches.map((m) => m.path),
    });
  },
});

const hookServer = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, callbackHandler);
const hookUrl = `http://127.0.0.1:${hookServer.addr.port}/smile-id/callback`;

async function deliver(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(hookUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

// --- The steps --------------------------------------------------------------------------------

async function run(): Promise<void> {
  say("Smile ID job status: the whole flow, offline");
  say("No credentials and no network: a fake Smile ID and your callback handler run on 127.0.0.1.");

  heading(1, "Start a fake Smile ID", "It checks partner id and signature like the real API and signs its answers.");
  say(`   listening on ${smileBase}, partner id ${PARTNER_ID}, a made-up API key`);
  const probe = await fetch(`${smileBase}/job_status`, {
    method: "POST",
    body: "{}",
    headers: { "content-type": "application/json" },
  });
  const probeBody = await probe.json();
  check(
    "fake server",
    probe.status === 400 && probeBody.code === "2213",
    `an unsigned request gets HTTP ${probe.status} with code ${probeBody.code} (missing parameters)`,
  );

  heading(
    2,
    "Submit a job",
    `(Simulated) the job is processing and completes about ${COMPLETES_AFTER_MS / 1000} s from now.`,
  );
  fake.addJob({
    userId: USER_ID,
    jobId: JOB_ID,
    completesAfterMs: COMPLETES_AFTER_MS,
    result: {
      ResultCode: "1012",
      ResultText: "ID Number Validated",
      ResultType: "ID Verification",
      SmileJobID: "0000004242",
      ConfidenceValue: "100",
      IsFinalResult: "true",
      IsMachineResult: "true",
      Actions: { Verify_ID_Number: "Verified", Return_Personal_Info: "Returned" },
      PartnerParams: { user_id: USER_ID, job_id: JOB_ID, job_type: 5 },
    },
  });
  say(`   user ${USER_ID}, job ${JOB_ID}`);

  heading(
    3,
    "Wait for the result: client.waitForJobStatus()",
    "Each check is a freshly signed POST /v1/job_status; each answer's signature is verified.",
  );
  const started = Date.now();
  let attempts = 0;
  let drawn = false;
  let status: JobStatus | undefined;
  try {
    status = await client.waitForJobStatus({ userId: USER_ID, jobId: JOB_ID }, {
      intervalMs: 500,
      maxIntervalMs: 1000,
      timeoutMs: 60_000, // a generous deadline for a 3 s job on a loaded machine
      onProgress: (progress) => {
        attempts = progress.attempt;
        if (tty) {
          Deno.stdout.writeSync(encoder.encode(`\r\x1b[2K   ${progressLine(progress)}`));
          drawn = true;
        } else say(`   ${progressLine(progress)}`);
      },
    });
  } finally {
    if (drawn) Deno.stdout.writeSync(encoder.encode("\n"));
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  check(
    "wait",
    status.jobComplete && attempts > 1 && Date.now() - started >= COMPLETES_AFTER_MS - 100,
    `complete after ${attempts} checks in ${seconds} s; nothing incomplete was returned as final`,
  );

  heading(4, "Read the decision: describeResult(status)", "Decisions come only from result codes Smile ID documents.");
  const summary = describeResult(status);
  say(`   decision    ${summary.decision}`);
  say(`   result      ${summary.code} ${summary.text}`);
  say(
    `   final       ${summary.final ? "yes" : "no"}${
      summary.machine ? " (machine result)" : ""
    }, confidence ${summary.confidence}`,
  );
  for (const [action, value] of Object.entries(summary.actions)) say(`   action      ${action}: ${value}`);
  check("decision", summary.decision === "approved" && summary.code === "1012", `the job is ${summary.decision}`);

  heading(
    5,
    "Receive the callback: createCallbackHandler() as your endpoint",
    `Smile ID posts the signed result to your URL (here ${hookUrl}); onCallback runs once per result.`,
  );
  const genuine = await fake.buildCallback(JOB_ID);
  const accepted = await deliver(genuine);
  check(
    "callback",
    accepted.status === 200 && accepted.json.code === "processed" && saved.length === 1 &&
      saved[0]?.decision === "approved",
    `HTTP ${accepted.status} ${accepted.json.code}: signature valid, confirmed with Smile ID, ` +
      `onCallback saved decision ${saved[0]?.decision}`,
  );

  heading(6, "A forged callback is rejected", "Someone without the API key posts a result with a made-up signature.");
  const forged = await deliver(await fake.buildCallback(JOB_ID, { badSignature: true }));
  check(
    "forged",
    forged.status === 401 && forged.json.code === "signature_mismatch",
    `HTTP ${forged.status} ${forged.json.code}`,
  );

  heading(7, "A redelivery is not processed twice", "The genuine callback from step 5, delivered again.");
  const replayed = await deliver(genuine);
  check(
    "replayed",
    replayed.status === 200 && replayed.json.code === "duplicate" && saved.length === 1,
    `HTTP ${replayed.status} ${replayed.json.code}: onCallback did not run again`,
  );

  heading(
    8,
    "A tampered delivery arriving first does not cost the genuine result",
    "The signature covers only the timestamp and partner id, not the body. A second job was rejected\n" +
      "   (1022 No Match); its callback is altered to claim 1012 and reaches you before the genuine one.\n" +
      "   The handler acts on the job status fetched from Smile ID, never on the body's claims.",
  );
  fake.addJob({
    userId: USER_ID,
    jobId: REJECTED_JOB_ID,
    jobSuccess: false,
    result: { ResultCode: "1022", ResultText: "No Match", Actions: { Verify_ID_Number: "Not Verified" } },
  });
  const genuineRejected = await fake.buildCallback(REJECTED_JOB_ID);
  const tampered = await deliver({ ...genuineRejected, ResultCode: "1012", ResultText: "ID Number Validated" });
  const entry = saved.find((s) => s.jobId === REJECTED_JOB_ID);
  check(
    "tampered",
    tampered.status === 200 && entry?.decision === "rejected" && entry.ignored.join() === "ResultCode,ResultText",
    `tampered first: HTTP ${tampered.status} ${tampered.json.code}; saved Smile ID's decision ${entry?.decision}, ` +
      `ignoring the body's ${entry?.ignored.join(", ") || "nothing"}`,
  );
  const late = await deliver(genuineRejected);
  const count = saved.filter((s) => s.jobId === REJECTED_JOB_ID).length;
  check(
    "genuine after tampered",
    late.status === 200 && late.json.code === "duplicate" && count === 1,
    `genuine second: HTTP ${late.status} ${late.json.code}; the result was processed exactly once`,
  );
}

let failure: unknown;
try {
  await run();
} catch (error) {
  failure = error;
} finally {
  await hookServer.shutdown();
  await smileServer.shutdown();
}

say();
const failed = results.filter((r) => !r.ok);
if (failure !== undefined) {
  say(`✗ The demo stopped: ${failure instanceof Error ? failure.message : String(failure)}`);
}
if (failure === undefined && failed.length === 0) {
  say(`All ${results.length} checks passed. The fake Smile ID answered ${fake.requests.length} requests.`);
  say(
    "Next: docs/sources.md shows the same flow against the Smile ID sandbox with SMILE_PARTNER_ID and SMILE_API_KEY.",
  );
  Deno.exit(0);
}
say(
  `${failed.length} of ${results.length} checks failed${
    failed.length ? `: ${failed.map((r) => r.step).join(", ")}` : ""
  }.`,
);
Deno.exit(1);
