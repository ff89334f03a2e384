/**
 * @module @arraystore/conformance — the shared suite every adapter runs, plus fixture-manifest
 * and Python round-trip helpers for tests.
 */

export type { NaiveIndex } from "./data.js";
export {
	naiveAssign,
	naiveSelect,
	randomBytes,
	rng,
	sliceIndices,
} from "./data.js";
export type { FormatsArrayEntry, FormatsManifest } from "./fixtures.js";
export {
	FORMATS_DIR,
	formatsManifest,
	PICKLE_DIR,
	pickleManifest,
	REPO_ROOT,
	sha256,
} from "./fixtures.js";
export { fingerprint } from "./fs-state.js";
export type { Python } from "./python.js";
export { python, pythonLegacy, skipNote } from "./python.js";
export type { ConformanceOptions } from "./suite.js";
export { CONFORMANCE_DTYPES, describeArrayStore } from "./suite.js";
export type { TempDir } from "./temp.js";
export { tempDir } from "./temp.js";
