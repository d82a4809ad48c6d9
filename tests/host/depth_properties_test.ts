// Property: no nesting a callback body under maxBodyBytes can hold ends in anything but a
// SmileIdError, in any field, with confirm or without. JSON.parse takes a million levels in every
// runtime; everything this library walks after it (the comparison, the replay key, the schema)
// must too. fast-check picks the field, the envelope, the depth (log-uniform, up to what fits in
// the limit), the mix of arrays and objects per level, and the leaf. Runs NUM_RUNS / 10 times
// (at least 100): each run parses up to 2 MiB. FC_SEED / FC_PATH replay a failure.

import { test } from "node:test";
import { assert, assertStrictEquals, fail } from "@std/assert";
import fc from "fast-check";
import { createClient, createSigner, SmileIdError, verifyCallback } from "../../mod.ts";
import { createFakeSmileId } from "../../src/testing/mod.ts";
import { check, NUM_RUNS } from "./_properties.ts";

const RUNS = Math.max(100, Math.floor(NUM_RUNS / 10));
const MAX_BODY_BYTES = 2 * 1024 * 1024; // verifyCallback's default maxBodyBytes

const partnerId = "085";
const apiKey = "depth-properties-key-3f7a";
const smile = createSigner({ partnerId, apiKey });
const fake = createFakeSmileId({ partnerId, apiKey });
fake.addJob({ userId: "user-1", jobId: "job-1" });
const client = createClient({ partnerId, apiKey, fetch: fake.fetch });

/** Every field a callback body can carry (documented, seen in the field, or the envelope's), and one nobody knows. */
const FIELDS = [
  "ResultCode",
  "ResultText",
  "ResultType",
  "SmileJobID",
  "PartnerParams",
  "Actions",
  "ConfidenceValue",
  "IsFinalResult",
  "IsMachineResult",
  "history",
  "image_links",
  "ImageLinks",
  "kyc_receipt",
  "KYCReceipt",
  "FullData",
  "user_id",
  "job_id",
  "job_success",
  "code",
  "result",
  "__proto__",
  "an_unknown_field",
];

interface Nesting {
  readonly field: string;
  readonly envelope: "result" | "job_status";
  /** Where the nested value goes: the field at the top, or the field inside `result`. */
  readonly inResult: boolean;
  readonly depth: number;
  /** Repeated level by level: `a` an array, `o` an object with key `k`. */
  readonly pattern: readonly ("a" | "o")[];
  readonly leaf: string;
  readonly confirm: boolean;
}

const nesting: fc.Arbitrary<Nesting> = fc.record({
  field: fc.constantFrom(...FIELDS),
  envelope: fc.constantFrom("result" as const, "job_status" as const),
  inResult: fc.boolean(),
  // Log-uniform from 1 to about 1.3 million, then cut to what fits in the limit below.
  depth: fc.double({ min: 0, max: 20.3, noNaN: true }).map((exponent) => Math.floor(2 ** exponent)),
  pattern: fc.array(fc.constantFrom("a" as const, "o" as const), { minLength: 1, maxLength: 4 }),
  leaf: fc.constantFrom('"1012"', "0", "null", "true", "{}", "[]", '"https://x.example/a.jpg?X-Amz-Date=1"'),
  confirm: fc.boolean(),
});

/** The JSON text of the nested value, `depth` levels deep, within `budget` bytes. */
function nestedText({ depth, pattern, leaf }: Nesting, budget: number): string {
  const perLevel = pattern.reduce((size, kind) => size + (kind === "a" ? 2 : 6), 0) / pattern.length;
  const levels = Math.max(1, Math.min(depth, Math.floor((budget - leaf.length) / perLevel)));
  let open = "";
  let close = "";
  for (let i = 0; i < levels; i++) {
    const kind = pattern[i % pattern.length];
    open += kind === "a" ? "[" : '{"k":';
    close += kind === "a" ? "]" : "}";
  }
  return open + leaf + [...close].reverse().join("");
}

async function body(value: Nesting): Promise<string> {
  const ids = { user_id: "user-1", job_id: "job-1" };
  const result: Record<string, unknown> = { ResultCode: "1012", PartnerParams: ids, placeholder: 0 };
  const outer: Record<string, unknown> = value.envelope === "job_status"
    ? { job_complete: true, job_success: true, code: "2302", result, ...(await smile.sign()) }
    : { ...result, ...(await smile.sign()) };
  const target = value.envelope === "job_status" && value.inResult ? result : outer;
  // Marked, then replaced as text: JSON.stringify recurses, so the deep part is written by hand.
  if (value.field === "__proto__") Object.defineProperty(target, "__proto__", { value: "<deep>", enumerable: true });
  else target[value.field] = "<deep>";
  const text = JSON.stringify(outer);
  return text.replace('"<deep>"', nestedText(value, MAX_BODY_BYTES - text.length));
}

test(
  `verifyCallback() settles with a result or a SmileIdError at any nesting under maxBodyBytes, in every field (${RUNS} runs)`,
  {
    timeout: 600_000,
  },
  async () => {
    let deepest = 0;
    const outcomes = { resolved: 0, refused: 0 };
    await check(nesting, async (value) => {
      const text = await body(value);
      assert(new TextEncoder().encode(text).length <= MAX_BODY_BYTES);
      deepest = Math.max(deepest, value.depth);
      try {
        await (value.confirm
          ? client.verifyCallback(text, { confirm: true, replayGuard: false })
          : verifyCallback(smile, text, { replayGuard: false }));
        outcomes.resolved++;
      } catch (error) {
        if (!(error instanceof SmileIdError)) {
          fail(
            `expected a SmileIdError, got ${
              error instanceof Error ? `${error.name}: ${error.message}` : String(error)
            }`,
          );
        }
        outcomes.refused++;
      }
    }, RUNS);
    assert(outcomes.resolved > 0 && outcomes.refused > 0, `both outcomes expected: ${JSON.stringify(outcomes)}`);
    assert(deepest > 100_000, `the deepest run went ${deepest} levels`);
    assertStrictEquals(({} as Record<string, unknown>).k, undefined, "nothing reached Object.prototype");
  },
);
