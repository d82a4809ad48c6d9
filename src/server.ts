/**
 * Where job-status requests go: Smile ID's sandbox or production v1 API, or a custom base URL.
 *
 * @module
 */

import { SmileIdError } from "./errors.ts";
import { quote } from "./_validate.ts";

/** Base URL of Smile ID's sandbox v1 API. */
const SANDBOX = "https://testapi.smileidentity.com/v1";
/** Base URL of Smile ID's production v1 API. */
const PRODUCTION = "https://api.smileidentity.com/v1";

/**
 * A server selector: `0`, `"0"` or `"sandbox"` for the sandbox; `1`, `"1"` or `"production"`
 * for production (the official SDKs' `sid_server` values); or an absolute base URL such as
 * `"https://testapi.smileidentity.com/v1"`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { resolveServer, type ServerInput } from "@smile-id-kit/job-status";
 *
 * const servers: ServerInput[] = [0, "1", "http://127.0.0.1:8787/v1"];
 * assertEquals(servers.map(resolveServer), [
 *   "https://testapi.smileidentity.com/v1",
 *   "https://api.smileidentity.com/v1",
 *   "http://127.0.0.1:8787/v1",
 * ]);
 * ```
 */
export type ServerInput = 0 | 1 | "0" | "1" | "sandbox" | "production" | (string & Record<never, never>);

const ACCEPTED = 'expected 0, 1, "sandbox", "production", an https:// URL, ' +
  "or an http:// URL on localhost, 127.0.0.0/8 or [::1]";

/**
 * Resolves a {@linkcode ServerInput} to a base URL without a trailing slash, to which
 * `/job_status` is appended. Only `https://` is accepted, except plain `http://` on loopback
 * hosts (which the web platform treats as trustworthy, and where tests and the fake server
 * run). Anything else (other numbers, relative URLs, query strings, fragments, credentials,
 * and Smile ID's own hosts with a path other than `/v1`, such as the Java SDK's
 * `https://testapi.smileidentity.com/`) throws a `SmileIdError` with code `invalid_argument`.
 * Other hosts may serve the API under any path; a client whose base URL does not end in `/v1`
 * adds a hint to HTTP 404 errors.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { resolveServer, SmileIdError } from "@smile-id-kit/job-status";
 *
 * assertEquals(resolveServer(0), "https://testapi.smileidentity.com/v1");
 * assertEquals(resolveServer("production"), "https://api.smileidentity.com/v1");
 * assertEquals(resolveServer("http://127.0.0.1:8787/v1/"), "http://127.0.0.1:8787/v1");
 * assertEquals(assertThrows(() => resolveServer("http://example.com/v1"), SmileIdError).code, "invalid_argument");
 * ```
 */
export function resolveServer(server: ServerInput): string {
  switch (server) {
    case 0:
    case "0":
    case "sandbox":
      return SANDBOX;
    case 1:
    case "1":
    case "production":
      return PRODUCTION;
  }
  if (typeof server !== "string") {
    throw new SmileIdError("invalid_argument", `Server ${quote(server)} is not valid: ${ACCEPTED}`);
  }
  let url: URL | undefined;
  try {
    url = new URL(server);
  } catch {
    // handled below, once credentials are ruled out
  }
  if (server.includes("@")) {
    // Never repeated: what comes before an "@" may be a password, and WHATWG parsers read
    // user:password@ even without "//" ("https:u:pw@host", "https:\\u:pw@host").
    throw new SmileIdError(
      "invalid_argument",
      `Server URL${url?.host ? ` for host ${quote(url.host)}` : ""} must not contain credentials or "@" ` +
        `(the URL is not repeated here): ${ACCEPTED}`,
    );
  }
  if (!url) {
    throw new SmileIdError("invalid_argument", `Server ${quote(server)} is not an absolute URL: ${ACCEPTED}`);
  }
  if (!/^https?:\/\//i.test(server.trim())) {
    throw new SmileIdError("invalid_argument", `Server ${quote(server)} has an unsupported scheme: ${ACCEPTED}`);
  }
  if (url.protocol === "http:" && !isLoopback(url.hostname)) {
    throw new SmileIdError(
      "invalid_argument",
      `Server ${quote(server)} uses plain http on a host that is not loopback: ${ACCEPTED}`,
    );
  }
  if (server.includes("?") || server.includes("#")) {
    throw new SmileIdError(
      "invalid_argument",
      `Server ${quote(server)} must not have a query or fragment: ${ACCEPTED}`,
    );
  }
  const path = url.pathname.replace(/\/+$/, "");
  if (SMILE_HOSTS.includes(url.hostname) && path !== "/v1") {
    throw new SmileIdError(
      "invalid_argument",
      `Server ${quote(server)} is Smile ID's host without the v1 API's path: use ${quote(`${url.origin}/v1`)} ` +
        '(or "sandbox" / "production"); the official Java SDK\'s base URLs omit /v1 and add it per call',
    );
  }
  return url.origin + path;
}

/** Smile ID's own API hosts, where the v1 API lives under exactly `/v1`. */
const SMILE_HOSTS: readonly string[] = ["testapi.smileidentity.com", "api.smileidentity.com"];

/** Whether a URL's `hostname` is a loopback host: `localhost`, `127.0.0.0/8` or `[::1]`. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
