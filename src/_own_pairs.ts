// The pairs a client's own requests carried. Smile ID's signature covers only the timestamp and
// the partner id, so each request's (timestamp, signature) pair also passes the check of an
// answer or a callback: anyone who saw the request (a wrong server, a TLS-intercepting proxy, a
// redirect-following fetch wrapper) could put it on a body of their own. An answer or a callback
// carrying one is refused. Internal.

/**
 * The timestamps of each client's latest requests (with the partner and key fixed, a timestamp
 * determines its signature), found by the client and by its signer: whatever verifies with that
 * signer consults them. Only the client's own requests are recorded, never `signer.sign()`.
 */
export const ownPairs: WeakMap<object, Set<string>> = new WeakMap();

/** How many request pairs a client remembers; the oldest is dropped first. */
const MAX_OWN_PAIRS = 10_000;

/** Records a request's timestamp in `pairs`, dropping the oldest beyond the limit. */
export function rememberPair(pairs: Set<string>, timestamp: string): void {
  pairs.add(timestamp);
  if (pairs.size > MAX_OWN_PAIRS) pairs.delete(pairs.values().next().value!);
}
