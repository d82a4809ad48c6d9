// How the CLI prints: escaped lines and tables, ASCII-safe JSON, job statuses, progress and
// request lines, and an error's cause chain down to its root cause.

import { imageLinkExpiry } from "../image.ts";
import type { PollProgress } from "../poll.ts";
import { describeResult, type ResultSummary } from "../result.ts";
import type { FakeRequestRecord } from "../testing/mod.ts";
import type { IdResponse, JobResult, JobStatus } from "../types.ts";
import { escapeText } from "../_validate.ts";

/**
 * A line as is when nothing in it could drive a terminal or forge a line; otherwise the whole
 * line through `escapeText`. (Text that came from outside is escaped where it is put into a
 * line; this is the last guard for anything that was not.)
 */
export function printable(line: string): string {
  const escaped = escapeText(line);
  return escaped === line.replaceAll("\\", "\\\\") ? line : escaped;
}

// JSON.stringify escapes C0 controls but leaves DEL, C1, the bidirectional controls and the
// line separators as they are; these become \u escapes, which every JSON parser reads back.
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** `value` as JSON that a terminal prints without side effects (`pretty`: indented). */
export function jsonText(value: unknown, pretty = false): string {
  return JSON.stringify(value, null, pretty ? 2 : undefined)
    .replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Aligned two-column rows; every cell is escaped, since most hold text from outside. */
export function table(rows: readonly (readonly [string, string])[], indent = "  "): string {
  const cells = rows.map(([key, value]) => [escapeText(key), escapeText(value)] as const);
  const width = Math.max(...cells.map(([key]) => key.length));
  return cells.map(([key, value]) => `${indent}${key.padEnd(width)}  ${value}`).join("\n");
}

/** The decision with its code and text, for example `approved (1012 ID Number Validated)`. */
export function decisionText(summary: ResultSummary): string {
  const detail = [summary.code, summary.text?.trim()].filter(Boolean).join(" ");
  return detail ? `${summary.decision} (${detail})` : summary.decision;
}

/**
 * Human-readable lines for a job status: decision, result, Actions, history, the ID response,
 * links and receipts. Unless `showPersonalData`, the ID response's ID numbers, phone numbers,
 * address, date of birth and `FullData` values are masked, images are summarised, and links and
 * receipts are shown without their query (a bearer credential: a signature or a signed pair).
 */
export function statusLines(
  status: JobStatus,
  userId: string,
  jobId: string,
  server: string,
  showPersonalData = false,
): string[] {
  const summary = describeResult(status);
  const result = typeof status.result === "object" ? status.result : undefined;
  const yesNo = (value: boolean | undefined) => (value === undefined ? "-" : value ? "yes" : "no");
  const rows: [string, string][] = [
    ["complete", yesNo(status.jobComplete)],
    ["success", yesNo(status.jobSuccess)],
    [
      "decision",
      summary.basis === "job_success"
        ? `${summary.decision} (from job_success${
          summary.code ? `; Smile ID documents no category for code ${summary.code}` : ""
        })`
        : summary.decision === "unknown" && summary.code
        ? `unknown (Smile ID documents no category for code ${summary.code})`
        : summary.decision,
    ],
    ["result", [summary.code, summary.text?.trim()].filter(Boolean).join(" ") || "-"],
  ];
  if (result?.resultType) rows.push(["type", result.resultType]);
  if (summary.final !== undefined || summary.machine !== undefined) {
    rows.push(["final", `${yesNo(summary.final)}${summary.machine ? " (machine result)" : ""}`]);
  }
  if (summary.confidence !== undefined) rows.push(["confidence", String(summary.confidence)]);
  if (result?.smileJobId) rows.push(["Smile job", result.smileJobId]);
  if (status.code) rows.push(["code", status.code]);
  const lines = [`Job ${escapeText(jobId)} of user ${escapeText(userId)} on ${escapeText(server)}`, table(rows)];
  const actions = Object.entries(summary.actions);
  if (actions.length > 0) lines.push("Actions", table(actions, "  "));
  if (status.history) {
    lines.push(`History (${status.history.length} ${status.history.length === 1 ? "entry" : "entries"})`);
    status.history.forEach((entry: JobResult, index) => {
      const text = [entry.resultCode, entry.resultText?.trim()].filter(Boolean).join(" ");
      lines.push(`  ${index + 1}. ${text ? escapeText(text) : "(no result code)"}`);
    });
  }
  if (status.idResponse) {
    lines.push(
      `ID response${showPersonalData ? "" : " (personal data masked; --show-personal-data shows it)"}`,
      table(idResponseRows(status.idResponse, showPersonalData)),
    );
  }
  if (status.imageLinks) {
    const links = Object.entries(status.imageLinks.raw).map(([key, value]): [string, string] => [
      key,
      typeof value === "string" ? linkText(value, showPersonalData) : JSON.stringify(value),
    ]);
    lines.push("Image links", links.length > 0 ? table(links, "  ") : "  (none)");
  }
  const receipts: [string, string][] = [];
  if (status.kycReceipt !== undefined) receipts.push(["KYC receipt", linkText(status.kycReceipt, showPersonalData)]);
  if (status.kybReceipt !== undefined) receipts.push(["KYB receipt", linkText(status.kybReceipt, showPersonalData)]);
  if (receipts.length > 0) lines.push("Receipts", table(receipts));
  return lines;
}

/** The rows of an ID response, the personal ones masked unless `full`. */
function idResponseRows(id: IdResponse, full: boolean): [string, string][] {
  const hidden = (value: string) => (full ? value : "(hidden)");
  const idNumber = (value: string) => (full ? value : value.length <= 4 ? "****" : `****${value.slice(-4)}`);
  const image = (value: string) => (full ? value : imageSummary(value));
  const rows: [string, string | undefined][] = [
    ["country", id.country],
    ["ID type", id.idType],
    ["ID number", id.idNumber && idNumber(id.idNumber)],
    ["secondary ID number", id.secondaryIdNumber && idNumber(id.secondaryIdNumber)],
    ["issued", id.issuanceDate],
    ["expires", id.expirationDate],
    ["full name", id.fullName],
    ["date of birth", id.dob && hidden(id.dob)],
    ["gender", id.gender],
    ["phone", id.phoneNumber && hidden(id.phoneNumber)],
    ["phone 2", id.phoneNumber2 && hidden(id.phoneNumber2)],
    ["address", id.address && hidden(id.address)],
    ["photo", id.photo && image(id.photo)],
    ["document", id.document && image(id.document)],
    [
      "full data",
      id.fullData &&
      (full
        ? JSON.stringify(id.fullData)
        : Object.keys(id.fullData).length === 0
        ? "(empty)"
        : `(${plural(Object.keys(id.fullData).length, "field")}: ${Object.keys(id.fullData).join(", ")})`),
    ],
    [
      "previously registered",
      id.idNumberPreviouslyRegistered === undefined ? undefined : id.idNumberPreviouslyRegistered ? "yes" : "no",
    ],
    ["previous user ids", id.previousRegistrantUserIds && (id.previousRegistrantUserIds.join(", ") || "(none)")],
  ];
  return rows.filter((row): row is [string, string] => row[1] !== undefined && row[1] !== "");
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** `(JPEG, 23 kB)`: a base64 image's type (from its first bytes) and decoded size, without decoding it. */
export function imageSummary(base64: string): string {
  const data = base64.trim().replace(/^data:[^,]*;base64,/i, "").replace(/\s+/g, "");
  const type = data.startsWith("/9j/")
    ? "JPEG"
    : data.startsWith("iVBORw0KGgo")
    ? "PNG"
    : /^[A-Za-z0-9+/]+={0,2}$/.test(data)
    ? "image"
    : "not base64";
  const bytes = Math.floor((data.replace(/=+$/, "").length * 3) / 4);
  return `(${type}, ${bytes >= 1000 ? `${Math.round(bytes / 1000)} kB` : `${bytes} B`})`;
}

/**
 * A link or receipt: in full, or without its query and fragment (where a presigned link keeps
 * its signature and a receipt the answer's signed pair), with the expiry the link states.
 */
export function linkText(url: string, full: boolean): string {
  const bare = url.replace(/[?#][\s\S]*$/, "");
  const expiry = imageLinkExpiry(url);
  const notes = [
    ...(bare === url || full ? [] : ["query hidden"]),
    ...(expiry === undefined ? [] : [`expires ${expiry.toISOString()}`]),
  ];
  return `${full ? url : bare}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`;
}

/** One line per polling attempt: `attempt 2, 1.0 s: not complete yet; next check in 2.0 s`. */
export function progressLine(progress: PollProgress): string {
  const state = progress.error
    ? progress.error.code === "http"
      ? `HTTP ${progress.error.status}${progress.error.smileCode ? ` (${escapeText(progress.error.smileCode)})` : ""}`
      : progress.error.code
    : progress.status?.jobComplete
    ? "complete"
    : "not complete yet";
  const next = progress.nextDelayMs === undefined
    ? ""
    : `; next check in ${(progress.nextDelayMs / 1000).toFixed(1)} s`;
  return `attempt ${progress.attempt}, ${(progress.elapsedMs / 1000).toFixed(1)} s: ${state}${next}`;
}

/** One line per request the fake server answered. */
export function requestLine(record: FakeRequestRecord): string {
  const time = new Date(record.at).toISOString().slice(11, 19);
  const job = record.jobId === undefined ? "" : ` ${escapeText(record.userId ?? "?")}/${escapeText(record.jobId)}`;
  const state = record.smileCode !== undefined
    ? ` error ${record.smileCode}`
    : record.jobComplete === undefined
    ? ""
    : record.jobComplete
    ? " complete"
    : " pending";
  return `${time} ${record.method} ${escapeText(record.path)} -> ${record.status}${job}${state}`;
}

/** One level of an error's `cause` chain. */
export interface CauseLevel {
  /** The error's name (`TypeError`, `SmileIdError`), or the type of a thrown non-error. */
  readonly name: string;
  /** Its `code` (`ECONNREFUSED`, `transport`), when it has one. */
  readonly code?: string;
  /** Its message, escaped. */
  readonly message: string;
}

/** The error and each `cause` below it (at most 10 levels, cycles cut). */
export function causeChain(error: unknown): CauseLevel[] {
  const chain: CauseLevel[] = [];
  const seen = new Set<unknown>();
  for (let level: unknown = error; level !== undefined && level !== null && chain.length < 10;) {
    if (seen.has(level)) break;
    seen.add(level);
    const object = typeof level === "object" ? level as { name?: unknown; code?: unknown; message?: unknown } : {};
    const code = typeof object.code === "string" || typeof object.code === "number" ? String(object.code) : undefined;
    const message = typeof object.message === "string"
      ? object.message
      : typeof level === "object"
      ? ""
      : String(level);
    chain.push({
      name: escapeText(typeof object.name === "string" ? object.name : typeof level),
      ...(code === undefined ? {} : { code: escapeText(code) }),
      message: escapeText(message),
    });
    level = typeof level === "object" ? (level as { cause?: unknown }).cause : undefined;
  }
  return chain;
}

/**
 * The deepest cause below `error` that says something (a message or a code), in one line:
 * `connect ECONNREFUSED 127.0.0.1:1`, or `signature_mismatch: The job status …`. Undefined
 * when `error` has no cause.
 */
export function rootCause(error: unknown): string | undefined {
  const below = causeChain(error).slice(1).filter((level) => level.message !== "" || level.code !== undefined);
  const root = below.at(-1);
  return root === undefined ? undefined : causeText(root);
}

/** One level as text; Deno's "error sending request for url (…): " prefix repeats the URL and is dropped. */
export function causeText(level: CauseLevel): string {
  const message = level.message.replace(/^error sending request for url \([^)]*\): /, "");
  if (level.code === undefined || message.includes(level.code)) return message || level.name;
  return message ? `${level.code}: ${message}` : level.code;
}
