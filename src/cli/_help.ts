// The help texts: the overview with the exit codes, and one page per command.

import { VERSION } from "../_version.ts";
import { type Context, EXIT_OK, NAME } from "./_context.ts";

const CONFIG_HELP = `Configuration (a flag wins over its variable):
  --partner-id ID   SMILE_PARTNER_ID   partner id exactly as the portal shows it (e.g. "085")
  --api-key KEY     SMILE_API_KEY      API key for signature; prefer the variable (flags stay in shell history)
  --server S        SMILE_SERVER       sandbox (default), production, 0, 1, or a base URL
                                       (https://…, or http:// on 127.0.0.1 for the fake server)`;

const COMMON_HELP = `Every command also takes:
  --json           print the outcome, errors included, as one JSON object on stdout
  --verbose        show an error's whole cause chain
  --help, -h       print this help`;

/** The overview, and each command's page, by command name ("" for the overview). */
export const HELP: Readonly<Record<string, string>> = {
  "": `${NAME} ${VERSION}: Smile ID v1 job status from the command line

Usage: ${NAME} <command> [options]

Commands:
  status           Ask for a job's status once and print the decision
  wait             Poll until a job is complete, showing progress
  sign             Print a signature and its timestamp (to debug error 2205)
  verify-callback  Check a saved callback body (exit 0 valid, 1 invalid)
  fake-server      Run a fake Smile ID on 127.0.0.1 for offline testing

${CONFIG_HELP}

${COMMON_HELP}

Errors name the root cause in one line ('--verbose' shows the whole chain). With --json an
error is {"error":{"code","message","cause","exitCode",…}} on stdout and stderr stays empty
(only wait's progress lines go there).

Exit codes:
  0    success; for verify-callback, the callback is valid
  1    failure: Smile ID refused or could not be reached, a timeout, an invalid callback
  2    usage or configuration error: unknown command or option, bad or missing value
  130  interrupted (Ctrl-C)

Run '${NAME} <command> --help' for a command's options.`,
  status: `Usage: ${NAME} status --user-id U --job-id J [--history] [--image-links] [--show-personal-data] [--json]

Asks Smile ID for a job's status once, verifies the answer's signature, and prints the
decision, the result code and text, the Actions table, the ID response (masked), image links
and receipts.

Options:
  --user-id U      user_id the job was submitted with (required)
  --job-id J       job_id the job was submitted with (required)
  --history        include the job's earlier results (Biometric KYC's ID response is there)
  --image-links    include expiring links to the job's images
  --show-personal-data
                   print the ID response, image links and receipts in full; by default ID
                   numbers show their last 4 characters, phone numbers, address and date of
                   birth are hidden, photos are summarised as (JPEG, 23 kB), and links and
                   receipts lose their query (a bearer credential)
  --json           print Smile ID's answer as JSON instead, as received (nothing masked)

${CONFIG_HELP}`,
  wait: `Usage: ${NAME} wait --user-id U --job-id J [--timeout 120] [--interval 1] [--max-interval 8] [--json]

Polls until the job is complete, then prints it like 'status'. Progress goes to stderr: one
line redrawn on a terminal, one line per attempt otherwise. Waits start at --interval and grow
to --max-interval; busy answers (429, 5xx) and network errors are retried until --timeout;
anything else (such as error 2205) stops at once. When no attempt got an answer, it says that
Smile ID could not be reached, with the root cause. Ctrl-C stops cleanly.

Options:
  --user-id U         user_id the job was submitted with (required)
  --job-id J          job_id the job was submitted with (required)
  --timeout S         give up after S seconds (default 120)
  --interval S        first wait between checks, in seconds (default 1)
  --max-interval S    longest wait between checks, in seconds (default 8)
  --history           include the job's earlier results (Biometric KYC's ID response is there)
  --image-links       include expiring links to the job's images
  --show-personal-data
                      print the ID response, image links and receipts in full (masked by
                      default, as for 'status')
  --json              print Smile ID's final answer as JSON, as received (nothing masked)

${CONFIG_HELP}`,
  sign: `Usage: ${NAME} sign [--timestamp T] [--json]

Prints the signature Smile ID expects for a timestamp (default: now), the timestamp, and the
exact text that was signed, to compare with what your code sends when Smile ID answers 2205.

Options:
  --timestamp T    sign this timestamp verbatim (e.g. 2024-01-01T00:00:00.000Z)
  --json           print JSON

${CONFIG_HELP}`,
  "verify-callback": `Usage: ${NAME} verify-callback [FILE|-] [--tolerance 300] [--confirm] [--json]

Checks a callback body Smile ID posted (saved to FILE, or read from stdin with - or no FILE):
signature, timestamp freshness and shape. Exit code 0 when valid, 1 when not, with the reason
only: nothing a refused body claims is printed. The signature covers only the timestamp and
partner id, not the body: --confirm also asks Smile ID for the job's status and refuses a body
that disagrees with it; a callback outside the tolerance is then still valid, reported as not
fresh. When Smile ID's own answer cannot be had or does not verify, the callback is not judged
and the error says why (exit 1).

Options:
  --tolerance S    accept timestamps at most S seconds from now (default 300); 'off' skips it
  --confirm        compare the body with the job status from Smile ID (needs the server)
  --json           print the outcome as JSON

${CONFIG_HELP}`,
  "fake-server":
    `Usage: ${NAME} fake-server [--port 8787] [--host 127.0.0.1] [--partner-id ID] [--complete-after 3] [--json]

Runs a fake Smile ID on loopback for offline testing: it checks partner id and signature like
the real API, answers signed job statuses, and prints the partner id, a made-up API key and the
base URL to use. Any user id and job id you ask about exists; it completes --complete-after
seconds after the first query, with the fake's default result (an approved ID verification, ResultCode 1012).
SMILE_* variables are ignored here, so real credentials are never used or shown.

Options:
  --port N            port to listen on (default 8787; 0 picks a free one)
  --host H            loopback address to listen on (default 127.0.0.1)
  --partner-id ID     partner id the fake serves (default 000)
  --api-key KEY       key the fake accepts (default: a new random key, printed)
  --complete-after S  seconds from a job's first query until it is complete (default 3)
  --json              print one JSON object per line: listening, each request, stopped`,
};

/** Prints `command`'s help page on stdout; exit code 0. */
export function printHelp(command: string, context: Context): number {
  context.out(HELP[command]);
  return EXIT_OK;
}
