// Stand-in for `node:assert/strict` in the bundles that run the portable suite inside workerd
// and Chromium, which have no Node APIs. Strict semantics as in Node: `equal` is Object.is,
// `deepEqual` is deepStrictEqual (prototypes, own enumerable keys and symbols, Map, Set, Date,
// RegExp, typed arrays, errors' name and message). Error matchers for throws/rejects follow
// Node: a class (instanceof), a RegExp (tested on String(error)), a validation function
// (must return true), or an object whose properties must match (RegExp values test strings).

/** The error every failed assertion throws. */
export class AssertionError extends Error {
  override readonly name = "AssertionError";
  readonly code = "ERR_ASSERTION";
  readonly actual: unknown;
  readonly expected: unknown;
  readonly operator: string;
  constructor(options: { message: string; actual?: unknown; expected?: unknown; operator: string }) {
    super(options.message);
    this.actual = options.actual;
    this.expected = options.expected;
    this.operator = options.operator;
  }
}

type Message = string | Error | undefined;

function show(value: unknown, depth = 0): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return `[Function: ${value.name || "anonymous"}]`;
  if (typeof value !== "object" || value === null) return String(value);
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof RegExp) return String(value);
  if (depth > 2) return Array.isArray(value) ? "[Array]" : "[Object]";
  if (Array.isArray(value)) return `[${value.slice(0, 20).map((v) => show(v, depth + 1)).join(", ")}]`;
  if (value instanceof Map) return `Map(${value.size})`;
  if (value instanceof Set) return `Set(${value.size})`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.byteLength} bytes)`;
  const entries = Object.entries(value).slice(0, 20).map(([k, v]) => `${k}: ${show(v, depth + 1)}`);
  const tag = value.constructor && value.constructor !== Object ? `${value.constructor.name} ` : "";
  return `${tag}{ ${entries.join(", ")} }`;
}

function failWith(message: Message, fallback: string, operator: string, actual?: unknown, expected?: unknown): never {
  if (message instanceof Error) throw message;
  throw new AssertionError({ message: message ?? fallback, actual, expected, operator });
}

function ownEnumerableKeys(value: object): (string | symbol)[] {
  const keys: (string | symbol)[] = Object.keys(value);
  for (const symbol of Object.getOwnPropertySymbols(value)) {
    if (Object.prototype.propertyIsEnumerable.call(value, symbol)) keys.push(symbol);
  }
  return keys;
}

function bytesOf(value: ArrayBufferView | ArrayBuffer): Uint8Array {
  return value instanceof ArrayBuffer
    ? new Uint8Array(value)
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function deepStrict(a: unknown, b: unknown, seen: Map<object, object>): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const tag = Object.prototype.toString.call(a);
  if (tag !== Object.prototype.toString.call(b)) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);

  if (a instanceof Date) {
    if (!Object.is(a.getTime(), (b as Date).getTime())) return false;
  } else if (a instanceof RegExp) {
    const r = b as RegExp;
    if (a.source !== r.source || a.flags !== r.flags || a.lastIndex !== r.lastIndex) return false;
  } else if (a instanceof Error) {
    const e = b as Error;
    if (a.name !== e.name || a.message !== e.message) return false;
  } else if (a instanceof URL) {
    if (a.href !== (b as URL).href) return false;
  } else if (a instanceof URLSearchParams || a instanceof Headers) {
    if (!deepStrict([...a.entries()], [...(b as URLSearchParams).entries()], seen)) return false;
  } else if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) {
    const x = bytesOf(a);
    const y = bytesOf(b as ArrayBuffer);
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    if (ArrayBuffer.isView(a)) {
      const extraA = Object.keys(a).filter((k) => !/^\d+$/.test(k));
      const extraB = Object.keys(b).filter((k) => !/^\d+$/.test(k));
      if (!deepStrict(extraA, extraB, seen)) return false;
      return extraA.every((k) => deepStrict((a as never)[k], (b as never)[k], seen));
    }
    return true;
  } else if (a instanceof Map) {
    const m = b as Map<unknown, unknown>;
    if (a.size !== m.size) return false;
    const unmatched = [...m.entries()];
    for (const [key, value] of a) {
      const index = unmatched.findIndex(([k, v]) => deepStrict(key, k, seen) && deepStrict(value, v, seen));
      if (index === -1) return false;
      unmatched.splice(index, 1);
    }
  } else if (a instanceof Set) {
    const s = b as Set<unknown>;
    if (a.size !== s.size) return false;
    const unmatched = [...s];
    for (const value of a) {
      const index = unmatched.findIndex((v) => deepStrict(value, v, seen));
      if (index === -1) return false;
      unmatched.splice(index, 1);
    }
  } else if (
    a instanceof Number || a instanceof String || a instanceof Boolean || a instanceof BigInt ||
    a instanceof Symbol
  ) {
    if (!Object.is(a.valueOf(), (b as object).valueOf())) return false;
  } else if (Array.isArray(a) && a.length !== (b as unknown[]).length) {
    return false;
  }

  const keysA = ownEnumerableKeys(a);
  const keysB = ownEnumerableKeys(b);
  if (keysA.length !== keysB.length) return false;
  for (const key of keysA) {
    if (!Object.prototype.propertyIsEnumerable.call(b, key)) return false;
    if (!deepStrict((a as Record<string | symbol, unknown>)[key], (b as Record<string | symbol, unknown>)[key], seen)) {
      return false;
    }
  }
  return true;
}

/** Whether two values are deeply and strictly equal, as node:util's isDeepStrictEqual. */
export function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  return deepStrict(a, b, new Map());
}

/** Asserts that `value` is truthy. */
export function ok(value: unknown, message?: Message): asserts value {
  if (!value) failWith(message, `The expression evaluated to a falsy value: ${show(value)}`, "==", value, true);
}

/** Asserts `Object.is(actual, expected)`. */
export function equal<T>(actual: unknown, expected: T, message?: Message): asserts actual is T {
  if (!Object.is(actual, expected)) {
    failWith(
      message,
      `Expected values to be strictly equal:\n  actual: ${show(actual)}\nexpected: ${show(expected)}`,
      "strictEqual",
      actual,
      expected,
    );
  }
}

/** Asserts `!Object.is(actual, expected)`. */
export function notEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (Object.is(actual, expected)) {
    failWith(
      message,
      `Expected "actual" to be strictly unequal to: ${show(expected)}`,
      "notStrictEqual",
      actual,
      expected,
    );
  }
}

/** Asserts deep strict equality. */
export function deepEqual<T>(actual: unknown, expected: T, message?: Message): asserts actual is T {
  if (!isDeepStrictEqual(actual, expected)) {
    failWith(
      message,
      `Expected values to be strictly deep-equal:\n  actual: ${show(actual)}\nexpected: ${show(expected)}`,
      "deepStrictEqual",
      actual,
      expected,
    );
  }
}

/** Asserts deep strict inequality. */
export function notDeepEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (isDeepStrictEqual(actual, expected)) {
    failWith(
      message,
      `Expected "actual" not to be strictly deep-equal to: ${show(expected)}`,
      "notDeepStrictEqual",
      actual,
      expected,
    );
  }
}

/** Asserts that `value` is a string matching `regexp`. */
export function match(value: unknown, regexp: RegExp, message?: Message): void {
  if (typeof value !== "string" || !regexp.test(value)) {
    failWith(
      message,
      `The input did not match the regular expression ${regexp}. Input: ${show(value)}`,
      "match",
      value,
      regexp,
    );
  }
}

/** Asserts that `value` is a string not matching `regexp`. */
export function doesNotMatch(value: unknown, regexp: RegExp, message?: Message): void {
  if (typeof value !== "string" || regexp.test(value)) {
    failWith(
      message,
      `The input was expected to not match the regular expression ${regexp}. Input: ${show(value)}`,
      "doesNotMatch",
      value,
      regexp,
    );
  }
}

/** Fails at once. */
export function fail(message: Message = "Failed"): never {
  failWith(message, "Failed", "fail");
}

/** Fails if `value` is neither null nor undefined. */
export function ifError(value: unknown): void {
  if (value !== null && value !== undefined) {
    if (value instanceof Error) throw value;
    failWith(undefined, `ifError got unwanted exception: ${show(value)}`, "ifError", value, null);
  }
}

// deno-lint-ignore ban-types
type ErrorMatcher = RegExp | Function | object;

function checkError(actual: unknown, expected: ErrorMatcher | undefined, message: Message, operator: string): void {
  if (expected === undefined) return;
  if (expected instanceof RegExp) {
    if (!expected.test(String(actual))) {
      failWith(
        message,
        `The error did not match the regular expression ${expected}. Error: ${show(actual)}`,
        operator,
        actual,
        expected,
      );
    }
    return;
  }
  if (typeof expected === "function") {
    if (expected.prototype !== undefined && actual instanceof expected) return;
    if (expected === Error || Object.prototype.isPrototypeOf.call(Error, expected)) {
      failWith(
        message,
        `The error is expected to be an instance of "${expected.name}". Received ${show(actual)}`,
        operator,
        actual,
        expected,
      );
    }
    const verdict = (expected as (error: unknown) => unknown).call({}, actual);
    if (verdict !== true) {
      failWith(
        message,
        `The validation function is expected to return "true". Received ${show(verdict)}\n\nCaught error:\n\n${
          show(actual)
        }`,
        operator,
        actual,
        expected,
      );
    }
    return;
  }
  if (typeof actual !== "object" || actual === null) {
    failWith(
      message,
      `Expected an error object matching ${show(expected)}, got ${show(actual)}`,
      operator,
      actual,
      expected,
    );
  }
  const keys: (string | symbol)[] = ownEnumerableKeys(expected);
  if (expected instanceof Error) keys.push("name", "message");
  for (const key of keys) {
    const want = (expected as Record<string | symbol, unknown>)[key];
    const got = (actual as Record<string | symbol, unknown>)[key];
    const same = want instanceof RegExp && typeof got === "string" ? want.test(got) : isDeepStrictEqual(got, want);
    if (!same) {
      failWith(
        message,
        `Expected the error's ${String(key)} to match ${show(want)}, got ${show(got)}`,
        operator,
        actual,
        expected,
      );
    }
  }
}

/** Asserts that `fn` throws, optionally an error matching `expected`. */
export function throws(fn: () => unknown, expected?: ErrorMatcher | string, message?: Message): void {
  if (typeof expected === "string") [message, expected] = [expected, undefined];
  let caught: { error: unknown } | undefined;
  try {
    fn();
  } catch (error) {
    caught = { error };
  }
  if (caught === undefined) failWith(message, "Missing expected exception.", "throws");
  checkError(caught.error, expected, message, "throws");
}

/** Asserts that `fn` does not throw. */
export function doesNotThrow(fn: () => unknown, message?: Message): void {
  try {
    fn();
  } catch (error) {
    failWith(message, `Got unwanted exception: ${show(error)}`, "doesNotThrow", error);
  }
}

/** Asserts that the promise (or the promise `fn` returns) rejects, optionally with a matching error. */
export async function rejects(
  promiseOrFn: Promise<unknown> | (() => Promise<unknown>),
  expected?: ErrorMatcher | string,
  message?: Message,
): Promise<void> {
  if (typeof expected === "string") [message, expected] = [expected, undefined];
  let caught: { error: unknown } | undefined;
  try {
    await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
  } catch (error) {
    caught = { error };
  }
  if (caught === undefined) failWith(message, "Missing expected rejection.", "rejects");
  checkError(caught.error, expected, message, "rejects");
}

/** Asserts that the promise (or the promise `fn` returns) resolves. */
export async function doesNotReject(
  promiseOrFn: Promise<unknown> | (() => Promise<unknown>),
  message?: Message,
): Promise<void> {
  try {
    await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
  } catch (error) {
    failWith(message, `Got unwanted rejection: ${show(error)}`, "doesNotReject", error);
  }
}

export {
  deepEqual as deepStrictEqual,
  equal as strictEqual,
  notDeepEqual as notDeepStrictEqual,
  notEqual as notStrictEqual,
};

/** `assert(value)` is `ok(value)`; the methods hang off it as in `node:assert/strict`. */
const assert = Object.assign(
  function assert(value: unknown, message?: Message): asserts value {
    ok(value, message);
  },
  {
    AssertionError,
    ok,
    equal,
    strictEqual: equal,
    notEqual,
    notStrictEqual: notEqual,
    deepEqual,
    deepStrictEqual: deepEqual,
    notDeepEqual,
    notDeepStrictEqual: notDeepEqual,
    match,
    doesNotMatch,
    throws,
    doesNotThrow,
    rejects,
    doesNotReject,
    fail,
    ifError,
  },
);
(assert as unknown as { strict: unknown }).strict = assert;

export default assert;
