// The CLI's human output of status and wait on a terminal-shaped run (stdout and stderr are
// terminals): the ID response is masked, photos are summarised and links and receipts lose their
// query, unless --show-personal-data; --json prints Smile ID's answer as received.

import { test } from "node:test";
import { assert, assertEquals, assertMatch, assertStrictEquals, assertStringIncludes } from "@std/assert";
import { encodeBase64 } from "@std/encoding/base64";
import { type CliIo, main } from "../../src/cli.ts";
import { createFakeSmileId, type FakeJob } from "../../src/testing/mod.ts";

const partnerId = "085";
const apiKey = "cli-personal-data-key-3c1d";
const env = { SMILE_PARTNER_ID: partnerId, SMILE_API_KEY: apiKey, SMILE_SERVER: "http://127.0.0.1:9/v1" };
const ids = ["--user-id", "user-1", "--job-id", "job-1"];

// A 23,000-byte "JPEG" (its first bytes are a JPEG's), as base64: printed as (JPEG, 23 kB).
const PHOTO = encodeBase64(Uint8Array.from({ length: 23_000 }, (_, i) => (i < 3 ? [0xff, 0xd8, 0xff][i]! : i % 251)));
const PNG = encodeBase64(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(1492)]));
const LOOKUP = {
  ResultCode: "1012",
  ResultText: "ID Validated",
  ResultType: "ID Verification",
  Country: "NG",
  IDType: "NIN",
  IDNumber: "12345678901",
  Secondary_ID_Number: "SEC987654",
  FullName: "Amaka Example",
  DOB: "1991-02-03",
  Gender: "Female",
  PhoneNumber: "+2348012345678",
  PhoneNumber2: "+2348087654321",
  Address: "7 Example Close, Lagos",
  ExpirationDate: "2031-04-05",
  Photo: PHOTO,
  Document: PNG,
  FullData: { middleName: "Chioma", watchListed: "NO" },
  IDNumberPreviouslyRegistered: true,
  UserIDsOfPreviousRegistrants: ["user-0007"],
};
const FULL_VALUES = [
  "12345678901",
  "SEC987654",
  "1991-02-03",
  "+2348012345678",
  "+2348087654321",
  "7 Example Close",
  PHOTO.slice(0, 40),
  PNG.slice(0, 40),
  "Chioma",
];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs main() in-process as on a terminal: both streams say isTTY. */
async function run(argv: string[], io: Omit<CliIo, "stdout" | "stderr"> = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    env,
    stdin: Object.assign((async function* () {})(), { isTTY: true }),
    ...io,
    stdout: { write: (text: string) => (stdout += text), isTTY: true },
    stderr: { write: (text: string) => (stderr += text), isTTY: true },
  });
  return { code, stdout, stderr };
}

/** A fake with a Biometric KYC job whose history holds LOOKUP (with every ID field filled). */
function fake(job: Partial<FakeJob> = {}) {
  const smile = createFakeSmileId({ partnerId, apiKey });
  smile.addJob({
    userId: "user-1",
    jobId: "job-1",
    product: "biometric_kyc",
    history: [{ ResultCode: "1210", ResultText: "Enroll User" }, LOOKUP],
    ...job,
  });
  return smile;
}

function assertMasked(output: string): void {
  for (const value of FULL_VALUES) assert(!output.includes(value), `printed ${value}`);
  assert(!/X-Amz-|signature=|timestamp=/.test(output), "a link or receipt query was printed");
}

test("main() status masks the ID response, summarises photos and hides link and receipt queries", async () => {
  const smile = fake();
  const { code, stdout, stderr } = await run(["status", ...ids, "--history", "--image-links"], { fetch: smile.fetch });
  assertStrictEquals(code, 0);
  assertStrictEquals(stderr, "");
  assertMasked(stdout);
  assertMatch(stdout, /^ID response \(personal data masked; --show-personal-data shows it\)$/m);
  const rows: Array<[string, string]> = [
    ["country", "NG"],
    ["ID type", "NIN"],
    ["ID number", "****8901"],
    ["secondary ID number", "****7654"],
    ["expires", "2031-04-05"],
    ["full name", "Amaka Example"],
    ["date of birth", "(hidden)"],
    ["gender", "Female"],
    ["phone", "(hidden)"],
    ["phone 2", "(hidden)"],
    ["address", "(hidden)"],
    ["photo", "(JPEG, 23 kB)"],
    ["document", "(PNG, 2 kB)"],
    ["full data", "(2 fields: middleName, watchListed)"],
    ["previously registered", "yes"],
    ["previous user ids", "user-0007"],
  ];
  for (const [label, value] of rows) {
    assertMatch(stdout, new RegExp(`^  ${label} +${value.replace(/[()*+]/g, "\\$&")}$`, "m"), label);
  }
  assertMatch(
    stdout,
    /^ {2}selfie_image +https:\/\/fake-smile-id\.invalid\/085\/job-1\/SID_Preview_FULL\.jpg \(query hidden; expires \d{4}-\d\d-\d\dT[\d:.]+Z\)$/m,
  );
  assertMatch(
    stdout,
    /^ {2}KYC receipt +https:\/\/portal\.fake-smile-id\.invalid\/api\/v3\/085\/job_result_summary\/0000000001\/generate_pdf \(query hidden\)$/m,
  );
  assertMatch(stdout, /decision +approved \(from job_success; Smile ID documents no category for code 0810\)/);
});

test("main() status --show-personal-data prints the ID response, links and receipts in full", async () => {
  const smile = fake();
  const { code, stdout } = await run(["status", ...ids, "--history", "--image-links", "--show-personal-data"], {
    fetch: smile.fetch,
  });
  assertStrictEquals(code, 0);
  assertMatch(stdout, /^ID response$/m);
  for (
    const value of ["12345678901", "SEC987654", "1991-02-03", "+2348012345678", "7 Example Close, Lagos", PHOTO, PNG]
  ) {
    assertStringIncludes(stdout, value);
  }
  assertStringIncludes(stdout, '{"middleName":"Chioma","watchListed":"NO"}');
  assertMatch(stdout, /selfie_image +https:\/\/\S+\?X-Amz-Algorithm=AWS4-HMAC-SHA256&\S+ \(expires /);
  assertMatch(stdout, /KYC receipt +https:\/\/\S+\/generate_pdf\?signature=\S+&timestamp=\S+&environment=test$/m);
});

test("main() status --json prints Smile ID's answer as received, nothing masked", async () => {
  const smile = fake();
  const { code, stdout } = await run(["status", ...ids, "--history", "--image-links", "--json"], {
    fetch: smile.fetch,
  });
  assertStrictEquals(code, 0);
  const json = JSON.parse(stdout);
  assertEquals(json.history[1], LOOKUP, "the history entry as the fake sent it");
  assertMatch(json.image_links.selfie_image, /\?X-Amz-Algorithm=/);
  assertStringIncludes(json.kyc_receipt, `?signature=${json.signature}&timestamp=${json.timestamp}`);
});

test("main() wait masks the ID response like status, and shows it with --show-personal-data", async () => {
  const smile = fake({ completesAfterMs: 0 });
  const masked = await run(["wait", ...ids, "--history", "--interval", "0.01"], { fetch: smile.fetch });
  assertStrictEquals(masked.code, 0);
  assertMasked(masked.stdout);
  assertMatch(masked.stdout, /^ {2}ID number +\*\*\*\*8901$/m);
  assertMatch(masked.stderr, /^Waiting for job job-1 of user user-1/);
  const full = await run(["wait", ...ids, "--history", "--show-personal-data"], { fetch: smile.fetch });
  assertStrictEquals(full.code, 0);
  assertMatch(full.stdout, /^ {2}ID number +12345678901$/m);
});

test("main() status masks short ID numbers whole and prints no ID response without one", async () => {
  const smile = fake({ history: [{ ...LOOKUP, IDNumber: "1234", Secondary_ID_Number: "Not Available" }] });
  const short = await run(["status", ...ids, "--history"], { fetch: smile.fetch });
  assertMatch(short.stdout, /^ {2}ID number +\*\*\*\*$/m);
  assert(!/secondary ID number/.test(short.stdout), "a placeholder is not shown");
  // Without --history a Biometric KYC answer has no ID response: the section is left out.
  const none = await run(["status", ...ids], { fetch: smile.fetch });
  assertStrictEquals(none.code, 0);
  assert(!none.stdout.includes("ID response"));
});

test("main() status --help documents --show-personal-data", async () => {
  for (const command of ["status", "wait"]) {
    const { code, stdout } = await run([command, "--help"]);
    assertStrictEquals(code, 0);
    assertMatch(stdout, /--show-personal-data/);
  }
});
