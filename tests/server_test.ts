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
