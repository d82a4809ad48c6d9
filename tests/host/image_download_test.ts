// downloadImage() against a real HTTP server on 127.0.0.1, through the runtime's own fetch (Deno,
// Node, Bun). The server is raw TCP (tests/host/_fault_server.ts), so each case controls the
// exact bytes: a Content-Length or none, a redirect, a type. workerd and Chromium run the same
// kind of checks against the conformance fake server (scripts/conformance/runtime_checks.ts).

import { test } from "node:test";
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import type { Socket } from "node:net";
import { downloadImage, type SmileIdError } from "../../mod.ts";
import { FAKE_PHOTO } from "../../src/testing/_products.ts";
import { decodeImage } from "../../src/image.ts";
import { assertRejectsWithCode } from "../_helpers.ts";
import { head, type RawRequest, startRawServer, type TestServer, writeResponse } from "./_fault_server.ts";

const JPEG = decodeImage(FAKE_PHOTO);
const QUERY = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=5ecret0f5ecret0f";

/** Routes by path; records every request the server read. */
async function imageServer(): Promise<TestServer> {
  return await startRawServer((socket: Socket, request: RawRequest) => {
    const path = request.path.replace(/\?.*$/, "");
    switch (path) {
      case "/selfie.jpg":
        return writeResponse(socket, 200, { "content-type": "image/jpeg" }, JPEG);
      case "/declared-too-large.jpg":
        // Declares 2 MiB and sends nothing more: a client that waits for the body would hang.
        socket.write(head(200, { "content-type": "image/jpeg", "content-length": String(2 * 1024 * 1024) }));
        return;
      case "/chunked-too-large.jpg": {
        // No Content-Length: 64 KiB chunks, up to 1 MiB, until the client goes away.
        socket.write(head(200, { "content-type": "image/jpeg", "transfer-encoding": "chunked" }));
        const chunk = new Uint8Array(64 * 1024).fill(0xab);
        let sent = 0;
        const next = () => {
          if (socket.destroyed) return;
          if (sent >= 16) return void socket.end("0\r\n\r\n");
          sent++;
          socket.write(`${chunk.length.toString(16)}\r\n`);
          socket.write(chunk);
          socket.write("\r\n", next);
        };
        socket.on("error", () => {});
        return next();
      }
      case "/page.html":
        return writeResponse(socket, 200, { "content-type": "text/html" }, "<html>Sign in</html>");
      case "/moved.jpg":
        return writeResponse(socket, 302, { location: `/selfie.jpg?${QUERY}` });
      case "/expired.jpg":
        return writeResponse(
          socket,
          403,
          { "content-type": "application/xml" },
          "<Error><Code>AccessDenied</Code></Error>",
        );
      default:
        return writeResponse(socket, 404, {}, "");
    }
  });
}

function assertNoQuery(error: SmileIdError): void {
  for (const text of [error.message, String(error), JSON.stringify(error)]) {
    assert(!text.includes("5ecret"), `the query leaked: ${text}`);
  }
}

test("downloadImage() downloads an image from a real server on 127.0.0.1", async () => {
  const server = await imageServer();
  try {
    const image = await downloadImage(`${server.origin}/selfie.jpg?${QUERY}`);
    assertEquals(image.bytes, JPEG);
    assertStrictEquals(image.contentType, "image/jpeg");
    assertEquals([...image.bytes.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    assertStrictEquals(server.requests.length, 1);
    assertStrictEquals(server.requests[0]?.method, "GET");
    assertStrictEquals(server.requests[0]?.path, `/selfie.jpg?${QUERY}`, "the query was sent as given");
    assertStrictEquals(server.requests[0]?.headers.accept, "image/*");
  } finally {
    await server.close();
  }
});

test("downloadImage() refuses a declared Content-Length over maxBytes without reading the body", async () => {
  const server = await imageServer();
  try {
    const error = await assertRejectsWithCode(
      () =>
        downloadImage(`${server.origin}/declared-too-large.jpg?${QUERY}`, { maxBytes: 1024 * 1024, timeoutMs: 60_000 }),
      "payload_too_large",
      /declares 2097152 bytes/,
    );
    assertNoQuery(error);
  } finally {
    await server.close();
  }
});

test("downloadImage() stops a body without Content-Length as soon as it passes maxBytes", async () => {
  const server = await imageServer();
  try {
    const error = await assertRejectsWithCode(
      () => downloadImage(`${server.origin}/chunked-too-large.jpg?${QUERY}`, { maxBytes: 100_000 }),
      "payload_too_large",
      /sent more than 100000 bytes/,
    );
    assertNoQuery(error);
    // Under the limit, the same stream is read whole.
    const whole = await downloadImage(`${server.origin}/chunked-too-large.jpg`, { maxBytes: 16 * 64 * 1024 });
    assertStrictEquals(whole.bytes.length, 16 * 64 * 1024);
    assert(whole.bytes.every((byte) => byte === 0xab));
  } finally {
    await server.close();
  }
});

test("downloadImage() refuses an answer that is not an image", async () => {
  const server = await imageServer();
  try {
    const error = await assertRejectsWithCode(
      () => downloadImage(`${server.origin}/page.html?${QUERY}`),
      "unexpected_response",
      /Content-Type "text\/html"; expected an image\/\* type/,
    );
    assertNoQuery(error);
  } finally {
    await server.close();
  }
});

test("downloadImage() refuses a redirect and does not follow it", async () => {
  const server = await imageServer();
  try {
    const error = await assertRejectsWithCode(
      () => downloadImage(`${server.origin}/moved.jpg?${QUERY}`),
      "http",
      /with a redirect \(HTTP 302\), which is not followed/,
    );
    assertStrictEquals(error.status, 302);
    assertNoQuery(error);
    assertEquals(server.requests.map((request) => request.path), [`/moved.jpg?${QUERY}`], "the target was never asked");
  } finally {
    await server.close();
  }
});

test("downloadImage() refuses an HTTP error with its status", async () => {
  const server = await imageServer();
  try {
    const error = await assertRejectsWithCode(() => downloadImage(`${server.origin}/expired.jpg?${QUERY}`), "http");
    assertStrictEquals(error.status, 403);
    assertNoQuery(error);
  } finally {
    await server.close();
  }
});

test("downloadImage() refuses an expired link without making a request", async () => {
  const server = await imageServer();
  try {
    const link = `${server.origin}/selfie.jpg?X-Amz-Date=20240101T000000Z&X-Amz-Expires=900&${QUERY}`;
    const error = await assertRejectsWithCode(() => downloadImage(link), "image_link_expired");
    assertNoQuery(error);
    assertStrictEquals(server.requests.length, 0);
    assertStrictEquals(server.connections(), 0, "not even a connection");
    // The same link before its expiry is downloaded.
    const before = { now: () => Date.parse("2024-01-01T00:14:59.000Z") };
    assertEquals((await downloadImage(link, { clock: before })).bytes, JPEG);
    assertStrictEquals(server.requests.length, 1);
  } finally {
    await server.close();
  }
});
