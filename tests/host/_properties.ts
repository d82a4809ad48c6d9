// The fast-check harness the property tests share. Each property runs NUM_RUNS times: 10,000 when
// CI=true, 1,000 otherwise, or FC_NUM_RUNS. A failure reports fast-check's counterexample with its
// seed and path; replay it with FC_SEED=<seed> FC_PATH=<path>.
import { assert } from "@std/assert";
import process from "node:process";
import fc from "fast-check";

/** How many times each property runs. */
export const NUM_RUNS: number = Number(process.env.FC_NUM_RUNS ?? (process.env.CI === "true" ? 10_000 : 1_000));
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
const PATH = process.env.FC_PATH;

/** Bun's default per-test timeout is 5 s; 10,000 runs of a property may need more on a busy machine. */
export const LONG = { timeout: 300_000 };

/**
 * Runs `predicate` on `numRuns` values of `arbitrary` (default {@linkcode NUM_RUNS}) and checks that
 * it really ran that often (a replay with FC_PATH runs only the failing case).
 */
export async function check<T>(
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
  numRuns: number = NUM_RUNS,
): Promise<void> {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      runs++;
      await predicate(value);
    }),
    { numRuns, ...(SEED === undefined ? {} : { seed: SEED }), ...(PATH === undefined ? {} : { path: PATH }) },
  );
  if (PATH === undefined) assert(runs >= numRuns, `expected ${numRuns} runs, got ${runs}`);
}
