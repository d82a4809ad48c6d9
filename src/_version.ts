// The package version, sent as `source_sdk_version`. Kept equal to deno.json's "version" by a test.
export const VERSION = "0.1.0";
