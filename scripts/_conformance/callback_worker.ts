// A Smile ID callback receiver as a Cloudflare Worker would write it: verifyCallback on the
// incoming Request, 200 with the job id on success, 401 with the error code when the callback
// cannot be trusted (forged, stale, replayed), 400 for a malformed body.
import { createMemoryReplayGuard, createSigner, SmileIdError, verifyCallback } from "../../mod.ts";
import { FAKE_API_KEY, FAKE_PARTNER_ID } from "./env.ts";

const signer = createSigner({ partnerId: FAKE_PARTNER_ID, apiKey: FAKE_API_KEY });
const replayGuard = createMemoryReplayGuard();
const UNTRUSTED = new Set([
  "missing_signature",
  "signature_mismatch",
  "invalid_timestamp",
  "stale_timestamp",
  "future_timestamp",
  "replayed",
]);

export default {
  async fetch(request: Request): Promise<Response> {
    if (request.method !== "POST") return new Response("POST a callback", { status: 405 });
    try {
      const callback = await verifyCallback(request, { signer, toleranceSeconds: 300, replayGuard });
      return Response.json({ ok: true, jobId: callback.payload.jobId ?? null });
    } catch (error) {
      if (!(error instanceof SmileIdError)) return Response.json({ ok: false, code: "crash" }, { status: 500 });
      return Response.json({ ok: false, code: error.code }, { status: UNTRUSTED.has(error.code) ? 401 : 400 });
    }
  },
};
