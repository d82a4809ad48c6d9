// Serves the fake Smile ID (src/testing) on 127.0.0.1 for the conformance runs, so the
// round-trip tests inside workerd and Chromium go over real HTTP. `extra` can serve other
// paths (the Chromium runner serves its page and bundle from the same origin).
import { createFakeSmileId, type FakeSmileId } from "../../src/testing/mod.ts";
import { FAKE_PHOTO } from "../../src/testing/_products.ts";
import { decodeImage } from "../../src/image.ts";
import { FAKE_API_KEY, FAKE_PARTNER_ID } from "./env.ts";

/** A running fake Smile ID and how to reach and stop it. */
export interface RunningFake {
  readonly fake: FakeSmileId;
  readonly origin: string;
  /** The `server` a client is given: `{origin}/v1`. */
  readonly server: string;
  close(): Promise<void>;
}

/** Starts the fake on an ephemeral 127.0.0.1 port with jobs for `runtime`'s round-trip tests. */
export function startFakeSmileId(
  runtime: string,
  extra: (request: Request) => Response | undefined = () => undefined,
): RunningFake {
  // Unknown jobs (the "-slow" one) are created on their first query and complete 400 ms later.
  const fake = createFakeSmileId({
    partnerId: FAKE_PARTNER_ID,
    apiKey: FAKE_API_KEY,
    autoCreateJobs: { completesAfterMs: 400 },
  });
  fake.addJob({ userId: "conformance-user", jobId: `${runtime}-round-trip` });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    // A copy without Deno.serve's request.signal, which would warn about its legacy abort timing.
    async (request) =>
      images(request) ??
        extra(request) ??
        fake.fetch(
          new Request(request.url, {
            method: request.method,
            headers: request.headers,
            ...(request.body ? { body: await request.arrayBuffer() } : {}),
          }),
        ),
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return { fake, origin, server: `${origin}/v1`, close: () => server.shutdown() };
}

/** Paths under /images/ asked for so far, for the checks that a request was never made. */
const imageRequests: string[] = [];

/**
 * Images for downloadImage's checks (scripts/conformance/runtime_checks.ts): an image, one too
 * large with and without Content-Length, a page that is not an image, a redirect, and the list
 * of image paths requested (`/images/requests`, itself not listed).
 */
function images(request: Request): Response | undefined {
  const { pathname, search } = new URL(request.url);
  if (!pathname.startsWith("/images/")) return undefined;
  if (pathname === "/images/requests") return Response.json(imageRequests);
  imageRequests.push(pathname + search);
  const jpeg = { "content-type": "image/jpeg" };
  switch (pathname) {
    case "/images/selfie.jpg":
      return new Response(decodeImage(FAKE_PHOTO), { headers: jpeg });
    case "/images/declared-large.jpg":
      return new Response(new Uint8Array(200_000), { headers: jpeg }); // Deno.serve declares its length
    case "/images/streamed-large.jpg": {
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 16) controller.enqueue(new Uint8Array(16_384));
          else controller.close();
        },
      });
      return new Response(stream, { headers: jpeg }); // chunked: no Content-Length
    }
    case "/images/page.html":
      return new Response("<html>Sign in</html>", { headers: { "content-type": "text/html" } });
    case "/images/moved.jpg":
      return new Response(null, { status: 302, headers: { location: "/images/selfie.jpg?moved" } });
  }
  return new Response(null, { status: 404 });
}
