import { test } from "node:test";
import { assertFalse, assertMatch, assertStrictEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { resolveServer, SmileIdError } from "../mod.ts";
import { assertThrowsWithCode } from "./_helpers.ts";

test("resolveServer() maps the official sid_server values and names", () => {
  for (const value of [0, "0", "sandbox"] as const) {
    assertStrictEquals(resolveServer(value), "https://testapi.smileidentity.com/v1");
  }
  for (const value of [1, "1", "production"] as const) {
    assertStrictEquals(resolveServer(value), "https://api.smileidentity.com/v1");
  }
});

test("resolveServer() accepts https URLs and trims trailing slashes", () => {
  assertStrictEquals(resolveServer("https://testapi.smileidentity.com/v1/"), "https://testapi.smileidentity.com/v1");
  assertStrictEquals(resolveServer("https://proxy.example.com/smile/v1///"), "https://proxy.example.com/smile/v1");
  assertStrictEquals(resolveServer("HTTPS://API.Example.com"), "https://api.example.com");
  assertStrictEquals(resolveServer("https://api.example.com:8443/v1"), "https://api.example.com:8443/v1");
});

test("resolveServer() accepts plain http only on loopback hosts", () => {
  assertStrictEquals(resolveServer("http://127.0.0.1:8787/v1"), "http://127.0.0.1:8787/v1");
  assertStrictEquals(resolveServer("http://127.9.8.7/v1/"), "http://127.9.8.7/v1");
  assertStrictEquals(resolveServer("http://localhost:3000/v1"), "http://localhost:3000/v1");
  assertStrictEquals(resolveServer("http://[::1]:8080/v1"), "http://[::1]:8080/v1");
});

test("resolveServer() rejects everything else with what it accepts", () => {
  const rejected: unknown[] = [
    2,
    -1,
    "2",
    "",
    "staging",
    "SANDBOX",
    "testapi.smileidentity.com/v1",
    "/v1",
    "//api.example.com/v1",
    "http://api.example.com/v1",
    "http://10.0.0.1/v1",
    "http://localhost.example.com/v1",
    "ftp://api.example.com/v1",
    "https://api.example.com/v1?debug=1",
    "https://api.example.com/v1#frag",
    "https://api.example.com/v1?",
    null,
    undefined,
    {},
  ];
  for (const server of rejected) {
    assertThrowsWithCode(
      // deno-lint-ignore no-explicit-any
      () => resolveServer(server as any),
      "invalid_argument",
      /expected 0, 1, "sandbox", "production", an https:\/\/ URL/,
      `server ${String(server)}`,
    );
  }
});

test("resolveServer() does not echo credentials embedded in a URL", () => {
  const error = assertThrows(() => resolveServer("https://user:hunter2@api.example.com/v1"), SmileIdError);
  assertMatch(error.message, /must not contain credentials/);
  assertFalse(error.message.includes("hunter2"), "the error quotes the password");
  for (const server of ["http://user:hunter2@example.com/v1", "ftp://user:hunter2@x/", "https://:hunter2@x.example"]) {
    const error = assertThrows(() => resolveServer(server), SmileIdError, undefined, server);
    assertFalse(error.message.includes("hunter2"), server);
  }
});

test("resolveServer() refuses Smile ID's own hosts without /v1, saying which URL to use", () => {
  const cases: Array<[string, string]> = [
    ["https://testapi.smileidentity.com", "https://testapi.smileidentity.com/v1"],
    ["https://testapi.smileidentity.com/", "https://testapi.smileidentity.com/v1"],
    ["https://api.smileidentity.com", "https://api.smileidentity.com/v1"],
    ["https://API.smileidentity.com/v2", "https://api.smileidentity.com/v1"],
    ["https://api.smileidentity.com/v1/job_status", "https://api.smileidentity.com/v1"],
  ];
  for (const [server, use] of cases) {
    const error = assertThrowsWithCode(
      () => resolveServer(server),
      "invalid_argument",
      /is Smile ID's host without the v1 API's path: use /,
      server,
    );
    assertStringIncludes(error.message, JSON.stringify(use), server);
  }
  // Other hosts may serve the API under any path (a proxy, the fake with basePath "").
  assertStrictEquals(resolveServer("https://proxy.example.com"), "https://proxy.example.com");
});

test("resolveServer() never repeats user-info, in any form the WHATWG parser reads as credentials", () => {
  const password = "hunter2-Pw";
  const forms: Array<[string, string | undefined]> = [
    [`https://user:${password}@api.example.com/v1`, "api.example.com"],
    [`https:/user:${password}@api.example.com/v1`, "api.example.com"],
    [`https:\\\\user:${password}@api.example.com/v1`, "api.example.com"],
    [`https:user:${password}@api.example.com/v1`, "api.example.com"],
    [`http:/user:${password}@127.0.0.1/v1`, "127.0.0.1"],
    [`HTTP:user:${password}@127.0.0.1:8080`, "127.0.0.1:8080"],
    [`ftp:user:${password}@example.com`, "example.com"],
    [`https://user:${password}@@api.example.com/v1`, "api.example.com"],
    [`foo:user:${password}@example.com`, undefined],
    [`user:${password}@api.example.com/v1`, undefined],
    [` \thttps:/user:${password}@api.example.com/v1?x#y`, "api.example.com"],
  ];
  for (const [server, host] of forms) {
    const error = assertThrowsWithCode(
      () => resolveServer(server),
      "invalid_argument",
      /^Server URL .*must not contain credentials or "@" \(the URL is not repeated here\): expected 0, 1/,
      server,
    );
    assertStrictEquals(error.cause, undefined, server);
    for (const text of [error.message, String(error), JSON.stringify(error), error.stack ?? ""]) {
      assertFalse(text.includes(password), `${server}: ${text}`);
      assertFalse(text.includes("user:"), `${server}: ${text}`);
    }
    if (host === undefined) assertMatch(error.message, /^Server URL must not/, server);
    else assertStringIncludes(error.message, `Server URL for host "${host}" must not`, server);
  }
});

test("resolveServer() escapes what it quotes and describes objects by key names only", () => {
  const hostile = "https://api.example.com/v1?\u001b]52;c;SGVsbG8=\u0007\r\nok\u202e\u2028\u0085";
  const error = assertThrowsWithCode(() => resolveServer(hostile), "invalid_argument", /must not have a query/);
  assertStringIncludes(error.message, String.raw`?\u001b]52;c;SGVsbG8=\u0007\r\nok\u202e\u2028\u0085"`);
  // deno-lint-ignore no-control-regex
  assertFalse(/[\u0000-\u001f\u007f-\u009f\u202e\u2028]/.test(error.message), error.message);
  const config = { partnerId: "085", apiKey: "sk_live_do-not-show" };
  const wrong = assertThrowsWithCode(
    // deno-lint-ignore no-explicit-any
    () => resolveServer(config as any),
    "invalid_argument",
    /^Server an object with keys partnerId, apiKey is not valid/,
  );
  assertFalse(JSON.stringify(wrong).includes("do-not-show"));
});
