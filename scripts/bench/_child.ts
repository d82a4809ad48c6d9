// Runs scripts/bench/_suite.ts in Node or Bun and prints its result as one JSON line on stdout.
// Spawned by scripts/bench/bench.ts: `<runtime> scripts/bench/_child.ts '<json options>'`. With
// "official": true it also loads the official Node SDK (smile-identity-core) in this process;
// with "handler": true it runs the callback handler's load test (scripts/bench/_handler.ts) instead,
// its confirm cases against the fake Smile ID at "fakeBase".

import { createRequire } from "node:module";
import process from "node:process";
import { type OfficialSdk, runSuite } from "./_suite.ts";
import { runHandlerBench } from "./_handler.ts";

const args = JSON.parse(process.argv[2] ?? "{}") as {
  runtime: string;
  quick?: boolean;
  official?: boolean;
  only?: string[];
  handler?: boolean;
  fakeBase?: string;
};

if (args.handler) {
  const result = await runHandlerBench({
    quick: args.quick ?? false,
    progress: (m) => process.stderr.write(`${m}\n`),
    fakeBase: args.fakeBase,
  });
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

let official: OfficialSdk | undefined;
if (args.official) {
  const require = createRequire(import.meta.url);
  official = require("smile-identity-core") as OfficialSdk;
}

const result = await runSuite({
  runtime: args.runtime,
  quick: args.quick ?? false,
  official,
  only: args.only,
});
process.stdout.write(JSON.stringify(result) + "\n");
