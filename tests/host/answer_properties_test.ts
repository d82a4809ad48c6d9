// Property-based tests with fast-check of what is inside an answer: ID fields, image links and
// receipts of any JSON type never make parsing throw or refuse a verified answer, and each typed
// field is exactly what an oracle written here (from the field table) says (runs, seeds and
// replays: ./_properties.ts).

import { test } from "node:test";
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import fc from "fast-check";
import {
  createSigner,
  describeResult,
  type IdResponse,
  type JobResult,
  type JsonObject,
  type JsonValue,
  parseJobStatusResponse,
  verifyCallback,
} from "../../mod.ts";
import { check, LONG, NUM_RUNS } from "./_properties.ts";

const signer = createSigner({ partnerId: "085", apiKey: "answer-properties-key" });
// The signature covers only the timestamp, so one signed pair serves every generated answer.
const signed = await signer.sign();

// ---- arbitraries -----------------------------------------------------------------------------

const STRING_KEYS: Readonly<Record<string, keyof IdResponse>> = {
  Country: "country",
  IDType: "idType",
  IDNumber: "idNumber",
  IssuanceDate: "issuanceDate",
  ExpirationDate: "expirationDate",
  FullName: "fullName",
  DOB: "dob",
  Gender: "gender",
  PhoneNumber: "phoneNumber",
  PhoneNumber2: "phoneNumber2",
  Address: "address",
  Photo: "photo",
  Document: "document",
};
const OTHER_KEYS = [
  "SecondaryIDNumber",
  "Secondary_ID_Number",
  "FullData",
  "IDNumberPreviouslyRegistered",
  "UserIDsOfPreviousRegistrants",
];
const ID_KEYS = [...Object.keys(STRING_KEYS), ...OTHER_KEYS];

const jsonValue = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>;

/** What an ID field can hold: any JSON, the placeholders seen, and near-misses of both. */
const idValue: fc.Arbitrary<JsonValue> = fc.oneof(
  { weight: 3, arbitrary: jsonValue },
  {
    weight: 2,
    arbitrary: fc.constantFrom<JsonValue>(
      "Not Available",
      "NaN-NaN-NaN",
      "",
      " ",
      "\t\n",
      "not available",
      " NOT AVAILABLE ",
      "Not Available.",
      "NaN",
      "true",
      "false",
      " TRUE",
      "/9j/4AAQSkZJRg",
      "<BASE64 STRING>",
      {},
      [],
      null,
    ),
  },
  { weight: 1, arbitrary: fc.array(fc.oneof(fc.string(), fc.integer(), fc.double(), jsonValue), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.base64String({ maxLength: 64 }) },
);

/** A result object whose ID keys (any subset) hold anything, beside the usual keys. */
const resultWithId: fc.Arbitrary<JsonObject> = fc.record({
  id: fc.dictionary(fc.constantFrom(...ID_KEYS), idValue, { maxKeys: ID_KEYS.length }),
  code: fc.option(fc.constantFrom("0810", "1012", "1022", "1210", "9999"), { nil: undefined }),
}).map(({ id, code }) => ({ ...(code === undefined ? {} : { ResultCode: code }), ...id }));

const answerWithIds = fc.record({
  job_complete: fc.boolean(),
  job_success: fc.oneof(fc.boolean(), fc.constant(null), jsonValue),
  result: fc.oneof({ weight: 4, arbitrary: resultWithId }, { weight: 1, arbitrary: jsonValue }),
  history: fc.oneof({ weight: 3, arbitrary: fc.array(resultWithId, { maxLength: 4 }) }, {
    weight: 1,
    arbitrary: jsonValue,
  }),
  image_links: fc.oneof(fc.dictionary(fc.constantFrom("selfie_image", "error", "id_card_image"), idValue), jsonValue),
  kyc_receipt: idValue,
  kyb_receipt: idValue,
});

// ---- the oracle: the field table, written out independently of src/_schemas.ts -----------------

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function expectedText(value: JsonValue | undefined): string | undefined {
  if (typeof value !== "string") return undefined;
  return ["", "not available", "nan-nan-nan"].includes(value.trim().toLowerCase()) ? undefined : value;
}

function expectedId(raw: JsonObject): IdResponse | undefined {
  if (!ID_KEYS.some((key) => Object.hasOwn(raw, key))) return undefined;
  const strings = Object.fromEntries(
    Object.entries(STRING_KEYS).map(([key, field]) => [field, expectedText(raw[key])]),
  );
  const registered = raw.IDNumberPreviouslyRegistered;
  const flag = typeof registered === "boolean"
    ? registered
    : typeof registered === "string" && ["true", "false"].includes(registered.trim().toLowerCase())
    ? registered.trim().toLowerCase() === "true"
    : undefined;
  const previous = raw.UserIDsOfPreviousRegistrants;
  const ids = Array.isArray(previous) &&
      previous.every((id) => typeof id === "string" || (typeof id === "number" && Number.isFinite(id)))
    ? previous.map(String)
    : undefined;
  return {
    ...(strings as Record<keyof typeof STRING_KEYS, string | undefined>),
    secondaryIdNumber: expectedText(raw.SecondaryIDNumber) ?? expectedText(raw.Secondary_ID_Number),
    fullData: isObject(raw.FullData) ? raw.FullData : undefined,
    idNumberPreviouslyRegistered: flag,
    previousRegistrantUserIds: ids,
  } as IdResponse;
}

function assertIdView(view: JobResult | undefined, raw: JsonObject): void {
  assert(view !== undefined);
  assertEquals(view.idResponse, expectedId(raw));
  assertEquals(view.raw, raw, "raw as received");
}

// ---- properties --------------------------------------------------------------------------------

test(
  `parseJobStatusResponse() never throws on ID fields of any JSON type, and types each as the table says (${NUM_RUNS} runs)`,
  LONG,
  async () => {
    await check(fc.record({ answer: answerWithIds, text: fc.boolean() }), async ({ answer, text }) => {
      const json: JsonObject = { ...answer, ...signed };
      // Through JSON text too: what arrives over the wire (and __proto__ as an own key).
      const wire = JSON.parse(JSON.stringify(json)) as JsonObject;
      const status = await parseJobStatusResponse(signer, text ? JSON.stringify(json) : wire);
      assertEquals(status.raw, wire);
      const result = isObject(wire.result) ? wire.result : undefined;
      if (result) assertIdView(typeof status.result === "object" ? status.result : undefined, result);
      const history = Array.isArray(wire.history) && wire.history.every(isObject) ? wire.history : undefined;
      history?.forEach((entry, i) => assertIdView(status.history?.[i], entry));
      // The job's ID response: the result's, else the last history entry that has one.
      const candidates = [result, ...(history ?? []).slice().reverse()].map((entry) =>
        entry === undefined ? undefined : expectedId(entry)
      );
      assertEquals(status.idResponse, candidates.find((id) => id !== undefined));
      const links = wire.image_links;
      assertEquals(
        status.imageLinks,
        isObject(links)
          ? {
            selfieImage: typeof links.selfie_image === "string" ? links.selfie_image : undefined,
            error: typeof links.error === "string" ? links.error : undefined,
            raw: links,
          }
          : undefined,
      );
      assertStrictEquals(status.kycReceipt, typeof wire.kyc_receipt === "string" ? wire.kyc_receipt : undefined);
      assertStrictEquals(status.kybReceipt, typeof wire.kyb_receipt === "string" ? wire.kyb_receipt : undefined);
      // A decision is always given, and job_success decides only a complete job.
      const summary = describeResult(status);
      if (!status.jobComplete) assertEquals([summary.decision, summary.basis], ["pending", "none"]);
      if (summary.basis === "job_success") {
        assertStrictEquals(summary.decision, status.jobSuccess ? "approved" : "rejected");
      }
    });
  },
);

test(
  `verifyCallback() never refuses a signed callback for what its ID fields hold (${NUM_RUNS} runs)`,
  LONG,
  async () => {
    await check(resultWithId, async (result) => {
      const body = JSON.parse(JSON.stringify({ ...result, ...signed })) as JsonObject;
      const { payload } = await verifyCallback(signer, body, { replayGuard: false, toleranceSeconds: false });
      assertIdView(typeof payload.result === "object" ? payload.result : undefined, body);
    });
  },
);
