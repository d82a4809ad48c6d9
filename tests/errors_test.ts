// quote() and escapeText(): no secret and no terminal or log control sequence reaches a message.
import { test } from "node:test";
import {
  assert,
  assertEquals,
  assertFalse,
  assertMatch,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
} from "@std/assert";
import {
  createClient,
  createSigner,
  parseJobStatusResponse,
  type SmileIdError,
  verifyCallback,
  waitForJobStatus,
} from "../mod.ts";
import { send } from "../src/transport.ts";
import { SmileIdError as SourceSmileIdError } from "../src/errors.ts";

// send() is internal, so the npm suite compiles it from the sources with its own copy of
// SmileIdError: check against that copy, not the package's.
async function sendRejects(fn: () => Promise<unknown>, code: string): Promise<SourceSmileIdError> {
  const error = await assertRejects(fn, SourceSmileIdError);
  assertStrictEquals(error.code, code);
  return error;
}
import { assertRejectsWithCode, assertThrowsWithCode } from "./_helpers.ts";
import { escapeText, invalidArgument, quote } from "../src/_validate.ts";

/** ESC and an OSC 52 clipboard write, a BEL, CR/LF that forge a line, a right-to-left override, U+2028, NEL (U+0085). */
const HOSTILE = "\u001b]52;c;ZXZpbA==\u0007\r\nsignature: valid\u202eevil\u2028\u0085\u009b31m\u2066";
/** Every character escapeText must not let through. */
// deno-lint-ignore no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

/** Asserts that `message` holds no unsafe character and shows the hostile text as visible escapes. */
function assertEscaped(message: string, msg?: string): void {
  assertFalse(UNSAFE.test(message), `${msg ?? ""}: unescaped control in ${JSON.stringify(message)}`);
  assertStringIncludes(message, String.raw`\u001b]52;c;ZXZpbA==\u0007\r\nsignature: valid\u202eevil\u2028`, msg);
}

const SECRET = "sk_live_QUOTE-NEVER-SHOWS-ME";
const config = { partnerId: "085", apiKey: SECRET };

test("escapeText() shows C0, C1, DEL, bidi controls and line separators as escapes, and doubles backslashes", () => {
  assertStrictEquals(escapeText("plain text, ünïcødé ✓"), "plain text, ünïcødé ✓");
  assertStrictEquals(escapeText("a\nb\rc\td"), String.raw`a\nb\rc\td`);
  assertStrictEquals(escapeText("\u0000\u001b\u007f\u0085\u009f"), String.raw`\u0000\u001b\u007f\u0085\u009f`);
  assertStrictEquals(
    escapeText("\u061c\u200e\u200f\u2028\u2029\u202a\u202e\u2066\u2069"),
    String.raw`\u061c\u200e\u200f\u2028\u2029\u202a\u202e\u2066\u2069`,
  );
  // A backslash in the input cannot pass for an escape the function made.
  assertStrictEquals(escapeText(String.raw`\u001b`), String.raw`\\u001b`);
  for (let code = 0; code < 0x3000; code++) {
    const escaped = escapeText(String.fromCharCode(code));
    assertFalse(UNSAFE.test(escaped), `U+${code.toString(16)} passed through`);
  }
});

test("quote() escapes strings and describes objects and arrays by type and key names, never values", () => {
  assertStrictEquals(quote("job-1"), '"job-1"');
  assertStrictEquals(quote('say "hi"'), String.raw`"say \"hi\""`);
  assertStrictEquals(quote(HOSTILE, 200).includes("\u001b"), false);
  assertStrictEquals(quote(42), "42");
  assertStrictEquals(quote(Number.NaN), "NaN");
  assertStrictEquals(quote(null), "null");
  assertStrictEquals(quote(undefined), "undefined");
  assertStrictEquals(quote(10n), "10n");
  assertStrictEquals(quote(() => SECRET), "a function");
  assertStrictEquals(quote(config), "an object with keys partnerId, apiKey");
  assertStrictEquals(quote({}), "an object with no keys");
  assertStrictEquals(quote([SECRET]), "an array of 1 item");
  assertStrictEquals(quote([SECRET, config]), "an array of 2 items");
  assertStrictEquals(quote(new Date(0)), "a Date");
  assertStrictEquals(quote(new Map([[SECRET, SECRET]])), "a Map with no keys");
  assertStrictEquals(quote({ nested: { deep: [config] } }), "an object with keys nested");
  assertStrictEquals(quote(Object.create(null)), "an object with no keys");
  assertStrictEquals(quote({ [`a\u001b[2Jb`]: 1 }), String.raw`an object with keys a\u001b[2Jb`);
  const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, SECRET]));
  assertStrictEquals(quote(many, 200), "an object with keys k0, k1, k2, k3, k4, k5, k6, k7, …");
  // A getter, a proxy that throws and a toJSON that would print the key are never run.
  const trap = new Proxy({}, {
    ownKeys() {
      throw new Error(SECRET);
    },
  });
  assertStrictEquals(quote(trap), "an object");
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  assertStrictEquals(quote(proxy), "an object");
  assertStrictEquals(quote(Symbol(SECRET)), "a symbol");
  const tagged = {
    get [Symbol.toStringTag]() {
      throw new Error(SECRET);
    },
  };
  assertStrictEquals(quote(tagged), "an object");
  let ran = false;
  const sly = {
    get apiKey() {
      ran = true;
      return SECRET;
    },
    toJSON: () => SECRET,
    toString: () => SECRET,
  };
  assertFalse(quote(sly).includes(SECRET));
  assertFalse(ran, "the getter ran");
  // Long text is cut, so a huge input cannot flood a log.
  assertStrictEquals(quote("x".repeat(500)).length, 81);
});

test("invalidArgument() built from a wrongly placed configuration object names its keys only", () => {
  const error = invalidArgument("Option replayGuard", "an object with begin, finish and abandon methods", config);
  assertStrictEquals(
    error.message,
    "Option replayGuard must be an object with begin, finish and abandon methods, got an object with keys partnerId, apiKey",
  );
});

test("a configuration object in the wrong place never puts the key in a message", async () => {
  const client = createClient({ ...config, fetch: () => new Promise<Response>(() => {}) });
  const signer = createSigner(config);
  const outcomes: SmileIdError[] = [
    // waitForJobStatus(config, query): the configuration where the reader goes.
    await assertRejectsWithCode(
      // deno-lint-ignore no-explicit-any
      () => waitForJobStatus(config as any, { userId: "u", jobId: "j" }),
      "invalid_argument",
      /^Reader must be an object with a getJobStatus method, got an object with keys partnerId, apiKey$/,
    ),
    assertThrowsWithCode(
      // deno-lint-ignore no-explicit-any
      () => createSigner({ partnerId: config as any, apiKey: SECRET }),
      "invalid_argument",
      /^Partner id must be a non-empty string, got an object/,
    ),
    await assertRejectsWithCode(
      // deno-lint-ignore no-explicit-any
      () => verifyCallback(signer, "{}", { replayGuard: config as any }),
      "invalid_argument",
      /^Option replayGuard must be false or an object with begin, finish and abandon methods, got an object with keys/,
    ),
    await assertRejectsWithCode(
      // deno-lint-ignore no-explicit-any
      () => client.getJobStatus({ userId: config as any, jobId: "j" }),
      "invalid_argument",
      /^User id must be .*, got an object with keys partnerId, apiKey$/,
    ),
    await assertRejectsWithCode(
      // deno-lint-ignore no-explicit-any
      () => client.getJobStatus({ userId: "u", jobId: [config] as any }),
      "invalid_argument",
      /got an array of 1 item$/,
    ),
  ];
  for (const error of outcomes) {
    for (const text of [error.message, String(error), JSON.stringify(error), error.stack ?? ""]) {
      assertFalse(text.includes(SECRET), text);
    }
  }
});

test("a server error body's code and text are shown escaped in the message", async () => {
  const cases: Array<[string, Response]> = [
    ["HTTP error body", Response.json({ code: HOSTILE, error: HOSTILE }, { status: 400 })],
    ["HTTP error text only", Response.json({ error: HOSTILE }, { status: 500 })],
    ["unsigned 200 error body", Response.json({ code: HOSTILE, error: HOSTILE })],
    ["HTML error page", new Response(`<h1>${HOSTILE}</h1>`)],
    // A header value is bytes: no CR, LF, NUL or character above U+00FF, but ESC, BEL and C1 can arrive.
    [
      "redirect",
      new Response(null, { status: 302, headers: { location: "/\u001b]52;c;ZXZpbA==\u0007\u0085\u009b31m" } }),
    ],
  ];
  const signer = createSigner(config);
  for (const [name, response] of cases) {
    const error = await assertRejectsWithCode(
      () => parseJobStatusResponse(signer, response),
      name === "HTML error page" ? "unexpected_response" : name.startsWith("unsigned") ? "missing_signature" : "http",
    );
    if (name === "redirect") {
      assertFalse(UNSAFE.test(error.message), error.message);
      assertStringIncludes(error.message, String.raw`to "/\u001b]52;c;ZXZpbA==\u0007\u0085\u009b31m"`);
      continue;
    }
    assertEscaped(error.message, name);
    // The raw text stays available, unchanged, where it belongs.
    if (name !== "HTML error page") assertStrictEquals(error.serverMessage, HOSTILE, name);
  }
  const coded = await assertRejectsWithCode(
    () => parseJobStatusResponse(signer, Response.json({ code: `22\u001b[2J05`, error: "no" }, { status: 401 })),
    "http",
  );
  assertMatch(coded.message, /^Smile ID answered HTTP 401 with error 22\\u001b\[2J05: "no"/);
  assertStrictEquals(coded.smileCode, "22\u001b[2J05");
});

test("a job-status answer of the wrong shape shows its values escaped in the schema message", async () => {
  const signer = createSigner(config);
  const body = { job_complete: HOSTILE, result: { ResultCode: [HOSTILE] }, history: HOSTILE };
  const error = await assertRejectsWithCode(
    async () => parseJobStatusResponse(signer, { ...body, [`x${HOSTILE}`]: 1, ...(await signer.sign()) }),
    "schema",
  );
  assertFalse(UNSAFE.test(error.message), error.message);
});

test("callback fields are shown escaped in every verifyCallback() message", async () => {
  const signer = createSigner(config);
  const unsigned = await assertRejectsWithCode(
    () => verifyCallback(signer, { signature: HOSTILE, timestamp: 5 }, { replayGuard: false }),
    "missing_signature",
  );
  assertEscaped(unsigned.message, "missing_signature");
  const forged = await assertRejectsWithCode(
    () => verifyCallback(signer, { signature: HOSTILE, timestamp: HOSTILE }, { replayGuard: false }),
    "signature_mismatch",
  );
  assertEscaped(forged.message, "signature_mismatch");
  // Signed with the hostile text as its timestamp: genuine, but not a readable time.
  const unreadable = await assertRejectsWithCode(
    async () => verifyCallback(signer, { ResultCode: "1012", ...(await signer.sign(HOSTILE)) }, { replayGuard: false }),
    "invalid_timestamp",
  );
  assertEscaped(unreadable.message, "invalid_timestamp");
  const guard = {
    begin: () => Promise.reject(new Error(`store down ${HOSTILE}`)),
    finish: () => Promise.resolve(),
    abandon: () => Promise.resolve(),
  };
  const failed = await assertRejectsWithCode(
    async () => verifyCallback(signer, { ResultCode: "1012", ...(await signer.sign()) }, { replayGuard: guard }),
    "replay_guard",
  );
  assertEscaped(failed.message, "replay_guard");
});

test("a fetch failure's text is shown escaped in the transport error", async () => {
  const request = new Request("https://api.example.com/v1/job_status", { method: "POST" });
  const error = await sendRejects(
    () => send(request, { fetch: () => Promise.reject(new TypeError(HOSTILE)), timeoutMs: 1000 }, (r) => r.text()),
    "transport",
  );
  assertEscaped(error.message);
  assert(error.cause instanceof TypeError && error.cause.message === HOSTILE, "the cause is kept as thrown");
  const notError = await sendRejects(
    () => send(request, { fetch: () => Promise.reject(config), timeoutMs: 1000 }, (r) => r.text()),
    "transport",
  );
  assertFalse(notError.message.includes(SECRET), notError.message);
  assertEquals(notError.message.endsWith("an object with keys partnerId, apiKey"), true, notError.message);
});
