// A Smile ID callback receiver as a Cloudflare Worker would write it: createCallbackHandler as
// the Worker's fetch, confirming each callback with the fake Smile ID the runner serves (its
// base URL comes in the FAKE_SMILE_ID binding). The HTTP answers are the handler's own.
import { createCallbackHandler, createClient } from "../../mod.ts";
import { FAKE_API_KEY, FAKE_PARTNER_ID } from "./env.ts";

let handler: ((request: Request) => Promise<Response>) | undefined;

export default {
  fetch(request: Request, env: { FAKE_SMILE_ID?: string }): Promise<Response> {
    // Built once per isolate, on the first request (bindings arrive with it).
    handler ??= createCallbackHandler({
      client: createClient({ partnerId: FAKE_PARTNER_ID, apiKey: FAKE_API_KEY, server: String(env.FAKE_SMILE_ID) }),
      onCallback: () => {},
    });
    return handler(request);
  },
};
