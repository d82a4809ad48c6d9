// Assertions the suite shares, built on @std/assert.
import { assertMatch, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { type JsonObject, SmileIdError, type SmileIdErrorCode } from "../mod.ts";

/**
 * Asserts that `fn` throws a {@linkcode SmileIdError} with `code` and, if given, a message matching
 * `message`; returns the error. `msg` is the failure message.
 */
export function assertThrowsWithCode(
  fn: () => unknown,
  code: SmileIdErrorCode,
  message?: RegExp,
  msg?: string,
): SmileIdError {
  const error = assertThrows(fn, SmileIdError, undefined, msg);
  assertStrictEquals(error.code, code, msg);
  if (message !== undefined) assertMatch(error.message, message, msg);
  return error;
}

/**
 * Asserts that the promise `fn` returns rejects with a {@linkcode SmileIdError} with `code` and, if
 * given, a message matching `message`; returns the error. `msg` is the failure message.
 */
export async function assertRejectsWithCode(
  fn: () => PromiseLike<unknown>,
  code: SmileIdErrorCode,
  message?: RegExp,
  msg?: string,
): Promise<SmileIdError> {
  const error = await assertRejects(fn, SmileIdError, undefined, msg);
  assertStrictEquals(error.code, code, msg);
  if (message !== undefined) assertMatch(error.message, message, msg);
  return error;
}

/** Resolves after `ms` real milliseconds (for tests that wait out a real store's TTL). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The answer a party without the API key makes up for the request body `sent`: an approval of
 * its job, carrying whatever signature pair the party has (the request's own, another's).
 */
export function madeUpApproval(
  sent: { readonly user_id?: unknown; readonly job_id?: unknown },
  pair: { readonly timestamp?: unknown; readonly signature?: unknown },
): JsonObject {
  return {
    job_complete: true,
    job_success: true,
    code: "2302",
    result: {
      ResultCode: "1012",
      ResultText: "ID Number Validated",
      PartnerParams: { user_id: sent.user_id as string, job_id: sent.job_id as string },
      Actions: { Verify_ID_Number: "Verified" },
    },
    timestamp: pair.timestamp as string,
    signature: pair.signature as string,
  };
}
