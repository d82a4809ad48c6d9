// Property-based tests with fast-check (runs, seeds and replays: ./_properties.ts).

import { test } from "node:test";
import { assert, assertEquals, assertMatch, assertStrictEquals, fail } from "@std/assert";
import fc from "fast-check";
import { SmileIdError } from "../../src/errors.ts";
import { createSigner, generateSignature, verifySignature } from "../../src/signature.ts";
import { parseJobStatusResponse } from "../../src/response.ts";
import { verifyCallback } from "../../src/callback.ts";
import { createMemoryReplayGuard } from "../../src/replay_guard.ts";
import type { JsonObject, JsonValue } from "../../src/types.ts";
import { check as checkProperty, LONG, NUM_RUNS } from "./_properties.ts";

/** Runs a property NUM_RUNS times, and checks after each run that no prototype was polluted. */
function check<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>): Promise<void> {
  return checkProperty(arbitrary, async (value) => {
    await predicate(value);
    assertNoPollution();
  });
}

function assertNoPollution(): void {
  assertEquals(Object.keys(Object.prototype), []);
  assertEquals(Object.keys(Array.prototype), []);
  const probe: Record<string, unknown> = {};
  for (const key of ["polluted", "isAdmin", "signature", "timestamp", "job_complete"]) {
    assertStrictEquals(probe[key], undefined, `Object.prototype.${key} was set`);
  }
}

/** Awaits a call that may throw synchronously or reject; returns the value or the error. */
async function settle<T>(call: () => T | Promise<T>): Promise<{ value: T } | { error: unknown }> {
  try {
    return { value: await call() };
  } catch (error) {
    return { error };
  }
}

function assertSmileIdError(error: unknown): asserts error is SmileIdError {
  if (!(error instanceof SmileIdError)) {
    fail(`expected a SmileIdError, got ${error instanceof Error ? error.stack : String(error)}`);
  }
}

// ---- arbitraries -----------------------------------------------------------------------------

/** Any Unicode text, one code point per unit (no lone surrogates). */
const unicode = (minLength: number, maxLength: number) => fc.string({ unit: "binary", minLength, maxLength });

/** One Unicode scalar value. */
const codePoint = fc.oneof(
  fc.integer({ min: 0, max: 0xd7ff }),
  fc.integer({ min: 0xe000, max: 0x10ffff }),
).map((n) => String.fromCodePoint(n));

const PROTO_KEYS = ["__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "then"];
const JOB_STATUS_KEYS = [
  "job_complete",
  "job_success",
  "code",
  "result",
  "history",
  "image_links",
  "timestamp",
  "signature",
];
const RESULT_KEYS = [
  "ResultCode",
  "ResultText",
  "ResultType",
  "SmileJobID",
  "PartnerParams",
  "Actions",
  "ConfidenceValue",
  "IsFinalResult",
  "IsMachineResult",
];

/** Object keys an attacker would pick: prototype pollution names, the protocol's own names, noise. */
const hostileKey = fc.oneof(
  fc.constantFrom(...PROTO_KEYS),
  fc.constantFrom(...JOB_STATUS_KEYS, ...RESULT_KEYS, "user_id", "job_id", "job_type"),
  unicode(0, 12),
);

/** Huge strings (100 kB to 2 MB), cheap to build. */
const hugeString = fc.tuple(unicode(1, 3), fc.integer({ min: 100_000, max: 2_000_000 }))
  .map(([unit, size]) => unit.repeat(Math.ceil(size / unit.length)));

/** A JSON object built from entries, so `__proto__` becomes an own key, as JSON.parse makes it. */
function jsonObject(key: fc.Arbitrary<string>, value: fc.Arbitrary<JsonValue>, maxKeys = 6): fc.Arbitrary<JsonObject> {
  return fc.array(fc.tuple(key, value), { maxLength: maxKeys }).map((entries) =>
    JSON.parse(JSON.stringify(Object.fromEntries(entries))) as JsonObject
  );
}

const jsonValue = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>;

/** Anything a caller or an attacker could hand over. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.anything({
      key: hostileKey,
      maxDepth: 3,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withNullPrototype: true,
      withObjectString: true,
      withSet: true,
      withSparseArray: true,
      withTypedArray: true,
      stringUnit: "binary",
    }),
  },
  { weight: 2, arbitrary: jsonValue },
  { weight: 2, arbitrary: jsonObject(hostileKey, jsonValue) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) },
  { weight: 2, arbitrary: fc.base64String({ minLength: 40, maxLength: 48 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "=", "\u0000", "null", "{}", "[]", "true") },
  { weight: 1, arbitrary: hugeString },
);

// ---- signatures ------------------------------------------------------------------------------

test(
  `generateSignature() → verifySignature() holds for arbitrary Unicode partner ids, keys and timestamps (${NUM_RUNS} runs)`,
  LONG,
  async () => {
    await check(
      fc.record({ partnerId: unicode(1, 40), apiKey: unicode(1, 120), timestamp: unicode(1, 256) }),
      async ({ partnerId, apiKey, timestamp }) => {
        const signed = await generateSignature({ partnerId, apiKey, timestamp });
        assertStrictEquals(signed.timestamp, timestamp);
        assertMatch(signed.signature, /^[A-Za-z0-9+/]{43}=$/);
        assertStrictEquals(
          await verifySignature({ partnerId, apiKey, timestamp: signed.timestamp, signature: signed.signature }),
          true,
        );
      },
    );
  },
);

/** Replaces the code point at `index` (modulo the length) with `replacement`, if it differs. */
function replaceCodePoint(text: string, index: number, replacement: string): string {
  const points = Array.from(text);
  const at = index % points.length;
  if (points[at] === replacement) return text;
  points[at] = replacement;
  return points.join("");
}

test(
  `verifySignature() is false after changing any one character of the signature, timestamp or partner id (${NUM_RUNS} runs)`,
  LONG,
  async () => {
    await check(
      fc.record({
        partnerId: unicode(1, 20),
        apiKey: unicode(1, 60),
        timestamp: unicode(1, 64),
        field: fc.constantFrom("signature", "timestamp", "partnerId"),
        index: fc.nat(),
        replacement: codePoint,
      }),
      async ({ partnerId, apiKey, timestamp, field, index, replacement }) => {
        const { signature } = await generateSignature({ partnerId, apiKey, timestamp });
        const genuine = { partnerId, apiKey, timestamp, signature };
        const changed = { ...genuine, [field]: replaceCodePoint(genuine[field], index, replacement) };
        fc.pre(changed[field] !== genuine[field]);
        assertStrictEquals(
          await verifySignature(changed),
          false,
          `${field} changed to ${JSON.stringify(changed[field])}`,
        );
      },
    );
  },
);

test(
  `verifySignature() resolves false, never throws, for arbitrary received timestamps and signatures (${NUM_RUNS} runs)`,
  LONG,
  async () => {
    const apiKey = "property-test-key";
    await check(fc.record({ timestamp: hostileValue, signature: hostileValue }), async ({ timestamp, signature }) => {
      const outcome = await settle(() => verifySignature({ partnerId: "085", apiKey, timestamp, signature }));
      assert("value" in outcome, `threw ${"error" in outcome ? String(outcome.error) : ""}`);
      assertStrictEquals(outcome.value, false);
    });
  },
);

test(
  `verifySignature() throws only SmileIdError and never resolves true for arbitrary options (${NUM_RUNS} runs)`,
  LONG,
  async () => {
    const options = fc.oneof(
      hostileValue,
      fc.record(
        { partnerId: hostileValue, apiKey: hostileValue, timestamp: hostileValue, signature: hostileValue },
        { requiredKeys: [] },
      ),
    );
    await check(options, async (input) => {
      const outcome = await settle(() => verifySignature(input as Parameters<typeof verifySignature>[0]));
      if ("error" in outcome) assertSmileIdError(outcome.error);
      else assertStrictEquals(outcome.value, false);
    });
  },
);

// ---- job-status answers ----------------------------------------------------------------------

const partnerId = "085";
const signer = createSigner({ partnerId, apiKey: "property-test-key" });

/** Every way a body can reach parseJobStatusResponse. */
type BodyForm = "response" | "text" | "object";
const bodyForm = fc.constantFrom<BodyForm>("response", "text", "object");

function asBody(json: JsonValue, form: BodyForm): Response | string | JsonObject {
  const text = JSON.stringify(json);
  if (form === "response") return new Response(text, { headers: { "content-type": "application/json" } });
  if (form === "text") return text;
  return JSON.parse(text) as JsonObject;
}

test(
  `parseJobStatusResponse() on arbitrary JSON gives a SmileIdError or a result (${NUM_RUNS} runs)`,
  LONG,
  async () => {
    const anyJson = fc.oneof(jsonValue, jsonObject(hostileKey, jsonValue, 10));
    await check(fc.record({ json: anyJson, form: bodyForm }), async ({ json, form }) => {
      const outcome = await settle(() => parseJobStatusResponse(signer, asBody(json, form) as JsonObject));
      if ("error" in outcome) assertSmileIdError(outcome.error);
      else assertEquals(outcome.value.raw, json);
    });
  },
);

test(
  `parseJobStatusResponse() on arbitrary signed JSON objects gives a schema error or a result that keeps it whole (${NUM_RUNS} runs)`,
  LONG,
  async () => {
    // Values that are sometimes of the documented type, so that both outcomes occur.
    const field = (valid: fc.Arbitrary<JsonValue>) => fc.oneof(valid, jsonValue);
    const result = jsonObject(
      fc.oneof(fc.constantFrom(...RESULT_KEYS), hostileKey),
      fc.oneof(fc.string(), fc.boolean(), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), jsonValue),
    );
    const body = fc.record({
      job_complete: field(fc.boolean()),
      job_success: field(fc.boolean()),
      code: field(fc.string()),
      result: fc.oneof(result, jsonValue),
      history: fc.oneof(fc.array(result, { maxLength: 3 }), jsonValue),
      extra: jsonObject(hostileKey, jsonValue),
    }, { requiredKeys: [] });
    let results = 0;
    let errors = 0;
    await check(fc.record({ body, form: bodyForm }), async ({ body, form }) => {
      const { extra = {}, ...known } = body;
      const json = JSON.parse(JSON.stringify({ ...extra, ...known, ...(await signer.sign()) })) as JsonObject;
      const outcome = await settle(() => parseJobStatusResponse(signer, asBody(json, form) as JsonObject));
      if ("error" in outcome) {
        assertSmileIdError(outcome.error);
        assertStrictEquals(outcome.error.code, "schema", outcome.error.message);
        assert(outcome.error.issues !== undefined && outcome.error.issues.length > 0);
        errors++;
      } else {
        assertEquals(outcome.value.raw, json);
        assertStrictEquals(outcome.value.jobComplete, json.job_complete === true || json.job_complete === "true");
        results++;
      }
    });
    assert(results > 0 && errors > 0, `both outcomes expected, got ${results} results and ${errors} errors`);
  },
);

test(
  `parseJobStatusResponse() on arbitrary bytes and huge strings gives a SmileIdError or a result (${NUM_RUNS} runs)`,
  LONG,
  async () => {
    const input = fc.oneof(
      { weight: 4, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((bytes) => ({ bytes })) },
      { weight: 4, arbitrary: unicode(0, 200).map((text) => ({ text })) },
      { weight: 1, arbitrary: hugeString.map((text) => ({ text })) },
    );
    await check(input, async (value) => {
      const body = "bytes" in value ? new Response(value.bytes) : value.text;
      const outcome = await settle(() => parseJobStatusResponse(signer, body, { maxBodyBytes: 1024 * 1024 }));
      if ("error" in outcome) assertSmileIdError(outcome.error);
      else assertStrictEquals(typeof outcome.value.jobComplete, "boolean");
    });
  },
);

/** Keys that may be added to documented objects without changing a documented field. */
const extraKey = (documented: readonly string[]) => hostileKey.filter((key) => !documented.includes(key));

const stringOrNumber = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
const stringlyBoolean = fc.oneof(fc.boolean(), fc.constantFrom("true", "false", "TRUE", " false "), fc.string());
const validPartnerParams = fc.record({
  user_id: stringOrNumber,
  job_id: stringOrNumber,
  job_type: stringOrNumber,
}, { requiredKeys: [] });

function withExtras<T extends Record<string, unknown>>(
  documented: fc.Arbitrary<T>,
  documentedKeys: readonly string[],
): fc.Arbitrary<JsonObject> {
  return fc.tuple(documented, jsonObject(extraKey(documentedKeys), jsonValue, 4)).map(([known, extra]) =>
    JSON.parse(JSON.stringify({ ...extra, ...known })) as JsonObject
  );
}

const validResult = withExtras(
  fc.record({
    ResultCode: stringOrNumber,
    ResultText: fc.string(),
    ResultType: fc.string(),
    SmileJobID: stringOrNumber,
    PartnerParams: withExtras(validPartnerParams, ["user_id", "job_id", "job_type"]),
    Actions: fc.dictionary(hostileKey, fc.string(), { maxKeys: 5 }).map((a) => JSON.parse(JSON.stringify(a))),
    ConfidenceValue: stringOrNumber,
    IsFinalResult: stringlyBoolean,
    IsMachineResult: stringlyBoolean,
  }, { requiredKeys: [] }),
  RESULT_KEYS,
);

const validJobStatus = withExtras(
  fc.record({
    job_complete: fc.boolean(),
    job_success: fc.boolean(),
    code: stringOrNumber,
    result: fc.oneof(validResult, fc.string(), fc.constant(null)),
    history: fc.oneof(fc.array(validResult, { maxLength: 3 }), fc.constant(null)),
    image_links: fc.oneof(jsonObject(hostileKey, jsonValue, 3), fc.constant(null)),
  }, { requiredKeys: ["job_complete"] }),
  JOB_STATUS_KEYS,
);

function assertResultView(view: unknown, raw: JsonObject): void {
  const result = view as {
    raw: JsonObject;
    resultCode: string | undefined;
    smileJobId: string | undefined;
    actions: Record<string, string>;
    partnerParams: { raw: JsonObject; userId: string | undefined; jobType: string | undefined } | undefined;
  };
  assertEquals(result.raw, raw);
  assertStrictEquals(result.resultCode, raw.ResultCode === undefined ? undefined : String(raw.ResultCode));
  assertStrictEquals(result.smileJobId, raw.SmileJobID === undefined ? undefined : String(raw.SmileJobID));
  assertEquals(result.actions, raw.Actions ?? {});
  if (raw.PartnerParams === undefined) {
    assertStrictEquals(result.partnerParams, undefined);
  } else {
    const params = raw.PartnerParams as JsonObject;
    assertEquals(result.partnerParams?.raw, params);
    assertStrictEquals(result.partnerParams?.userId, params.user_id === undefined ? undefined : String(params.user_id));
    assertStrictEquals(
      result.partnerParams?.jobType,
      params.job_type === undefined ? undefined : String(params.job_type),
    );
  }
}

test(
  `parseJobStatusResponse() keeps every field of valid answers with extra random fields (${NUM_RUNS} runs)`,
  LONG,
  async () => {
    await check(fc.record({ document: validJobStatus, form: bodyForm }), async ({ document, form }) => {
      const json: JsonObject = { ...document, ...(await signer.sign()) };
      const status = await parseJobStatusResponse(signer, asBody(json, form) as JsonObject);
      assertEquals(status.raw, json);
      assertStrictEquals(status.jobComplete, json.job_complete);
      assertStrictEquals(status.jobSuccess, json.job_success);
      assertStrictEquals(status.code, json.code === undefined ? undefined : String(json.code));
      assertStrictEquals(status.timestamp, json.timestamp);
      assertStrictEquals(status.signature, json.signature);
      const result = json.result;
      if (typeof result === "string") assertStrictEquals(status.result, result);
      else if (result === undefined || result === null) assertStrictEquals(status.result, undefined);
      else assertResultView(status.result, result as JsonObject);
      const history = json.history as JsonObject[] | null | undefined;
      if (history == null) assertStrictEquals(status.history, undefined);
      else {
        assertStrictEquals(status.history?.length, history.length);
        history.forEach((entry, i) => assertResultView(status.history?.[i], entry));
      }
      if (json.image_links == null) assertStrictEquals(status.imageLinks, undefined);
      else assertEquals(status.imageLinks?.raw, json.image_links);
    });
  },
);

// ---- callbacks -------------------------------------------------------------------------------

/** JSON text of a value, or fast-check's rendering of it when it has no JSON form (BigInt, cycles). */
function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? fc.stringify(value);
  } catch {
    return fc.stringify(value);
  }
}

/** Every way a callback can reach verifyCallback. */
type CallbackForm = "request" | "text" | "bytes" | "object";
const callbackForm = fc.constantFrom<CallbackForm>("request", "text", "bytes", "object");

function asCallback(json: unknown, form: CallbackForm): Request | string | Uint8Array | JsonObject {
  const text = jsonText(json);
  if (form === "request") return new Request("http://127.0.0.1/callback", { method: "POST", body: text });
  if (form === "text") return text;
  if (form === "bytes") return new TextEncoder().encode(text);
  return json as JsonObject;
}

test(
  `verifyCallback() throws only SmileIdError and never accepts arbitrary input (${NUM_RUNS} runs)`,
  LONG,
  async () => {
    const input = fc.oneof(
      hostileValue.map((value) => ({ value, form: "raw" as const })),
      fc.record({ value: fc.oneof(hostileValue, jsonObject(hostileKey, jsonValue, 10)), form: callbackForm }),
      fc.record({ value: fc.uint8Array({ maxLength: 1024 }), form: fc.constant("bytes-raw" as const) }),
    );
    await check(input, async ({ value, form }) => {
      const callback = form === "raw" || form === "bytes-raw" ? value : asCallback(value, form);
      const outcome = await settle(() =>
        verifyCallback(signer, callback as JsonObject, { replayGuard: createMemoryReplayGuard() })
      );
      assert("error" in outcome, `accepted ${fc.stringify(value).slice(0, 200)}`);
      assertSmileIdError(outcome.error);
    });
  },
);

test(`verifyCallback() throws only SmileIdError for arbitrary options (${NUM_RUNS} runs)`, LONG, async () => {
  // The genuine signer, printed briefly in counterexamples.
  const signer = Object.assign(createSigner({ partnerId, apiKey: "property-test-key" }), {
    [fc.toStringMethod]: () => "<signer>",
  });
  const body = JSON.stringify({ ResultCode: "1012", ...(await signer.sign()) });
  const options = fc.oneof(
    hostileValue,
    fc.record({
      signer: fc.oneof(hostileValue, fc.constant(signer)),
      toleranceSeconds: hostileValue,
      clock: fc.oneof(hostileValue, fc.constant({ now: () => Date.now() })),
      replayGuard: hostileValue,
      maxBodyBytes: hostileValue,
      confirm: hostileValue,
      reader: hostileValue,
    }, { requiredKeys: [] }),
  );
  await check(options, async (input) => {
    const given = (typeof input === "object" && input !== null ? input : {}) as { signer?: typeof signer };
    const outcome = await settle(() => verifyCallback(given.signer as typeof signer, body, input as never));
    if ("error" in outcome) assertSmileIdError(outcome.error);
    else assertStrictEquals(outcome.value.payload.signature, JSON.parse(body).signature);
  });
});

test(
  `verifyCallback() with a genuine signature gives a typed error or a payload that keeps the body whole, and refuses a replay (${NUM_RUNS} runs)`,
  LONG,
  async () => {
    const body = fc.oneof(
      validResult,
      validJobStatus,
      jsonObject(hostileKey, jsonValue, 8),
    );
    const now = Date.parse("2024-06-01T12:00:00.000Z");
    await check(
      fc.record({ body, form: callbackForm, skewSeconds: fc.integer({ min: -900, max: 900 }) }),
      async ({ body, form, skewSeconds }) => {
        const signed = await signer.sign(new Date(now - skewSeconds * 1000));
        const json = JSON.parse(JSON.stringify({ ...body, ...signed })) as JsonObject;
        const options = {
          clock: { now: () => now },
          toleranceSeconds: 300,
          replayGuard: createMemoryReplayGuard(),
        };
        const outcome = await settle(() => verifyCallback(signer, asCallback(json, form), options));
        if ("error" in outcome) {
          assertSmileIdError(outcome.error);
          const expected = skewSeconds > 300 ? "stale_timestamp" : skewSeconds < -300 ? "future_timestamp" : "schema";
          // The shape is checked before freshness: a stale body of the wrong shape is a schema error.
          assert(outcome.error.code === expected || outcome.error.code === "schema", outcome.error.message);
          return;
        }
        assert(Math.abs(skewSeconds) <= 300);
        assertEquals(outcome.value.payload.raw, json);
        assertStrictEquals(outcome.value.payload.timestamp, signed.timestamp);
        const again = await settle(() => verifyCallback(signer, asCallback(json, form), options));
        assert("error" in again, "a replay was accepted");
        assertSmileIdError(again.error);
        assertStrictEquals(again.error.code, "replayed");
      },
    );
  },
);

test(
  `verifyCallback() never reports a callback fresh unless clock.now() gave a time within the tolerance (${NUM_RUNS} runs)`,
  LONG,
  async () => {
    const at = Date.parse("2024-06-01T12:00:00.000Z");
    const signed = await signer.sign(new Date(at));
    const body = JSON.stringify({ ResultCode: "1012", ...signed });
    const clockValue = fc.oneof(
      hostileValue,
      fc.constantFrom(NaN, Infinity, -Infinity, at, at + 1000, at - 301_000),
      fc.integer({ min: at - 600_000, max: at + 600_000 }),
    );
    await check(clockValue, async (value) => {
      const outcome = await settle(() =>
        verifyCallback(signer, body, {
          clock: { now: () => value as number },
          toleranceSeconds: 300,
          replayGuard: createMemoryReplayGuard(),
        })
      );
      if ("error" in outcome) {
        assertSmileIdError(outcome.error);
        return;
      }
      assertStrictEquals(outcome.value.fresh, true);
      assert(
        typeof value === "number" && Number.isFinite(value) && Math.abs(value - at) <= 300_000,
        `accepted as fresh with clock.now() returning ${fc.stringify(value)}`,
      );
    });
  },
);

test("no property polluted a prototype", () => {
  assertNoPollution();
});
