/**
 * @module @arraystore/raw — numpy.memmap for headerless files (.dat .raw .bin .memmap),
 * memory-mapped in windows through mmap-io (files and offsets past 4 GiB work), with positional
 * file I/O as the fallback. Also the data-region driver `@arraystore/npy` and
 * `@arraystore/mmappickle` delegate to.
 *
 * @example
 * ```ts
 * import { parseDType } from "@arraystore/core";
 * import { openRawRegion } from "@arraystore/raw";
 * const d = await openRawRegion("big.dat", { mode: "r", dtype: parseDType("<f4"), shape: [1000, 1000], order: "C", offset: 0 });
 * const row = new Uint8Array(1000 * 4);
 * await d.read({ start: [5, 0], shape: [1, 1000] }, row); // stored byte order
 * await d.close();
 * ```
 */
export {
	createRawAdapter,
	type RawAdapter,
	type RawAdapterOptions,
	rawAdapter,
} from "./adapter.js";
export { directWriteStats } from "./direct-write.js";
export {
	openRawRegion,
	type RawRegionDriver,
	type RawRegionOptions,
	type RegionHooks,
	type RegionMode,
} from "./driver.js";
export { DEFAULT_MAX_PRIVATE_BYTES, PRIVATE_PAGE_BYTES } from "./file-io.js";
export {
	checkRawDType,
	MAX_SIDECAR_BYTES,
	type PartialLayout,
	type RawLayout,
	readSidecar,
	resolveLayout,
	type Sidecar,
	sidecarPath,
	writeSidecar,
} from "./layout.js";
export {
	DEFAULT_MAX_WINDOWS,
	DEFAULT_WINDOW_BYTES,
	MAX_WINDOW_BYTES,
} from "./mapping.js";
export { loadMmap, type MmapLib, mmapLoadFailure } from "./mmap-lib.js";
export { checkRegion, RunCursor, regionRuns } from "./runs.js";
