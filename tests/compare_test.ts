// What confirm compares: a callback body against Smile ID's answer, whatever the body's keys,
// spellings and depth. Portable: runs in every runtime of the suite.

import { test } from "node:test";
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { createClient, createSigner, type FetchLike, type JsonObject } from "../mod.ts";
import { createFakeSmileId } from "../src/testing/mod.ts";

const partnerId = "085";
const apiKey = "compare-test-key-5d1c";
const smile = createSigner({ partnerId, apiKey });
const ids = { user_id: "user-1", job_id: "job-1", job_type: 1 };
const result: JsonObject = {
  ResultCode: "1012",
  ResultText: "ID Number Validated",
  PartnerParams: ids,
  Actions: { Verify_ID_Number: "Verified", Liveness_Check: "Passed" },
};
const S3 = "https://smile-fr-results.s3.us-west-2.amazonaws.com/test/job-1/SID_Preview_FULL.jpg";
const PORTAL = "https://portal.smileidentity.com/api/v3/085/job_result_summary/0000000261/generate_pdf";

/** An S3 link signed at `at`, as each answer carries its own (SigV4 query). */
function presigned(at: string): string {
  return `${S3}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=${at.replace(/[-:]|\.\d+/g, "")}&X-Amz-Expires=900`;
}

/** A receipt URL, which embeds the message's own pair raw (no percent-encoding), as recorded. */
function receipt(signed: { timestamp: string; signature: string }): string {
  return `${PORTAL}?signature=${signed.signature}&timestamp=${signed.timestamp}&environment=test`;
}

/**
 * An in-process Smile ID answering with `result`, history, image links and a receipt, each signed
 * afresh per answer (later than the request), as recorded answers are. Records each query.
 */
function smileAnswering(extra: JsonObject = {}) {
  const queries: Record<string, unknown>[] = [];
  const fetch: FetchLike = async (request) => {
    const query = await request.json();
    queries.push(query);
    const signed = await smile.sign(new Date(Date.parse(query.timestamp) + 2));
    return Response.json({
      job_complete: true,
      job_success: true,
      code: "2302",
      result,
      ...(query.image_links === true ? { image_links: { selfie_image: presigned(signed.timestamp) } } : {}),
      ...(query.history === true ? { history: [result] } : {}),
      kyc_receipt: receipt(signed),
      ...extra,
      ...signed,
    });
  };
  return { client: createClient({ partnerId, apiKey, fetch }), queries };
}

test("verifyCallback() with confirm reads ImageLinks and KYCReceipt as Smile ID's image links and receipt", async () => {
  const { client, queries } = smileAnswering();
  const signed = await smile.sign();
  // A callback as they arrive today: capitalised ImageLinks and KYCReceipt, each signed for this message.
  const body = {
    ...result,
    ImageLinks: { selfie_image: presigned(signed.timestamp) },
    KYCReceipt: receipt(signed),
    ...signed,
  };
  const callback = await client.verifyCallback(body, { confirm: true, replayGuard: false });
  assertEquals(callback.mismatches, []);
  assertStrictEquals(queries[0]?.image_links, true, "confirm asked for the image links");
  assertEquals(callback.status.imageLinks?.raw, { selfie_image: presigned(callback.status.timestamp) });
  const always = ["signature", "timestamp", "kyc_receipt", "KYCReceipt"];
  assertEquals(callback.uncompared, [...always, "ImageLinks.selfie_image?"]);

  // The lowercase spellings mean the same, in a job-status-shaped body too.
  const lower = {
    job_complete: true,
    job_success: true,
    code: "2302",
    result,
    image_links: { selfie_image: presigned(signed.timestamp) },
    kyc_receipt: receipt(signed),
    ...signed,
  };
  const again = await client.verifyCallback(lower, { confirm: true, replayGuard: false });
  assertEquals(again.mismatches, []);
  assertEquals(again.uncompared, [...always, "image_links.selfie_image?"]);
  assertStrictEquals(again.replayKey, callback.replayKey, "the same result, the same key");
});

test("verifyCallback() with confirm still reports a changed image link and an added link", async () => {
  const { client } = smileAnswering();
  const signed = await smile.sign();
  const body = {
    ...result,
    ImageLinks: { selfie_image: `${S3.replace("SID_Preview_FULL", "someone_else")}?X-Amz-Date=1`, extra: "x" },
    ...signed,
  };
  const callback = await client.verifyCallback(body, { confirm: true, replayGuard: false });
  assertEquals(callback.mismatches, [
    { path: "ImageLinks.selfie_image", kind: "changed" },
    { path: "ImageLinks.extra", kind: "added" },
  ]);
});

test("verifyCallback() reports an added __proto__ field, at the top and nested", async () => {
  const fake = createFakeSmileId({ partnerId, apiKey });
  fake.addJob({ userId: "user-1", jobId: "job-1", result });
  const client = createClient({ partnerId, apiKey, fetch: fake.fetch });
  const genuine = await fake.buildCallback("job-1");
  // As a body arrives: JSON text, where "__proto__" is an ordinary own key.
  const text = JSON.stringify(genuine).replace(
    /^\{/,
    '{"__proto__":{"ResultCode":"1012","polluted":true},"constructor":{"prototype":{"x":1}},',
  ).replace('"Actions":{', '"Actions":{"__proto__":"Verified",');
  const callback = await client.verifyCallback(text, { confirm: true, replayGuard: false });
  assertEquals(callback.mismatches, [
    { path: "__proto__", kind: "added" },
    { path: "constructor", kind: "added" },
    { path: "Actions.__proto__", kind: "added" },
  ]);
  assertStrictEquals(({} as Record<string, unknown>).polluted, undefined, "nothing reached Object.prototype");
});

/** JSON text of `"1012"` nested in `depth` arrays; built as text, since JSON.stringify recurses. */
function nestedText(depth: number): string {
  return `${"[".repeat(depth)}"1012"${"]".repeat(depth)}`;
}

/** JSON text of `json` with the string `"<deep>"` replaced by `deep`. */
function withDeep(json: unknown, deep: string): string {
  return JSON.stringify(json).replace('"<deep>"', deep);
}

test("verifyCallback() with confirm compares a body nested 150,000 levels deep, no RangeError", async () => {
  const { client } = smileAnswering();
  const deep = nestedText(150_000);
  const expected: Record<string, string> = {
    ResultCode: "ResultCode",
    history: "history.0", // both arrays: the body's first item is no result object
    image_links: "image_links",
    ImageLinks: "ImageLinks",
    Actions: "Actions",
    PartnerParams: "PartnerParams",
  };
  for (const [field, path] of Object.entries(expected)) {
    const text = withDeep({ ...result, [field]: "<deep>", ...(await smile.sign()) }, deep);
    if (field === "PartnerParams") {
      // Without readable ids there is nothing to confirm: a schema rejection, not a stack overflow.
      const error = await client.verifyCallback(text, { confirm: true, replayGuard: false }).catch((e) => e);
      assertStrictEquals(error?.code, "schema", field);
      continue;
    }
    const callback = await client.verifyCallback(text, { confirm: true, replayGuard: false });
    assertEquals(callback.mismatches, [{ path, kind: "changed" }], field);
  }
  const added = withDeep({ ...result, Extra: "<deep>", ...(await smile.sign()) }, deep);
  const callback = await client.verifyCallback(added, { confirm: true, replayGuard: false });
  assertEquals(callback.mismatches, [{ path: "Extra", kind: "added" }]);
});

/** An in-process Smile ID whose answer is `answer` (JSON text with `"<deep>"` replaced by `deep`), signed afresh. */
function deepSmile(answer: JsonObject, deep: string): FetchLike {
  return async (request) => {
    const query = await request.json();
    const signed = await smile.sign(new Date(Date.parse(query.timestamp) + 2));
    return new Response(withDeep({ ...answer, ...signed }, deep), { headers: { "content-type": "application/json" } });
  };
}

test("verifyCallback() with confirm walks a body and an answer both 150,000 levels deep to where they differ", async () => {
  const deep = nestedText(150_000);
  const answer = { job_complete: true, job_success: true, code: "2302", result, history: "<deep>" };
  const client = createClient({ partnerId, apiKey, fetch: deepSmile(answer, deep) });
  const same = withDeep({ ...result, history: "<deep>", ...(await smile.sign()) }, deep);
  assertEquals((await client.verifyCallback(same, { confirm: true, replayGuard: false })).mismatches, []);
  const other = withDeep({ ...result, history: ["<deep>", 1], ...(await smile.sign()) }, nestedText(149_998));
  const differs = await client.verifyCallback(other, { confirm: true, replayGuard: false });
  assertEquals(differs.mismatches.map((m) => m.kind), ["changed", "added"]);
  assertStrictEquals(differs.mismatches[0]!.path, `history${".0".repeat(149_999)}`);
  assertStrictEquals(differs.mismatches[1]!.path, "history.1");
});

test("verifyCallback() keys a result by its content at a fixed length, and refuses one too deep to key", async () => {
  const long = "用户".repeat(60); // 120 CJK characters: 1,080 once percent-encoded
  const deepResult = { ...result, PartnerParams: { user_id: long, job_id: "job-1" }, Deep: "<deep>" };
  const verify = async (deep: string) => {
    const answer = { job_complete: true, job_success: true, code: "2302", result: deepResult };
    const client = createClient({ partnerId, apiKey, fetch: deepSmile(answer, deep) });
    const body = withDeep({ ...deepResult, ...(await smile.sign()) }, deep);
    return await client.verifyCallback(body, { confirm: true, replayGuard: false });
  };
  const key = (await verify(nestedText(1_000))).replayKey;
  assertStrictEquals(key.length, "result:".length + 64);
  assertStrictEquals((await verify(nestedText(1_000))).replayKey, key, "the same result, the same key");
  assert((await verify(nestedText(1_001))).replayKey !== key, "another result, another key");
  // Deeper than the runtime's JSON.stringify goes (only a made-up answer is): a schema rejection.
  const error = await verify(nestedText(150_000)).catch((e) => e);
  assertStrictEquals(error?.code, "schema");
  assertStrictEquals(error?.message, "Smile ID's job status is nested too deeply");
});
