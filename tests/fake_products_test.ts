// The fake Smile ID's product shapes (`addJob({ …, product })`), read through the client.

import { test } from "node:test";
import { assert, assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import { createClient, decodeImage, describeResult, imageLinkExpiry, type JobStatus, verifySignature } from "../mod.ts";
import { createFakeSmileId, createTestClock, type FakeProduct } from "../src/testing/mod.ts";
import { assertRejectsWithCode, assertThrowsWithCode } from "./_helpers.ts";

const partnerId = "085";
const apiKey = "fake-products-test-key";

function setup() {
  const clock = createTestClock("2024-01-01T00:00:00.000Z");
  const fake = createFakeSmileId({ partnerId, apiKey, clock });
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch, clock });
  return { clock, fake, client };
}

async function statusOf(product: FakeProduct, ask: { includeHistory?: boolean; includeImageLinks?: boolean } = {}) {
  const { fake, client } = setup();
  fake.addJob({ userId: "user-1", jobId: "job-1", product });
  return await client.getJobStatus({ userId: "user-1", jobId: "job-1", ...ask });
}

/** Written out here from the list, independently of src/testing/_products.ts. */
const PRODUCTS: ReadonlyArray<{
  product: FakeProduct;
  jobType: string;
  idResponse: "result" | "history" | "none";
  decision: [string, string];
  receipt: boolean;
  selfie: boolean;
}> = [
  {
    product: "biometric_kyc",
    jobType: "1",
    idResponse: "history",
    decision: ["approved", "job_success"],
    receipt: true,
    selfie: true,
  },
  {
    product: "smartselfie_authentication",
    jobType: "2",
    idResponse: "none",
    decision: ["approved", "job_success"],
    receipt: false,
    selfie: true,
  },
  {
    product: "smartselfie_registration",
    jobType: "4",
    idResponse: "none",
    decision: ["approved", "job_success"],
    receipt: false,
    selfie: true,
  },
  {
    product: "enhanced_kyc",
    jobType: "5",
    idResponse: "result",
    decision: ["approved", "result_code"],
    receipt: false,
    selfie: false,
  },
  {
    product: "document_verification",
    jobType: "6",
    idResponse: "result",
    decision: ["approved", "job_success"],
    receipt: true,
    selfie: true,
  },
  {
    product: "business_verification",
    jobType: "7",
    idResponse: "none",
    decision: ["approved", "result_code"],
    receipt: false,
    selfie: false,
  },
  {
    product: "enhanced_document_verification",
    jobType: "11",
    idResponse: "result",
    decision: ["approved", "job_success"],
    receipt: false,
    selfie: true,
  },
];

test("addJob({ product }) gives every product a complete job with a result object of its job type", async () => {
  for (const { product, jobType, decision } of PRODUCTS) {
    const status = await statusOf(product);
    assertStrictEquals(status.jobComplete, true, product);
    assertStrictEquals(status.jobSuccess, true, product);
    assert(typeof status.result === "object", `${product}: a result object`);
    assertEquals(
      [status.result.partnerParams?.userId, status.result.partnerParams?.jobId, status.result.partnerParams?.jobType],
      ["user-1", "job-1", jobType],
      product,
    );
    const summary = describeResult(status);
    assertEquals([summary.decision, summary.basis], decision, product);
  }
});

test("addJob({ product }): products 1, 5, 6 and 11 carry an ID response with includeHistory, 2, 4 and 7 never", async () => {
  for (const { product, idResponse } of PRODUCTS) {
    const withHistory = await statusOf(product, { includeHistory: true });
    const without = await statusOf(product);
    if (idResponse === "none") {
      assertStrictEquals(withHistory.idResponse, undefined, product);
      assertStrictEquals(without.idResponse, undefined, product);
      assert(withHistory.history?.every((entry) => entry.idResponse === undefined), product);
      continue;
    }
    const id = withHistory.idResponse;
    assert(id !== undefined, `${product}: an ID response with history`);
    assertStrictEquals(typeof id.idNumber, "string", product);
    assertStrictEquals(typeof id.fullName, "string", product);
    assertStrictEquals(id.country, "NG", product);
    // Without history, only the products that put it on the result have it.
    assertStrictEquals(without.idResponse === undefined, idResponse === "history", product);
    // Every image of the ID response is a real JPEG.
    for (const image of [id.photo, id.document]) {
      if (image === undefined) continue;
      const bytes = decodeImage(image);
      assertEquals([...bytes.subarray(0, 3), ...bytes.subarray(-2)], [0xff, 0xd8, 0xff, 0xff, 0xd9], product);
    }
  }
});

test("addJob({ product: 'biometric_kyc' }) puts the ID response in history: DIVA 1210, 0814, ID Verification 1012", async () => {
  const status = await statusOf("biometric_kyc", { includeHistory: true });
  assert(typeof status.result === "object");
  assertEquals(
    [status.result.resultCode, status.result.resultText, status.result.resultType],
    ["0810", "Enroll User", "SAIA"],
  );
  assertStrictEquals(status.result.idResponse, undefined, "the final result has no ID keys");
  assertStrictEquals(Object.keys(status.result.actions).length, 12);
  assertEquals(
    status.history?.map((entry) => [entry.resultCode, entry.resultType ?? null]),
    [["1210", "DIVA"], ["0814", null], ["1012", "ID Verification"]],
  );
  assert(status.history?.every((entry) => entry.partnerParams?.jobId === "job-1" && entry.smileJobId === "0000000001"));
  const id = status.idResponse;
  assertStrictEquals(id, status.history?.[2]?.idResponse);
  assertEquals(
    [id?.idType, id?.expirationDate, id?.phoneNumber, id?.idNumberPreviouslyRegistered, id?.previousRegistrantUserIds],
    ["BVN", undefined, undefined, false, []],
    '"Not Available" placeholders read as undefined',
  );
  assertEquals(id?.fullData, { watchListed: "NO" });
});

test("addJob({ product }): a receipt for products 1 and 6 that embeds each answer's own signed pair", async () => {
  const { clock, fake, client } = setup();
  for (const { product } of PRODUCTS) fake.addJob({ userId: "user-1", jobId: product, product });
  for (const { product, receipt } of PRODUCTS) {
    const status = await client.getJobStatus({ userId: "user-1", jobId: product });
    if (!receipt) {
      assertStrictEquals(status.kycReceipt, undefined, product);
      assertStrictEquals(status.raw.kyc_receipt, undefined, product);
      continue;
    }
    const url = status.kycReceipt;
    assert(url !== undefined, product);
    assertMatch(
      url,
      /^https:\/\/portal\.fake-smile-id\.invalid\/api\/v3\/085\/job_result_summary\/\d{10}\/generate_pdf\?/,
    );
    // The pair is the answer's own, inserted raw (no percent-encoding), as in Smile ID's answers.
    assertStrictEquals(
      url.slice(url.indexOf("?")),
      `?signature=${status.signature}&timestamp=${status.timestamp}&environment=test`,
    );
    // ...and so it passes the signature check: the reason it must never be logged.
    assertStrictEquals(
      await verifySignature({ partnerId, apiKey, timestamp: status.timestamp, signature: status.signature }),
      true,
    );
    // A later answer carries a later pair, so another receipt URL.
    clock.advance(1000);
    const again = await client.getJobStatus({ userId: "user-1", jobId: product });
    assert(again.kycReceipt !== url, `${product}: the receipt changes per answer`);
  }
});

test("addJob({ product }): image links are presigned at each answer's time for 15 minutes", async () => {
  const { clock, fake, client } = setup();
  for (const { product } of PRODUCTS) fake.addJob({ userId: "user-1", jobId: product, product });
  for (const { product, selfie } of PRODUCTS) {
    const query = { userId: "user-1", jobId: product, includeImageLinks: true };
    const status: JobStatus = await client.getJobStatus(query);
    if (!selfie) {
      assertEquals(status.imageLinks?.raw, {}, product);
      continue;
    }
    const link = status.imageLinks?.selfieImage;
    assert(link !== undefined, product);
    assertMatch(link, new RegExp(`^https://fake-smile-id\\.invalid/085/${product}/SID_Preview_FULL\\.jpg\\?X-Amz-`));
    assertStrictEquals(imageLinkExpiry(link)?.toISOString(), new Date(clock.now() + 900_000).toISOString(), product);
    clock.advance(60_000);
    const later = await client.getJobStatus(query);
    assertStrictEquals(
      imageLinkExpiry(later.imageLinks!.selfieImage!)?.getTime(),
      clock.now() + 900_000,
      `${product}: a fresh link per answer`,
    );
  }
});

test("addJob({ product }) lets result, history and imageLinks given beside it win", async () => {
  const { fake, client } = setup();
  fake.addJob({
    userId: "user-1",
    jobId: "job-1",
    product: "biometric_kyc",
    result: { ResultCode: "1022", ResultText: "No Match" },
    imageLinks: { selfie_image: "https://example.invalid/mine.jpg" },
  });
  const status = await client.getJobStatus({
    userId: "user-1",
    jobId: "job-1",
    includeHistory: true,
    includeImageLinks: true,
  });
  assertEquals(describeResult(status).decision, "rejected");
  assertStrictEquals(status.history?.length, 3, "the product's history is kept");
  assertStrictEquals(status.imageLinks?.selfieImage, "https://example.invalid/mine.jpg", "not presigned");
});

test("addJob() without product keeps the default job; an unknown product is invalid_argument", async () => {
  const { fake, client } = setup();
  fake.addJob({ userId: "user-1", jobId: "job-1" });
  const status = await client.getJobStatus({ userId: "user-1", jobId: "job-1", includeImageLinks: true });
  assert(typeof status.result === "object");
  assertEquals([status.result.resultCode, status.idResponse, status.kycReceipt], ["1012", undefined, undefined]);
  assertStrictEquals(status.imageLinks?.selfieImage, "https://fake-smile-id.invalid/images/job-1/selfie.jpg");
  for (const product of ["kyc", "BIOMETRIC_KYC", 1, null, "toString", "__proto__"]) {
    const error = assertThrowsWithCode(
      () => fake.addJob({ userId: "user-2", jobId: `other-${String(product)}`, product: product as FakeProduct }),
      "invalid_argument",
      /^Option product must be one of "biometric_kyc", /,
    );
    assert(error.message.length < 400);
  }
  // The refused jobs were not added.
  const error = await assertRejectsWithCode(
    () => client.getJobStatus({ userId: "user-2", jobId: "other-kyc" }),
    "http",
  );
  assertStrictEquals(error.status, 404);
});
