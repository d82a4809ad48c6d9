// Moved to scripts/conformance/bundle.ts. This re-export keeps tests/host/cloudflare_test.ts
// (rewritten on another branch) importing its old path until the merge changes that one import
// and deletes this file.
export * from "../conformance/bundle.ts";
