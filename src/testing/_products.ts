// Product-shaped jobs for the fake Smile ID (`addJob({ userId, jobId, product })`): the result,
// history, image links and receipt a job of each Smile ID product has, as the sources show them.
// No source shows one complete answer per product; each shape below says which sources it is
// assembled from (the same evidence as docs/answers.md). Every personal value is invented; the
// photos are one real 8×8 grey JPEG (159 bytes).

import type { JsonObject, JsonValue } from "../types.ts";
import { clone, isObject } from "./_protocol.ts";
import { invalidArgument, quote } from "../_validate.ts";

/**
 * The Smile ID products the fake can shape a job as, with the `job_type` each puts in
 * `PartnerParams`:
 *
 * | product | job_type | ID response | receipt |
 * |---|---|---|---|
 * | `"biometric_kyc"` | `"1"` | in `history` (ask with `includeHistory`) | `kyc_receipt` |
 * | `"smartselfie_authentication"` | `2` | none | none |
 * | `"smartselfie_registration"` | `4` | none | none |
 * | `"enhanced_kyc"` | `5` | on the result | none |
 * | `"document_verification"` | `6` | on the result | `kyc_receipt` |
 * | `"business_verification"` | `7` (as the server SDKs number it; the mobile SDKs use 7 for BVN) | none (a KYB block) | none |
 * | `"enhanced_document_verification"` | `11` | on the result | none |
 *
 * Every shape is a complete job with a result object and `job_success: true`. Image links
 * (`selfie_image`, in the products that take a selfie) are S3-style links on an `.invalid` host,
 * presigned (signature version 4, 15 minutes) at each answer's time, so `imageLinkExpiry` reads
 * them; the receipt embeds each answer's own `signature` and `timestamp`, as Smile ID's do.
 *
 * @example A Biometric KYC job: the ID response sits in history
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createClient, decodeImage, describeResult } from "@smile-id-kit/job-status";
 * import { createFakeSmileId, type FakeProduct } from "@smile-id-kit/job-status/testing";
 *
 * const product: FakeProduct = "biometric_kyc";
 * const fake = createFakeSmileId({ partnerId: "085", apiKey: "test-key" });
 * fake.addJob({ userId: "user-1", jobId: "job-1", product });
 * const client = createClient({ partnerId: "085", apiKey: "test-key", fetch: fake.fetch });
 * const query = { userId: "user-1", jobId: "job-1" };
 * assertEquals((await client.getJobStatus(query)).idResponse, undefined); // the result is "Enroll User"
 * const status = await client.getJobStatus({ ...query, includeHistory: true });
 * assertEquals([describeResult(status).decision, describeResult(status).basis], ["approved", "job_success"]);
 * assertEquals(status.idResponse?.idType, "BVN");
 * assertEquals([...decodeImage(status.idResponse!.photo!).subarray(0, 3)], [0xff, 0xd8, 0xff]);
 * ```
 */
export type FakeProduct =
  | "biometric_kyc"
  | "smartselfie_authentication"
  | "smartselfie_registration"
  | "enhanced_kyc"
  | "document_verification"
  | "business_verification"
  | "enhanced_document_verification";

/** A real 8×8 grey baseline JPEG (JFIF, one component, one Huffman code per table), as base64. */
export const FAKE_PHOTO =
  "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB" +
  "AQEBAQEBAQEBAQEBAQH/wAALCAAIAAgBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAAP/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AP//Z";

/** How long the fake's presigned image links last: 15 minutes (`X-Amz-Expires=900`). */
export const FAKE_LINK_SECONDS = 900;

/** A shaped job: what `addJob` uses for the fields the test left out, and the per-answer step. */
export interface ProductJob {
  readonly result: JsonObject;
  readonly history: readonly JsonObject[];
  readonly imageLinks: JsonObject;
  /** Adds what depends on each answer (receipt, presigned links) to a signed 200 body. */
  readonly finish: (answer: JsonObject, at: number) => JsonObject;
}

/** Builds the shape of `product` for one job; an unknown product throws `invalid_argument`. */
export function productJob(product: unknown, partnerId: string, userId: string, jobId: string): ProductJob {
  const shape = typeof product === "string" && Object.hasOwn(SHAPES, product)
    ? SHAPES[product as FakeProduct]
    : undefined;
  if (shape === undefined) {
    throw invalidArgument(
      "Option product",
      `one of ${Object.keys(SHAPES).map((name) => quote(name)).join(", ")}`,
      product,
    );
  }
  const params = { user_id: userId, job_id: jobId, job_type: shape.jobType };
  const entry = (fields: JsonObject): JsonObject => ({ ...clone(fields), PartnerParams: params });
  const result = entry(shape.result);
  const unsigned = shape.selfie
    ? `https://fake-smile-id.invalid/${encodeURIComponent(partnerId)}/${encodeURIComponent(jobId)}/SID_Preview_FULL.jpg`
    : undefined;
  return {
    result,
    history: shape.history?.map(entry) ?? [result],
    imageLinks: unsigned === undefined ? {} : { selfie_image: unsigned },
    finish(answer, at) {
      const out = { ...answer };
      const links = out.image_links;
      if (isObject(links)) {
        out.image_links = Object.fromEntries(
          Object.entries(links).map(([key, value]) => [key, value === unsigned ? presign(unsigned, at) : value]),
        );
      }
      // Smile ID's receipt carries the answer's own pair as sent: not percent-encoded.
      const smileJobId = isObject(out.result) ? out.result.SmileJobID : undefined;
      if (shape.receipt && out.job_complete === true && typeof smileJobId === "string") {
        out.kyc_receipt =
          `https://portal.fake-smile-id.invalid/api/v3/${encodeURIComponent(partnerId)}/job_result_summary/` +
          `${encodeURIComponent(smileJobId)}/generate_pdf?signature=${out.signature}&timestamp=${out.timestamp}` +
          "&environment=test";
      }
      return out;
    },
  };
}

/** An S3-style SigV4 presigned URL signed at `at` (the signature is made up: the host does not exist). */
function presign(url: string, at: number): string {
  const date = new Date(at).toISOString().replace(/[-:]|\.\d{3}/g, "");
  const query = [
    "X-Amz-Algorithm=AWS4-HMAC-SHA256",
    `X-Amz-Credential=AKIAFAKESMILEID%2F${date.slice(0, 8)}%2Fus-west-2%2Fs3%2Faws4_request`,
    `X-Amz-Date=${date}`,
    `X-Amz-Expires=${FAKE_LINK_SECONDS}`,
    "X-Amz-SignedHeaders=host",
    `X-Amz-Signature=${"0f".repeat(32)}`,
  ];
  return `${url}?${query.join("&")}`;
}

interface Shape {
  readonly jobType: JsonValue;
  readonly result: JsonObject;
  /** `history` entries; without them the history is `[result]`. */
  readonly history?: readonly JsonObject[];
  /** Whether the product takes a selfie (and so has a `selfie_image` link). */
  readonly selfie: boolean;
  /** Whether answers carry a `kyc_receipt` (Biometric KYC and Document Verification). */
  readonly receipt: boolean;
}

const BKYC_ACTIONS: JsonObject = {
  Verify_ID_Number: "Verified",
  Return_Personal_Info: "Returned",
  Selfie_Provided: "Passed",
  Selfie_To_ID_Authority_Compare: "Completed",
  Register_Selfie: "Approved",
  Liveness_Check: "Passed",
  Selfie_To_ID_Card_Compare: "Not Applicable",
  Selfie_To_Registered_Selfie_Compare: "Not Applicable",
  Update_Registered_Selfie_On_File: "Not Applicable",
  Human_Review_Compare: "Not Applicable",
  Human_Review_Liveness_Check: "Not Applicable",
  Human_Review_Update_Selfie: "Not Applicable",
};

const DOCV_RESULT: JsonObject = {
  ResultCode: "0810",
  ResultText: "Document Verified After Human Review",
  ResultType: "Document Verification",
  SmileJobID: "0000000003",
  JSONVersion: "1.0.0",
  IsFinalResult: "true",
  Actions: {
    Verify_Document: "Passed",
    Selfie_To_ID_Card_Compare: "Completed",
    Liveness_Check: "Passed",
    Register_Selfie: "Approved",
    Return_Personal_Info: "Returned",
    Human_Review_Compare: "Passed",
    Human_Review_Liveness_Check: "Passed",
  },
  Country: "NG",
  IDType: "PASSPORT",
  IDNumber: "B00000000",
  FullName: "Jane Doe",
  DOB: "1990-01-01",
  Gender: "F",
  ExpirationDate: "2030-01-01",
  Document: FAKE_PHOTO,
};

const SHAPES: Readonly<Record<FakeProduct, Shape>> = {
  // Assembled from three sources, none complete: the final result is the SAIA 0810 "Enroll User"
  // entry of Smile ID's job-status docs example (and the Node SDK's v1.2.0 README), without ID
  // keys; the history is the Python SDK's tests/conftest.py sequence DIVA 1210 → 0814 → the
  // "ID Verification" 1012 entry with the ID keys (as the Android SDK's JobResultAdapterTest
  // parses it); the receipt is the shape of the Ruby SDK's recorded sandbox answers.
  biometric_kyc: {
    jobType: "1",
    selfie: true,
    receipt: true,
    result: {
      ResultCode: "0810",
      ResultText: "Enroll User",
      ResultType: "SAIA",
      SmileJobID: "0000000001",
      JSONVersion: "1.0.0",
      Source: "WebAPI",
      IsFinalResult: "true",
      IsMachineResult: "true",
      ConfidenceValue: "99",
      Actions: BKYC_ACTIONS,
    },
    history: [
      {
        ResultCode: "1210",
        ResultText: "Enroll User",
        ResultType: "DIVA",
        SmileJobID: "0000000001",
        JSONVersion: "1.0.0",
        IsFinalResult: "true",
      },
      {
        ResultCode: "0814",
        ResultText: "Provisional Enroll - Under Review",
        SmileJobID: "0000000001",
        ConfidenceValue: "97.000000",
      },
      {
        ResultCode: "1012",
        ResultText: "ID Validated",
        ResultType: "ID Verification",
        SmileJobID: "0000000001",
        Country: "NG",
        IDType: "BVN",
        IDNumber: "00000000000",
        FullName: "Jane Doe",
        DOB: "1990-01-01",
        ExpirationDate: "Not Available",
        Gender: "Female",
        PhoneNumber: "Not Available",
        Photo: FAKE_PHOTO,
        FullData: { watchListed: "NO" },
        IDNumberPreviouslyRegistered: false,
        UserIDsOfPreviousRegistrants: [],
      },
    ],
  },
  // The authentication callback of the Node SDK's v1.2.0 README: DIVA 1220 "Authenticated".
  smartselfie_authentication: {
    jobType: 2,
    selfie: true,
    receipt: false,
    result: {
      ResultCode: "1220",
      ResultText: "Authenticated",
      ResultType: "DIVA",
      SmileJobID: "0000000005",
      JSONVersion: "1.0.0",
      IsFinalResult: "true",
      IsMachineResult: "true",
      ConfidenceValue: "100.000000",
    },
  },
  // Smile ID's job-status docs (docs.smileidentity.com/results/job-status): a SAIA "Enroll User"
  // result printed without a ResultCode.
  smartselfie_registration: {
    jobType: 4,
    selfie: true,
    receipt: false,
    result: {
      ResultText: "Enroll User",
      ResultType: "SAIA",
      SmileJobID: "0000000004",
      JSONVersion: "1.0.0",
      IsFinalResult: "true",
      IsMachineResult: "true",
      ConfidenceValue: "100",
    },
  },
  // The Ruby SDK's recorded sandbox id_verification answer and the Python SDK's
  // tests/test_id_api.py: the ID keys on the result itself, "ID API" as Source. No selfie.
  enhanced_kyc: {
    jobType: 5,
    selfie: false,
    receipt: false,
    result: {
      ResultCode: "1012",
      ResultText: "ID Number Validated",
      ResultType: "ID Verification",
      Source: "ID API",
      SmileJobID: "0000000002",
      JSONVersion: "1.0.0",
      IsFinalResult: "true",
      Actions: { Verify_ID_Number: "Verified", Return_Personal_Info: "Returned" },
      Country: "NG",
      IDType: "PASSPORT",
      IDNumber: "A00000000",
      ExpirationDate: "2030-01-01",
      FullName: "JANE DOE",
      DOB: "1990-01-01",
      Gender: "Female",
      Photo: FAKE_PHOTO,
      PhoneNumber: "Not Available",
      Address: "Not Available",
      FullData: {},
    },
  },
  // The Android SDK's JobResultAdapterTest and the Java SDK's SmileIdentityServiceTest: OCR
  // fields and the document image on the result, 0810 "Document Verified After Human Review".
  document_verification: { jobType: 6, selfie: true, receipt: true, result: DOCV_RESULT },
  // The Node SDK's test/fixtures/business_verification_response.json (arrays cut to one
  // element): a KYB block instead of an ID response. Receipts (kyb_receipt) have no example
  // anywhere, so the fake sends none.
  business_verification: {
    jobType: 7,
    selfie: false,
    receipt: false,
    result: {
      ResultCode: "1012",
      ResultText: "Business Verified",
      ResultType: "Business Verification",
      SmileJobID: "0000000006",
      JSONVersion: "1.0.0",
      IsFinalResult: "true",
      Actions: { Verify_Business: "Verified", Return_Business_Info: "Returned" },
      company_information: {
        legal_name: "EXAMPLE LIMITED",
        registration_number: "0000000",
        status: "ACTIVE",
        company_type: "PRIVATE_COMPANY_LIMITED_BY_SHARES",
        country: "Nigeria",
        tax_id: "N/A",
      },
      directors: [{ name: "Jane Doe", id_type: "Passport", id_number: "A000000", gender: "FEMALE" }],
      beneficial_owners: [{ name: "Jane Doe", shareholder_type: "Individual", shareholdings: "100000" }],
      fiduciaries: [],
      proprietors: [],
      documents: { search_certificate: "" },
    },
  },
  // No recorded answer exists: Document Verification plus the Biometric KYC key set, as the
  // Android, iOS and React Native models type it (their spelling Secondary_ID_Number). The
  // ResultText is the fake's own.
  enhanced_document_verification: {
    jobType: 11,
    selfie: true,
    receipt: false,
    result: {
      ...DOCV_RESULT,
      ResultText: "Enhanced Document Verified",
      SmileJobID: "0000000007",
      Secondary_ID_Number: "00000000000",
      Photo: FAKE_PHOTO,
      FullData: {},
      IDNumberPreviouslyRegistered: false,
      UserIDsOfPreviousRegistrants: [],
    },
  },
};
