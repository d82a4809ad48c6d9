import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveServer, SmileIdError } from "../mod.ts";

test("resolveServer() maps the official sid_server values and names", () => {
  for (const value of [0, "0", "sandbox"] as const) {
    assert.equal(resolveServer(value), "https://testapi.smileidentity.com/v1");
  }
  for (const value of [1, "1", "production"] as const) {
    assert.equal(resolveServer(value), "https://api.smileidentity.com/v1");
  }
});

test("resolveServer() accepts https URLs and trims trailing slashes", () => {
  assert.equal(resolveServer("https://testapi.smileidentity.com/v1/"), "https://testapi.smileidentity.com/v1");
  assert.equal(resolveServer("https://proxy.example.com/smile/v1///"), "https://proxy.example.com/smile/v1");
  assert.equal(resolveServer("HTTPS://API.Example.com"), "https://api.example.com");
  assert.equal(resolveServer("https://api.example.com:8443/v1"), "https://api.example.com:8443/v1");
});

test("resolveServer() accepts plain http only on loopback hosts", () => {
  assert.equal(resolveServer("http://127.0.0.1:8787/v1"), "http://127.0.0.1:8787/v1");
  assert.equal(resolveServer("http://127.9.8.7/v1/"), "http://127.9.8.7/v1");
  assert.equal(resolveServer("http://localhost:3000/v1"), "http://localhost:3000/v1");
  assert.equal(resolveServer("http://[::1]:8080/v1"), "http://[::1]:8080/v1");
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
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => resolveServer(server as any),
      (error: unknown) =>
        error instanceof SmileIdError && error.code === "invalid_argument" &&
        /expected 0, 1, "sandbox", "production", an https:\/\/ URL/.test(error.message),
      `server ${String(server)}`,
    );
  }
});

test("resolveServer() does not echo credentials embedded in a URL", () => {
  assert.throws(
    () => resolveServer("https://user:hunter2@api.example.com/v1"),
    (error: unknown) =>
      error instanceof SmileIdError && /must not contain credentials/.test(error.message) &&
      !error.message.includes("hunter2"),
  );
  for (const server of ["http://user:hunter2@example.com/v1", "ftp://user:hunter2@x/", "https://:hunter2@x.example"]) {
    assert.throws(
      () => resolveServer(server),
      (error: unknown) => error instanceof SmileIdError && !error.message.includes("hunter2"),
      server,
    );
  }
});
