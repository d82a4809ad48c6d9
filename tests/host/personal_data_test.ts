// A sweep over every error that can hold an answer or a link: none may carry a value of the ID
// response, an image link's query or a receipt in its message, String() or JSON.stringify()
// (nor its stack). The answer (`body`) and the last status (`lastStatus`) stay readable as
// properties, for code that wants them.

import { test } from "node:test";
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { encodeBase64 } from "@std/encoding/base64";
import {
  createClient,
  createMemoryReplayGuard,
  createSigner,
  decodeImage,
  downloadImage,
  type FetchLike,
  type JsonObject,
  parseJobStatusResponse,
  SmileIdError,
  verifyCallback,
  waitForJobStatus,
} from "../../mod.ts";
import { createTestClock } from "../../src/testing/mod.ts";

const partnerId = "085";
const apiKey = "personal-data-test-key";
const signer = createSigner({ partnerId, apiKey });
const query = { userId: "user-1", jobId: "job-1" };

// Distinctive values, each of which must never appear in an error's text.
const PHOTO = encodeBase64(
  new Uint8Array([0xff, 0xd8, 0xff, ...new TextEncoder().encode("photo-secret-bytes"), 0xff, 0xd9]),
);
const ID_FIELDS: JsonObject = {
  Country: "ZA",
  IDType: "NATIONAL_ID",
  IDNumber: "ID-SECRET-4471",
  SecondaryIDNumber: "SEC-ID-9981",
  FullName: "Zanele Secretname",
  DOB: "1987-06-05",
  PhoneNumber: "+27 82 555 0199",
  PhoneNumber2: "+27 82 555 0200",
  Address: "42 Hidden Lane",
  Photo: PHOTO,
  Document: PHOTO,
  FullData: { secretKey: "fulldata-secret-value", ImageBase64: PHOTO },
  IDNumberPreviouslyRegistered: true,
  UserIDsOfPreviousRegistrants: ["previous-user-secret"],
};
const LINK_SECRET = "linksecret0f0f";
const RECEIPT_SECRET = "receiptsig+abc/def=";
const SECRETS = [
  "ID-SECRET-4471",
  "4471",
  "SEC-ID-9981",
  "Zanele",
  "Secretname",
  "1987-06-05",
  "555 0199",
  "555 0200",
  "Hidden Lane",
  PHOTO.slice(0, 24),
  "photo-secret",
  "fulldata-secret-value",
  "previous-user-secret",
  LINK_SECRET,
  RECEIPT_SECRET,
  "receiptsig",
];

const RESULT: JsonObject = {
  ResultCode: "1012",
  ResultType: "ID Verification",
  PartnerParams: { user_id: "user-1", job_id: "job-1", job_type: 5 },
  ...ID_FIELDS,
};

/** A job-status answer carrying the ID response everywhere it can be. */
function answerBody(overrides: JsonObject = {}): JsonObject {
  return {
    job_complete: true,
    job_success: true,
    code: "2302",
    result: RESULT,
    history: [RESULT],
    image_links: { selfie_image: `https://bucket.s3.amazonaws.com/selfie.jpg?X-Amz-Signature=${LINK_SECRET}` },
    kyc_receipt:
      `https://portal.smileidentity.com/api/v3/085/job_result_summary/1/generate_pdf?signature=${RECEIPT_SECRET}`,
    ...overrides,
  };
}

/** Signed as the server signs: a later timestamp than any request's. */
async function signedAnswer(overrides: JsonObject = {}, at = Date.now() + 1000): Promise<JsonObject> {
  return { ...answerBody(overrides), ...(await signer.sign(new Date(at).toISOString())) };
}

/** Asserts that no text of `error` holds a secret; returns it typed. */
function assertClean(error: unknown, what: string): SmileIdError {
  assert(error instanceof SmileIdError, `${what}: expected a SmileIdError, got ${String(error)}`);
  for (
    const [form, text] of [
      ["message", error.message],
      ["String()", String(error)],
      ["JSON.stringify()", JSON.stringify(error)],
      ["stack", error.stack ?? ""],
    ]
  ) {
    for (const secret of SECRETS) {
      assert(!text!.includes(secret), `${what}: ${form} holds ${JSON.stringify(secret)}: ${text}`);
    }
  }
  return error;
}

async function rejection(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

test("SmileIdError.toJSON() leaves out body and lastStatus, keeps smileCode and serverMessage", async () => {
  const status = await parseJobStatusResponse(signer, await signedAnswer());
  const error = new SmileIdError("timeout", "Gave up", {
    status: 500,
    smileCode: "2201",
    serverMessage: "System error",
    body: JSON.stringify(answerBody()),
    attempts: 3,
    lastStatus: status,
  });
  const json = JSON.parse(JSON.stringify(error));
  assertEquals(json, {
    name: "SmileIdError",
    code: "timeout",
    message: "Gave up",
    status: 500,
    smileCode: "2201",
    serverMessage: "System error",
    attempts: 3,
  });
  assertStrictEquals(error.lastStatus, status, "still a property");
  assert(error.body?.includes("Zanele Secretname"), "still a property");
  assertClean(error, "a hand-made error");
});

test("waitForJobStatus() timeout and abort carry lastStatus, with the ID response only there", async () => {
  const clock = createTestClock();
  const incomplete = () => signedAnswer({ job_complete: false }, clock.now() + 1);
  const fetch: FetchLike = async () => Response.json(await incomplete());
  const client = createClient({ partnerId, apiKey, fetch, clock });
  const timeout = assertClean(
    await rejection(() => client.waitForJobStatus(query, { timeoutMs: 30_000 })),
    "polling timeout",
  );
  assertStrictEquals(timeout.code, "timeout");
  assertStrictEquals(timeout.lastStatus?.idResponse?.fullName, "Zanele Secretname", "reachable as a property");

  const controller = new AbortController();
  let calls = 0;
  const aborting: FetchLike = async () => {
    if (++calls === 2) controller.abort(new Error("stop"));
    return Response.json(await incomplete());
  };
  const abortClient = createClient({ partnerId, apiKey, fetch: aborting, clock });
  const aborted = assertClean(
    await rejection(() => waitForJobStatus(abortClient, query, { signal: controller.signal, timeoutMs: 60_000 })),
    "polling abort",
  );
  assertStrictEquals(aborted.code, "aborted");
  assertStrictEquals(aborted.lastStatus?.idResponse?.idNumber, "ID-SECRET-4471");
});

test("refused job-status answers keep their body as a property only", async () => {
  const good = await signedAnswer();
  const cases: Array<[string, () => Promise<unknown>, string]> = [
    [
      "a bad signature",
      () => parseJobStatusResponse(signer, new Response(JSON.stringify({ ...good, signature: good.timestamp }))),
      "signature_mismatch",
    ],
    [
      "an unreadable job_complete",
      async () => parseJobStatusResponse(signer, JSON.stringify(await signedAnswer({ job_complete: "maybe" }))),
      "schema",
    ],
    [
      "no signature",
      () => parseJobStatusResponse(signer, new Response(JSON.stringify(answerBody()))),
      "missing_signature",
    ],
    [
      "a truncated answer that starts with the ID response",
      () => parseJobStatusResponse(signer, new Response(JSON.stringify({ result: RESULT, ...good }).slice(0, 300))),
      "unexpected_response",
    ],
    [
      "an HTTP error whose body is an answer",
      () => parseJobStatusResponse(signer, new Response(JSON.stringify(good), { status: 502 })),
      "http",
    ],
    [
      "an answer for another job",
      () =>
        createClient({ partnerId, apiKey, fetch: () => Promise.resolve(Response.json(good)) }).getJobStatus({
          userId: "user-1",
          jobId: "job-2",
        }),
      "answer_mismatch",
    ],
  ];
  for (const [what, call, code] of cases) {
    const error = assertClean(await rejection(call), what);
    assertStrictEquals(error.code, code, what);
    if (error.body !== undefined) assert(error.body.includes("Secretname") || error.body.includes("ID-SECRET"), what);
  }
  // Smile ID's own error code and text stay in the JSON.
  const smile = assertClean(
    await rejection(() =>
      parseJobStatusResponse(
        signer,
        Response.json({ code: "2205", error: "You are not authorized to do that", result: RESULT }, { status: 401 }),
      )
    ),
    "a Smile ID error",
  );
  const json = JSON.parse(JSON.stringify(smile));
  assertEquals([json.smileCode, json.serverMessage, json.body], [
    "2205",
    "You are not authorized to do that",
    undefined,
  ]);
});

test("refused callbacks never repeat their ID response", async () => {
  const body = { ...RESULT, ...(await signer.sign()) };
  const old = { ...RESULT, ...(await signer.sign("2001-01-01T00:00:00.000Z")) };
  const guard = createMemoryReplayGuard();
  await verifyCallback(signer, body, { replayGuard: guard });
  const cases: Array<[string, () => Promise<unknown>, string]> = [
    ["a stale callback", () => verifyCallback(signer, old, { replayGuard: false }), "stale_timestamp"],
    ["a bad signature", () => verifyCallback(signer, { ...body, signature: old.signature }), "signature_mismatch"],
    ["a replay", () => verifyCallback(signer, body, { replayGuard: guard }), "replayed"],
    [
      "a job-status envelope without job_complete",
      async () =>
        verifyCallback(signer, { job_complete: "maybe", result: RESULT, ...(await signer.sign()) }, {
          replayGuard: false,
        }),
      "schema",
    ],
    [
      "a body that is not JSON",
      () => verifyCallback(signer, JSON.stringify(body).slice(0, 200), { replayGuard: false }),
      "unexpected_response",
    ],
  ];
  for (const [what, call, code] of cases) {
    const error = assertClean(await rejection(call), what);
    assertStrictEquals(error.code, code, what);
  }
});

test("image errors never repeat a photo, a link's query or a receipt", async () => {
  const link = `https://bucket.s3.amazonaws.com/selfie.jpg?X-Amz-Signature=${LINK_SECRET}`;
  const receipt = answerBody().kyc_receipt as string;
  const expired =
    `https://bucket.s3.amazonaws.com/selfie.jpg?X-Amz-Date=20240101T000000Z&X-Amz-Expires=900&s=${LINK_SECRET}`;
  const never: FetchLike = () => new Promise(() => {});
  const respond = (response: () => Response): FetchLike => () => Promise.resolve(response());
  const cases: Array<[string, () => Promise<unknown>]> = [
    ["http link", () => downloadImage(link.replace("https:", "http:"))],
    ["receipt over http", () => downloadImage(receipt.replace("https:", "http:"))],
    ["link with credentials", () => downloadImage(link.replace("https://", `https://u:${LINK_SECRET}@`))],
    ["expired link", () => downloadImage(expired)],
    ["timeout", () => downloadImage(link, { fetch: never, timeoutMs: 1 })],
    ["timeout on a receipt", () => downloadImage(receipt, { fetch: never, timeoutMs: 1 })],
    ["aborted", () => downloadImage(receipt, { fetch: never, signal: AbortSignal.abort(new Error(receipt)) })],
    [
      "network failure naming the URL",
      () =>
        downloadImage(link, {
          fetch: (request) => Promise.reject(new TypeError(`error sending request for url (${request.url})`)),
        }),
    ],
    [
      "redirect",
      () =>
        downloadImage(link, {
          fetch: respond(() => new Response(null, { status: 302, headers: { location: receipt } })),
        }),
    ],
    ["403", () => downloadImage(receipt, { fetch: respond(() => new Response(receipt, { status: 403 })) })],
    [
      "not an image",
      () =>
        downloadImage(receipt, {
          fetch: respond(() => new Response(receipt, { headers: { "content-type": "text/html" } })),
        }),
    ],
    [
      "too large",
      () =>
        downloadImage(link, {
          maxBytes: 4,
          fetch: respond(() => new Response(decodeImage(PHOTO), { headers: { "content-type": "image/jpeg" } })),
        }),
    ],
  ];
  for (const [what, call] of cases) assertClean(await rejection(call), what);
  for (const text of ["Zanele Secretname", `${PHOTO}!`, "Not Available", `data:text/plain,${PHOTO}`]) {
    let error: unknown;
    try {
      decodeImage(text);
    } catch (caught) {
      error = caught;
    }
    assertStrictEquals(assertClean(error, `decodeImage(${text.slice(0, 10)}…)`).code, "invalid_argument");
  }
});
