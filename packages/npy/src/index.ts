/**
 * @module @arraystore/npy — `.npy` and `.npz` with numpy's `open_memmap` semantics, for every
 * fixed-size dtype: a strict header parser (never an evaluator), numpy-identical headers, the
 * data region memory-mapped through `@arraystore/raw`, appending along the growth axis, and
 * `.npz` archives as containers (stored members mapped, deflated members streamed).
 *
 * @example
 * ```ts
 * import { createRegistry } from "@arraystore/core/node";
 * import { npyAdapter } from "@arraystore/npy";
 * const registry = createRegistry([npyAdapter]);
 * await using store = await registry.open("a.npy");
 * const all = await store.read();
 * ```
 */
export { type AppendNpyOptions, appendNpy } from "./append.js";
export {
	DEFAULT_MAX_HEADER_BYTES,
	NPY_MAGIC,
	type NpyHeader,
	type NpyPreamble,
	type NpyVersion,
	parseNpyHeader,
	parseNpyHeaderText,
	parseNpyPreamble,
	type ReadNpyHeaderOptions,
	readNpyHeader,
} from "./header.js";
export {
	ARRAY_ALIGN,
	encodeHeaderText,
	formatNpyHeader,
	GROWTH_AXIS_MAX_DIGITS,
	type NpyHeaderSpec,
	npyHeaderDict,
	wrapHeader,
} from "./header-write.js";
export {
	DEFAULT_MAX_DEPTH,
	isPyDict,
	isPyTuple,
	type PyDict,
	type PyLiteralOptions,
	type PyTuple,
	type PyValue,
	parsePyLiteral,
} from "./literal.js";
export { hasNpyMagic, npyAdapter } from "./npy-adapter.js";
export {
	type CreateNpyOptions,
	createNpy,
	NPY_ADAPTER,
	type NpyDriver,
	type OpenNpyOptions,
	openNpy,
} from "./npy-driver.js";
export { NPZ_ADAPTER } from "./npz/member-drivers.js";
export { hasZipMagic, npzAdapter } from "./npz/npz-adapter.js";
export { type NpzArchive, openNpz } from "./npz/npz-archive.js";
export { type NpzOptions, readNpzOptions } from "./npz/npz-options.js";
export {
	checkNpyDType,
	type NpyReadTuning,
	type RegionTuning,
} from "./options.js";
