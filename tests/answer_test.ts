// What is inside an answer: the ID response, image links and receipts, typed from every
// spelling and type the sources show (Smile ID's docs, the official SDKs' models and fixtures),
// and never a reason to refuse a verified answer.

import { test } from "node:test";
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import {
  createSigner,
  decodeImage,
  describeResult,
  type IdResponse,
  type JobResult,
  type JobStatus,
  type JsonObject,
  type JsonValue,
  parseJobStatusResponse,
  verifyCallback,
} from "../mod.ts";
import docsExample from "./testdata/job-status-docs-example.json" with { type: "json" };

const signer = createSigner({ partnerId: "085", apiKey: "answer-test-key" });

async function answer(body: JsonObject): Promise<JobStatus> {
  return await parseJobStatusResponse(signer, { ...body, ...(await signer.sign()) });
}

async function resultOf(fields: JsonObject): Promise<JobResult> {
  const status = await answer({ job_complete: true, result: fields });
  assert(typeof status.result === "object", "a result object");
  return status.result;
}

// An 8×8 JPEG as base64, written out here rather than taken from src/.
const JPEG = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB" +
  "AQEBAQEBAQEBAQEBAQH/wAALCAAIAAgBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAAP/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AP//Z";

/** The string fields: the typed name and the key on the wire (the docs' table, in its order). */
const STRING_FIELDS: ReadonlyArray<readonly [keyof IdResponse, string]> = [
  ["country", "Country"],
  ["idType", "IDType"],
  ["idNumber", "IDNumber"],
  ["secondaryIdNumber", "SecondaryIDNumber"],
  ["secondaryIdNumber", "Secondary_ID_Number"],
  ["issuanceDate", "IssuanceDate"],
  ["expirationDate", "ExpirationDate"],
  ["fullName", "FullName"],
  ["dob", "DOB"],
  ["gender", "Gender"],
  ["phoneNumber", "PhoneNumber"],
  ["phoneNumber2", "PhoneNumber2"],
  ["address", "Address"],
  ["photo", "Photo"],
  ["document", "Document"],
];

const EMPTY_ID: IdResponse = {
  country: undefined,
  idType: undefined,
  idNumber: undefined,
  secondaryIdNumber: undefined,
  issuanceDate: undefined,
  expirationDate: undefined,
  fullName: undefined,
  dob: undefined,
  gender: undefined,
  phoneNumber: undefined,
  phoneNumber2: undefined,
  address: undefined,
  photo: undefined,
  document: undefined,
  fullData: undefined,
  idNumberPreviouslyRegistered: undefined,
  previousRegistrantUserIds: undefined,
};

test("JobResult.idResponse types every documented ID key", async () => {
  const fields: JsonObject = {
    ResultCode: "1012",
    Country: "NG",
    IDType: "BVN",
    IDNumber: "00000000000",
    SecondaryIDNumber: "9001010000000",
    IssuanceDate: "2015-01-01",
    ExpirationDate: "2030-01-01",
    FullName: "some  person",
    DOB: "1990-01-01",
    Gender: "Male",
    PhoneNumber: "+2340000000000",
    PhoneNumber2: "+2340000000001",
    Address: "1 Example Street",
    Photo: JPEG,
    Document: JPEG,
    FullData: { watchListed: "NO", age: 34, success: true, nested: { list: [1] } },
    IDNumberPreviouslyRegistered: true,
    UserIDsOfPreviousRegistrants: ["user-0001", "user-0002"],
  };
  const result = await resultOf(fields);
  assertEquals(result.idResponse, {
    country: "NG",
    idType: "BVN",
    idNumber: "00000000000",
    secondaryIdNumber: "9001010000000",
    issuanceDate: "2015-01-01",
    expirationDate: "2030-01-01",
    fullName: "some  person",
    dob: "1990-01-01",
    gender: "Male",
    phoneNumber: "+2340000000000",
    phoneNumber2: "+2340000000001",
    address: "1 Example Street",
    photo: JPEG,
    document: JPEG,
    fullData: { watchListed: "NO", age: 34, success: true, nested: { list: [1] } },
    idNumberPreviouslyRegistered: true,
    previousRegistrantUserIds: ["user-0001", "user-0002"],
  });
  assertEquals(result.raw, fields, "raw is the result as received");
});

test("JobResult.idResponse types each string key on its own, in both secondary-ID spellings", async () => {
  for (const [field, key] of STRING_FIELDS) {
    const result = await resultOf({ [key]: `value of ${key}` });
    assertEquals(result.idResponse, { ...EMPTY_ID, [field]: `value of ${key}` }, key);
  }
  // Both spellings present: the docs' spelling first, the mobile one when the first says nothing.
  const both = await resultOf({ SecondaryIDNumber: "docs", Secondary_ID_Number: "mobile" });
  assertStrictEquals(both.idResponse?.secondaryIdNumber, "docs");
  const fallback = await resultOf({ SecondaryIDNumber: "Not Available", Secondary_ID_Number: "mobile" });
  assertStrictEquals(fallback.idResponse?.secondaryIdNumber, "mobile");
});

test("JobResult.idResponse reads IDNumberPreviouslyRegistered as a boolean or a true/false string", async () => {
  const cases: Array<[JsonValue, boolean | undefined]> = [
    [true, true],
    [false, false],
    ["true", true],
    ["false", false],
    [" TRUE ", true],
    ["yes", undefined],
    [1, undefined],
    [0, undefined],
    [null, undefined],
    [[], undefined],
    [{}, undefined],
  ];
  for (const [value, expected] of cases) {
    const result = await resultOf({ IDNumberPreviouslyRegistered: value });
    assertStrictEquals(result.idResponse?.idNumberPreviouslyRegistered, expected, JSON.stringify(value));
    assertEquals(result.raw.IDNumberPreviouslyRegistered, value);
  }
});

test("JobResult.idResponse reads UserIDsOfPreviousRegistrants as strings, numbers as their digits", async () => {
  const cases: Array<[JsonValue, string[] | undefined]> = [
    [[], []],
    [["user-1", "user-2"], ["user-1", "user-2"]],
    [[7, "user-2"], ["7", "user-2"]],
    [["user-1", null], undefined],
    [[["user-1"]], undefined],
    [[{ user_id: "user-1" }], undefined],
    [[true], undefined],
    ["user-1", undefined],
    [{}, undefined],
    [null, undefined],
  ];
  for (const [value, expected] of cases) {
    const result = await resultOf({ UserIDsOfPreviousRegistrants: value });
    assertEquals(result.idResponse?.previousRegistrantUserIds, expected, JSON.stringify(value));
    assertEquals(result.raw.UserIDsOfPreviousRegistrants, value, "kept as received");
  }
});

test("JobResult.idResponse keeps FullData whole, any JSON values, {} included", async () => {
  for (const value of [{}, { ImageBase64: JPEG, title: "" }, { a: null, b: [1, "2"], c: { d: false } }]) {
    const result = await resultOf({ FullData: value });
    assertEquals(result.idResponse?.fullData, value);
  }
  for (const value of ["{}", [], [{ a: 1 }], null, 3, true]) {
    const result = await resultOf({ FullData: value });
    assertStrictEquals(result.idResponse?.fullData, undefined, JSON.stringify(value));
    assertEquals(result.raw.FullData, value);
  }
});

test("JobResult.idResponse turns the placeholders seen in the field into undefined, raw keeping them", async () => {
  const placeholders = ["Not Available", "NaN-NaN-NaN", "", "   ", "not available", " Not Available "];
  for (const [, key] of STRING_FIELDS) {
    for (const placeholder of placeholders) {
      const result = await resultOf({ [key]: placeholder });
      assertEquals(result.idResponse, EMPTY_ID, `${key} = ${JSON.stringify(placeholder)}`);
      assertStrictEquals(result.raw[key], placeholder);
    }
  }
  // Text that only contains a placeholder is kept.
  const result = await resultOf({ Address: "Not Available Street 1", DOB: "NaN-NaN-NaN-1" });
  assertStrictEquals(result.idResponse?.address, "Not Available Street 1");
  assertStrictEquals(result.idResponse?.dob, "NaN-NaN-NaN-1");
});

test("JobResult.idResponse leaves values of other types undefined and in raw, and the answer verified", async () => {
  const others: JsonValue[] = [12, 0, true, false, null, [], ["NG"], {}, { value: "NG" }];
  for (const [field, key] of STRING_FIELDS) {
    for (const value of others) {
      const status = await answer({
        job_complete: true,
        job_success: true,
        result: { ResultCode: "1012", [key]: value },
      });
      assert(typeof status.result === "object");
      assertStrictEquals(status.result.idResponse?.[field], undefined, `${key} = ${JSON.stringify(value)}`);
      assertEquals(status.result.raw[key], value);
      assertEquals(describeResult(status).decision, "approved");
    }
  }
});

test("JobResult.idResponse is undefined for a result without ID keys, and there once any key is", async () => {
  assertStrictEquals(
    (await resultOf({ ResultCode: "0810", Actions: { Register_Selfie: "Approved" } })).idResponse,
    undefined,
  );
  assertStrictEquals((await resultOf({})).idResponse, undefined);
  // Keys that are not ID keys: a lowercase spelling, the KYB block, an id_info object nobody sends.
  const unrelated = await resultOf({ country: "NG", company_information: {}, id_info: { FullName: "x" } });
  assertStrictEquals(unrelated.idResponse, undefined);
  // A key that holds only a placeholder still means the result carried an ID response.
  assertEquals((await resultOf({ Photo: "Not Available" })).idResponse, EMPTY_ID);
  assertEquals((await resultOf({ FullData: null })).idResponse, EMPTY_ID);
  assertEquals((await resultOf({ UserIDsOfPreviousRegistrants: [] })).idResponse, {
    ...EMPTY_ID,
    previousRegistrantUserIds: [],
  });
});

test("JobStatus.idResponse is the result's, else the newest history entry's", async () => {
  const enrol = { ResultCode: "0810", ResultText: "Enroll User", ResultType: "SAIA" };
  const lookup = { ResultCode: "1012", ResultType: "ID Verification", FullName: "Jane Doe", IDType: "BVN" };
  // Biometric KYC: the result is the enrolment, the ID keys are in a history entry.
  const kyc = await answer({
    job_complete: true,
    result: enrol,
    history: [{ ResultCode: "1210" }, { ResultCode: "0814" }, lookup],
  });
  assertStrictEquals(kyc.idResponse?.fullName, "Jane Doe");
  assert(typeof kyc.result === "object");
  assertStrictEquals(kyc.result.idResponse, undefined);
  assertStrictEquals(kyc.idResponse, kyc.history?.[2]?.idResponse, "the history entry's own view");
  // The newest (last) entry that has one, even when entries without one come after it.
  const twice = await answer({
    job_complete: true,
    result: enrol,
    history: [{ ...lookup, FullName: "Older" }, { ...lookup, FullName: "Newer" }, { ResultCode: "0810" }],
  });
  assertStrictEquals(twice.idResponse?.fullName, "Newer");
  // The result's own wins over history.
  const own = await answer({ job_complete: true, result: { ...lookup, FullName: "On the result" }, history: [lookup] });
  assertStrictEquals(own.idResponse?.fullName, "On the result");
  // Without history (not asked for), a Biometric KYC answer has no ID response.
  assertStrictEquals((await answer({ job_complete: true, result: enrol })).idResponse, undefined);
  // A string result, or a history that is not an array of objects, is no source.
  const text = await answer({ job_complete: false, result: "No zip uploaded", history: [lookup] });
  assertStrictEquals(text.idResponse?.fullName, "Jane Doe");
  assertStrictEquals((await answer({ job_complete: true, history: [lookup, "x"] })).idResponse, undefined);
  assertStrictEquals((await answer({ job_complete: true, history: { 0: lookup } })).idResponse, undefined);
});

test("JobStatus.idResponse of the docs example is undefined, and the example is approved by job_success", async () => {
  const status = await answer(structuredClone(docsExample) as unknown as JsonObject);
  assertStrictEquals(status.idResponse, undefined, "the docs example carries no ID keys");
  const summary = describeResult(status);
  assertEquals([summary.decision, summary.basis, summary.code], ["approved", "job_success", "0810"]);
  assertEquals(status.imageLinks, { selfieImage: "image_link", error: undefined, raw: { selfie_image: "image_link" } });
});

test("a photo of the ID response decodes to JPEG bytes", async () => {
  const status = await answer({ job_complete: true, result: { ResultCode: "1012", Photo: JPEG } });
  const photo = status.idResponse?.photo;
  assert(photo !== undefined);
  const bytes = decodeImage(photo);
  assertEquals([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff], "JPEG start of image");
  assertEquals([...bytes.subarray(-2)], [0xff, 0xd9], "JPEG end of image");
  assertStrictEquals(bytes.length, 159);
});

test("JobStatus.imageLinks types selfie_image and error and keeps every key in raw", async () => {
  const links = {
    selfie_image: "https://bucket.s3.amazonaws.com/a/SID_Preview_FULL.jpg?X-Amz-Date=20240101T000000Z",
    id_card_image: "https://bucket.s3.amazonaws.com/a/id.jpg",
    id_card_back: "https://bucket.s3.amazonaws.com/a/back.jpg",
    liveness_images: ["https://bucket.s3.amazonaws.com/a/l1.jpg"],
    error: "No images",
  };
  const status = await answer({ job_complete: true, image_links: links });
  assertEquals(status.imageLinks, { selfieImage: links.selfie_image, error: "No images", raw: links });
  const odd = await answer({ job_complete: true, image_links: { selfie_image: ["x"], error: 5 } });
  assertEquals(odd.imageLinks, { selfieImage: undefined, error: undefined, raw: { selfie_image: ["x"], error: 5 } });
  assertEquals((await answer({ job_complete: true, image_links: {} })).imageLinks?.raw, {});
  for (const value of [undefined, null, "link", ["link"], 1]) {
    const body: JsonObject = { job_complete: true };
    if (value !== undefined) body.image_links = value;
    assertStrictEquals((await answer(body)).imageLinks, undefined, JSON.stringify(value));
  }
});

test("JobStatus.kycReceipt and kybReceipt are the receipt links, when strings", async () => {
  const receipt = "https://portal.smileidentity.com/api/v3/085/job_result_summary/0000000261/generate_pdf" +
    "?signature=ab+c/d=&timestamp=2022-10-27T13:25:48.000Z&environment=test";
  const status = await answer({ job_complete: true, kyc_receipt: receipt, kyb_receipt: "https://example.com/kyb" });
  assertStrictEquals(status.kycReceipt, receipt, "as received, + and / left raw");
  assertStrictEquals(status.kybReceipt, "https://example.com/kyb");
  const none = await answer({ job_complete: true });
  assertEquals([none.kycReceipt, none.kybReceipt], [undefined, undefined]);
  const odd = await answer({ job_complete: true, kyc_receipt: { url: receipt }, kyb_receipt: null });
  assertEquals([odd.kycReceipt, odd.kybReceipt], [undefined, undefined]);
  assertEquals(odd.raw.kyc_receipt, { url: receipt });
});

test("verifyCallback() types the ID response of a callback body", async () => {
  const body = {
    ResultCode: "1012",
    ResultType: "ID Verification",
    PartnerParams: { user_id: "user-1", job_id: "job-1", job_type: 5 },
    FullName: "Jane Doe",
    DOB: "NaN-NaN-NaN",
    Photo: JPEG,
    ...(await signer.sign()),
  };
  const { payload } = await verifyCallback(signer, body, { replayGuard: false });
  assert(typeof payload.result === "object");
  assertStrictEquals(payload.result.idResponse?.fullName, "Jane Doe");
  assertStrictEquals(payload.result.idResponse?.dob, undefined);
  assertEquals([...decodeImage(payload.result.idResponse!.photo!).subarray(0, 3)], [0xff, 0xd8, 0xff]);
});
