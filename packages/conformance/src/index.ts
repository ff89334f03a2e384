/**
 * @module @arraystore/conformance — the shared suite every adapter runs, plus fixture-manifest
 * and Python round-trip helpers for tests.
 */
export { tempDir } from "./temp.js";
export type { TempDir } from "./temp.js";
export { python, pythonLegacy, skipNote } from "./python.js";
export type { Python } from "./python.js";
export { FORMATS_DIR, PICKLE_DIR, REPO_ROOT, formatsManifest, pickleManifest, sha256 } from "./fixtures.js";
export type { FormatsArrayEntry, FormatsManifest } from "./fixtures.js";
