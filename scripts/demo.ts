// `deno task demo`: the whole job-status flow in one command, with no credentials and no
// network. A fake Smile ID and a callback handler run on 127.0.0.1 (real HTTP); the client
// polls a job until it completes, the result is summarised, and the handler accepts a genuine
// callback while rejecting a forged, a replayed and a tampered one. Exits 0 only if every step
// behaved as expected.

import { createClient, describeResult, type JobStatus, type PollProgress, SmileIdError } from "../mod.ts";
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

function progressLine(p: PollProgress): string {
  const state = p.error ? `error ${p.error.code}` : p.status?.jobComplete ? "complete" : "not complete yet";
  const next = p.nextDelayMs === undefined ? "" : `, next check in ${(p.nextDelayMs / 1000).toFixed(1)} s`;
  return `   check ${p.attempt} at ${(p.elapsedMs / 1000).toFixed(1)} s: ${state}${next}`;
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

const CALLBACK_STATUS: Record<string, number> = {
  missing_signature: 401,
  signature_mismatch: 401,
  invalid_timestamp: 401,
  stale_timestamp: 401,
  future_timestamp: 401,
  replayed: 409,
  schema: 400,
  unexpected_response: 400,
  payload_too_large: 413,
};

/** The webhook a partner would deploy: verify, confirm against Smile ID, then act. */
async function callbackHandler(request: Request): Promise<Response> {
  try {
    const callback = await client.verifyCallback(request, { confirm: true });
    if (callback.mismatches && callback.mismatches.length > 0) {
      return Response.json({ accepted: false, code: "body_mismatch", fields: callback.mismatches }, { status: 422 });
    }
    const summary = describeResult(callback.status ?? callback.payload.result);
    return Response.json({ accepted: true, jobId: callback.payload.jobId, decision: summary.decision });
  } catch (error) {
    if (error instanceof SmileIdError && error.code in CALLBACK_STATUS) {
      return Response.json({ accepted: false, code: error.code, message: error.message }, {
        status: CALLBACK_STATUS[error.code] ?? 500,
      });
    }
    return Response.json({ accepted: false, code: "internal" }, { status: 500 });
  }
}

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
      timeoutMs: 15_000,
      onProgress: (progress) => {
        attempts = progress.attempt;
        if (tty) {
          Deno.stdout.writeSync(encoder.encode(`\r\x1b[2K${progressLine(progress)}`));
          drawn = true;
        } else say(progressLine(progress));
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
    "Receive the callback: verifyCallback() in your handler",
    `Smile ID posts the signed result to your URL (here ${hookUrl}).`,
  );
  const genuine = await fake.buildCallback(JOB_ID);
  const accepted = await deliver(genuine);
  check(
    "callback",
    accepted.status === 200 && accepted.json.accepted === true && accepted.json.decision === "approved",
    `HTTP ${accepted.status}: signature valid, timestamp fresh, first use, body matches the job status`,
  );

  heading(6, "A forged callback is rejected", "Someone without the API key posts a result with a made-up signature.");
  const forged = await deliver(await fake.buildCallback(JOB_ID, { badSignature: true }));
  check(
    "forged",
    forged.status === 401 && forged.json.code === "signature_mismatch",
    `HTTP ${forged.status} ${forged.json.code}`,
  );

  heading(7, "A replayed callback is rejected", "The genuine callback from step 5, captured and sent again.");
  const replayed = await deliver(genuine);
  check(
    "replayed",
    replayed.status === 409 && replayed.json.code === "replayed",
    `HTTP ${replayed.status} ${replayed.json.code}`,
  );

  heading(
    8,
    "A tampered body under a genuine signature is caught",
    "The signature covers only the timestamp and partner id, not the body. A second job was rejected\n" +
      "   (1022 No Match); a callback for it is altered to claim 1012 before it reaches you. confirm: true\n" +
      "   compares the body with the job status fetched from Smile ID.",
  );
  fake.addJob({
    userId: USER_ID,
    jobId: REJECTED_JOB_ID,
    jobSuccess: false,
    result: { ResultCode: "1022", ResultText: "No Match", Actions: { Verify_ID_Number: "Not Verified" } },
  });
  const tampered = await deliver(
    await fake.buildCallback(REJECTED_JOB_ID, {
      overrides: { ResultCode: "1012", ResultText: "ID Number Validated" },
    }),
  );
  const fields = Array.isArray(tampered.json.fields) ? tampered.json.fields.join(", ") : "";
  check(
    "tampered",
    tampered.status === 422 && fields.includes("ResultCode"),
    `HTTP ${tampered.status}: the body differs from Smile ID's job status in ${fields || "nothing"}`,
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
  say("Next: the README shows the same flow against the Smile ID sandbox with SMILE_PARTNER_ID and SMILE_API_KEY.");
  Deno.exit(0);
}
say(
  `${failed.length} of ${results.length} checks failed${
    failed.length ? `: ${failed.map((r) => r.step).join(", ")}` : ""
  }.`,
);
Deno.exit(1);
