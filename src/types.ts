/**
 * The parsed data this library returns: hand-written interfaces, so no validation library's
 * types leak into the public API. Every parsed object keeps the JSON it came from as `raw`,
 * so nothing the server sent is lost; the other fields are typed views of it. A value of an
 * unexpected type is never a reason to reject a signed answer (only a missing or unreadable
 * `job_complete` is): its typed field is `undefined` and the value stays in `raw`.
 *
 * @module
 */

/**
 * Any JSON value.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { JsonValue } from "@smile-id-kit/job-status";
 *
 * function depth(value: JsonValue): number {
 *   if (typeof value !== "object" || value === null) return 0;
 *   return 1 + Math.max(0, ...Object.values(value).map(depth));
 * }
 * assertEquals(depth({ ok: true, list: [1, "two", null, { deep: [] }] }), 4);
 * ```
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/**
 * A JSON object, as `JSON.parse` returns it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createSigner, type JsonObject, parseJobStatusResponse } from "@smile-id-kit/job-status";
 *
 * const signer = createSigner({ partnerId: "085", apiKey: "key" });
 * const body: JsonObject = JSON.parse('{"job_complete":true,"result":{"ResultCode":"1012","Extra":[1]}}');
 * const status = await parseJobStatusResponse(signer, { ...body, ...(await signer.sign()) });
 * assertEquals(typeof status.result === "object" && status.result.raw.Extra, [1]); // kept as received
 * ```
 */
export interface JsonObject {
  /** Any member. */
  [key: string]: JsonValue;
}

/**
 * The `PartnerParams` of a result: ids echoed back, the job type, and any extras the partner
 * sent (in `raw`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createSigner, type PartnerParams, verifyCallback } from "@smile-id-kit/job-status";
 *
 * function label(params: PartnerParams | undefined): string {
 *   return `${params?.userId}/${params?.jobId} (type ${params?.jobTypeNumber})`;
 * }
 * const signer = createSigner({ partnerId: "085", apiKey: "key" });
 * const body = { ResultCode: "1012", PartnerParams: { user_id: 7, job_id: "j", job_type: "5" }, ...(await signer.sign()) };
 * const { payload } = await verifyCallback(signer, body, { replayGuard: false });
 * assertEquals(typeof payload.result === "object" && label(payload.result.partnerParams), "7/j (type 5)");
 * ```
 */
export interface PartnerParams {
  /** `user_id`, as a string even if sent as a number; `undefined` for any other type. */
  readonly userId: string | undefined;
  /** `job_id`, as a string even if sent as a number; `undefined` for any other type. */
  readonly jobId: string | undefined;
  /** `job_type` as sent, as a string (`"1"` whether the server sent `1` or `"1"`); `undefined` for any other type. */
  readonly jobType: string | undefined;
  /** `job_type` as a number, when it is one. */
  readonly jobTypeNumber: number | undefined;
  /** Every parameter as received, partner extras included. */
  readonly raw: JsonObject;
}

/**
 * One job result: the `result` of a job-status answer, an entry of its `history`, or the body
 * of a callback. Stringly fields are typed (`"true"` → `true`, `"99"` → `99`); the strings as
 * sent stay in `raw`. A field whose value has another type (`null`, an array, an object where
 * a string belongs) is `undefined` here and kept in `raw`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createSigner, type JobResult, parseJobStatusResponse } from "@smile-id-kit/job-status";
 *
 * function passedLiveness(result: JobResult | string | undefined): boolean {
 *   return typeof result === "object" && result.actions.Liveness_Check === "Passed";
 * }
 * const signer = createSigner({ partnerId: "085", apiKey: "key" });
 * const result = { ResultCode: "0810", ConfidenceValue: "97.000000", Actions: { Liveness_Check: "Passed" } };
 * const status = await parseJobStatusResponse(signer, { job_complete: true, result, ...(await signer.sign()) });
 * assertEquals(passedLiveness(status.result), true);
 * assertEquals(typeof status.result === "object" && status.result.confidence, 97);
 * ```
 */
export interface JobResult {
  /** `ResultCode`, a four-digit string whose leading zeros matter (`"0810"`); a number becomes its digits. */
  readonly resultCode: string | undefined;
  /** `ResultText`, verbatim, when it is a string. */
  readonly resultText: string | undefined;
  /** `ResultType` (`"SAIA"`, `"ID Verification"`, …), when it is a string. */
  readonly resultType: string | undefined;
  /** `SmileJobID`, a string with leading zeros. */
  readonly smileJobId: string | undefined;
  /** `PartnerParams`, when it is a JSON object (an array is not). */
  readonly partnerParams: PartnerParams | undefined;
  /**
   * `Actions`: every key whose value is a string, as sent, unknown values included; `{}` when
   * absent or not an object. Values of other types (`null`, numbers) are left out (they stay in
   * `raw.Actions`); keys such as `__proto__` or `constructor` are ordinary own keys, kept only
   * with a string value.
   */
  readonly actions: Readonly<Record<string, string>>;
  /** `ConfidenceValue` as a number (`"97.000000"` → `97`), when it reads as one. */
  readonly confidence: number | undefined;
  /** `IsFinalResult` as a boolean (`true`/`false` or `"true"`/`"false"`). */
  readonly isFinalResult: boolean | undefined;
  /** `IsMachineResult` as a boolean (`true`/`false` or `"true"`/`"false"`). */
  readonly isMachineResult: boolean | undefined;
  /**
   * The ID response: the ID keys of this result (`FullName`, `IDNumber`, `Photo`, …), typed;
   * `undefined` when the result has none of them. Personal data: see {@linkcode IdResponse}.
   */
  readonly idResponse: IdResponse | undefined;
  /** The result object exactly as received. */
  readonly raw: JsonObject;
}

/**
 * The ID response of a result: what the ID authority (Enhanced KYC, Biometric KYC) or the
 * document (Document Verification) says about the person. Smile ID sends these as top-level keys
 * of the result object, siblings of `ResultCode`; this is their typed view. Every field is
 * `undefined` when the key is absent, holds a placeholder (`"Not Available"`, `"NaN-NaN-NaN"`,
 * an empty or blank string), or holds a value of another type; the value as sent stays in the
 * result's `raw`, so a verified answer is never refused for what is inside it. Keys Smile ID
 * adds for some ID types (`FirstName`, `Nationality`, …) and `Antifraud` are in `raw` only.
 *
 * This is personal data. The library never puts it in an error message, `String(error)` or
 * `JSON.stringify(error)`; keep it out of your own logs too. Photos are base64 text as sent:
 * {@linkcode decodeImage} turns one into bytes when you need them.
 *
 * In Biometric KYC the final `result` is usually the "Enroll User" entry without ID keys, and
 * the ID response is in the `"ID Verification"` entry of `history`: ask with
 * `includeHistory: true` and read {@linkcode JobStatus.idResponse}, which looks there too.
 *
 * @example Read the ID response of an Enhanced KYC result
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createSigner, type IdResponse, parseJobStatusResponse } from "@smile-id-kit/job-status";
 *
 * function greeting(id: IdResponse | undefined): string {
 *   return id?.fullName === undefined ? "Hello" : `Hello, ${id.fullName}`;
 * }
 * const signer = createSigner({ partnerId: "085", apiKey: "key" });
 * const result = {
 *   ResultCode: "1012",
 *   FullName: "Jane Doe",
 *   DOB: "NaN-NaN-NaN", // a placeholder
 *   IDNumberPreviouslyRegistered: "false", // the string form is read too
 *   UserIDsOfPreviousRegistrants: [],
 * };
 * const status = await parseJobStatusResponse(signer, { job_complete: true, result, ...(await signer.sign()) });
 * assertEquals(greeting(status.idResponse), "Hello, Jane Doe");
 * assertEquals([status.idResponse?.dob, status.idResponse?.idNumberPreviouslyRegistered], [undefined, false]);
 * ```
 */
export interface IdResponse {
  /** `Country`: usually ISO 3166 alpha-2 (`"NG"`); a full name (`"Nigeria"`) has been seen. */
  readonly country: string | undefined;
  /** `IDType`: `"BVN"`, `"PASSPORT"`, `"DRIVERS_LICENSE"`, … */
  readonly idType: string | undefined;
  /** `IDNumber`, as sent. */
  readonly idNumber: string | undefined;
  /**
   * `SecondaryIDNumber` (the docs' spelling) or `Secondary_ID_Number` (the mobile SDKs'): a
   * second ID number printed on the same document.
   */
  readonly secondaryIdNumber: string | undefined;
  /** `IssuanceDate` (`YYYY-MM-DD`), as sent. */
  readonly issuanceDate: string | undefined;
  /** `ExpirationDate` (`YYYY-MM-DD`), as sent. */
  readonly expirationDate: string | undefined;
  /** `FullName`, as sent (upper case and double spaces occur). */
  readonly fullName: string | undefined;
  /** `DOB`, the date of birth (`YYYY-MM-DD`), as sent. */
  readonly dob: string | undefined;
  /** `Gender` (`"Male"`, `"M"`, …), as sent. */
  readonly gender: string | undefined;
  /** `PhoneNumber`, as sent. */
  readonly phoneNumber: string | undefined;
  /** `PhoneNumber2`, as sent. */
  readonly phoneNumber2: string | undefined;
  /** `Address`, as sent; Smile ID warns it may not be the owner's current address. */
  readonly address: string | undefined;
  /**
   * `Photo`: the ID authority's photo as base64 text (a JPEG, `/9j/…`, without a `data:`
   * prefix), as sent; {@linkcode decodeImage} gives its bytes.
   */
  readonly photo: string | undefined;
  /**
   * `Document`: an image of the document as base64 text (the submitted document in Document
   * Verification, the authority's image of the card in some lookups), as sent.
   */
  readonly document: string | undefined;
  /**
   * `FullData`: the provider's own record, a JSON object with values of any JSON type (strings,
   * booleans and numbers have been seen), `{}` when sent empty. It may hold a second copy of the
   * photo (`ImageBase64`).
   */
  readonly fullData: JsonObject | undefined;
  /** `IDNumberPreviouslyRegistered`: a boolean, or the string `"true"`/`"false"`. */
  readonly idNumberPreviouslyRegistered: boolean | undefined;
  /**
   * `UserIDsOfPreviousRegistrants`: your own earlier `user_id`s registered with this ID number
   * (a number counts as its decimal string); `undefined` when an element is of another type.
   */
  readonly previousRegistrantUserIds: readonly string[] | undefined;
}

/**
 * The `image_links` of an answer: expiring, signed links to the job's images (asked for with
 * `includeImageLinks`). The links are bearer URLs to biometric images: anyone who has one can
 * download the image until it expires, so keep them out of logs (the CLI prints them without
 * their query). Smile ID documents no lifetime: {@linkcode imageLinkExpiry} reads it from the
 * link when it can, and {@linkcode downloadImage} fetches an image safely.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createSigner, type ImageLinks, parseJobStatusResponse } from "@smile-id-kit/job-status";
 *
 * function linkNames(links: ImageLinks | undefined): string[] {
 *   return Object.keys(links?.raw ?? {});
 * }
 * const signer = createSigner({ partnerId: "085", apiKey: "key" });
 * const image_links = { selfie_image: "https://example.com/selfie.jpg", id_card_image: "https://example.com/id.jpg" };
 * const status = await parseJobStatusResponse(signer, { job_complete: true, image_links, ...(await signer.sign()) });
 * assertEquals(status.imageLinks?.selfieImage, "https://example.com/selfie.jpg");
 * assertEquals(linkNames(status.imageLinks), ["selfie_image", "id_card_image"]);
 * ```
 */
export interface ImageLinks {
  /** `selfie_image`: the link to the selfie, when it is a string. */
  readonly selfieImage: string | undefined;
  /** `error`: a string Smile ID may send instead of a link (its meaning is undocumented). */
  readonly error: string | undefined;
  /**
   * The `image_links` object as received, every key included (`id_card_image`,
   * `id_card_back`, liveness images and others have been seen in the field).
   */
  readonly raw: JsonObject;
}

/**
 * A verified job-status answer.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createSigner, type JobStatus, parseJobStatusResponse } from "@smile-id-kit/job-status";
 *
 * function summary(status: JobStatus): string {
 *   if (!status.jobComplete) return "still processing";
 *   return typeof status.result === "string" ? status.result : status.result?.resultText ?? "";
 * }
 * const signer = createSigner({ partnerId: "085", apiKey: "key" });
 * const status = await parseJobStatusResponse(signer, { job_complete: "false", ...(await signer.sign()) });
 * assertEquals(summary(status), "still processing");
 * ```
 */
export interface JobStatus {
  /**
   * `job_complete`: whether a final result has been reported; the strings `"true"`/`"false"`
   * are read as booleans. The one field without which an answer is refused (`schema`).
   */
  readonly jobComplete: boolean;
  /**
   * `job_success`: whether the job achieved a successful match, enrolment or authentication
   * (`"true"`/`"false"` read as booleans; `undefined` for `null` or any other value).
   */
  readonly jobSuccess: boolean | undefined;
  /**
   * `code` (`"2302"`; `"2314"`, "No zip file received", comes with `job_complete: false`), as a
   * string even if sent as a number; `undefined` for `null` or any other type.
   */
  readonly code: string | undefined;
  /**
   * `result`: a result object, or a plain string such as `"No zip uploaded"`; `undefined` when
   * absent or of another type (an array is not a result object).
   */
  readonly result: JobResult | string | undefined;
  /** `history`, when requested and an array of result objects. */
  readonly history: readonly JobResult[] | undefined;
  /**
   * The job's ID response: the result's, else that of the newest `history` entry that has one
   * (entries are read from the last, the order Smile ID's examples list them in). Biometric KYC
   * puts it in a `history` entry, not in `result`: ask with `includeHistory: true` to get it.
   * Personal data: see {@linkcode IdResponse}.
   */
  readonly idResponse: IdResponse | undefined;
  /** `image_links`, when requested and a JSON object; `undefined` when the answer has none. */
  readonly imageLinks: ImageLinks | undefined;
  /**
   * `kyc_receipt`: the link to a PDF summary of the checks (Biometric KYC, Document
   * Verification), when it is a string. Its query embeds this answer's own `timestamp` and
   * `signature`, a pair that passes the callback signature check for your partner id: never
   * log it unredacted (strip the query), and never treat it as proof of anything.
   */
  readonly kycReceipt: string | undefined;
  /**
   * `kyb_receipt`: the receipt link of a Business Verification, when it is a string. Treat it
   * like `kycReceipt`: it may embed a signed pair too, so never log it unredacted.
   */
  readonly kybReceipt: string | undefined;
  /** The server's timestamp, exactly as received and verified. */
  readonly timestamp: string;
  /** The server's signature over `timestamp`, verified. */
  readonly signature: string;
  /** The whole answer exactly as received, unknown fields included. */
  readonly raw: JsonObject;
}

/**
 * A source of time: what polling reads and sleeps on, what callback verification and the
 * in-memory replay guard read, what the fake Smile ID signs with. Every option that reads time
 * is named `clock` and takes one of these, so a single object (such as the `TestClock` from
 * `./testing`) drives all of them. The default everywhere is the system clock: `Date.now` and
 * a timer.
 *
 * @example A clock that runs 5 seconds ahead of the system's
 * ```ts
 * import { assert } from "@std/assert";
 * import type { Clock } from "@smile-id-kit/job-status";
 *
 * const ahead: Clock = {
 *   now: () => Date.now() + 5000,
 *   sleep: (ms, signal) =>
 *     new Promise((resolve, reject) => {
 *       if (signal?.aborted) return reject(signal.reason);
 *       const timer = setTimeout(resolve, ms);
 *       signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
 *     }),
 * };
 * assert(ahead.now() > Date.now());
 * ```
 */
export interface Clock {
  /** The current time in milliseconds since the epoch. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds of this clock's time. When `signal` aborts it must reject at
   * once with the signal's reason and leave no timer running.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
