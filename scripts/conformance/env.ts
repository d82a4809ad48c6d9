// Settings shared by the conformance runners (which serve the fake Smile ID) and the bundles
// that run inside workerd and Chromium (which call it over real HTTP).

/** The fake Smile ID's credentials; test values, not secrets. */
export const FAKE_PARTNER_ID = "085";
/** The API key the fake signs with. */
export const FAKE_API_KEY = "conformance-api-key-0123456789";

/** Filled in by the Worker or page before the tests run. */
export const conformanceEnv: { fakeServer: string; runtime: string } = { fakeServer: "", runtime: "" };
