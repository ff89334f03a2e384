/**
 * The dtype model: one immutable object per fixed-size numpy dtype, built from numpy
 * descriptors by `parseDType`. The streaming path treats elements as raw bytes of this layout.
 */

/** numpy's byte-order characters; `|` means not applicable (1-byte, S, V, structured). */
export type ByteOrder = "<" | ">" | "|";
/** numpy kind characters. */
/** `O` is only used for variable-length strings (see {@link vstringDType}); object arrays are refused. */
export type Kind =
	| "b"
	| "i"
	| "u"
	| "f"
	| "c"
	| "S"
	| "U"
	| "V"
	| "M"
	| "m"
	| "O";
/** datetime64 / timedelta64 units. */
export type TimeUnit =
	| "Y"
	| "M"
	| "W"
	| "D"
	| "h"
	| "m"
	| "s"
	| "ms"
	| "us"
	| "ns"
	| "ps"
	| "fs"
	| "as"
	| "generic";

/** One fixed-size numpy dtype. Immutable; build with {@link parseDType}. */
export interface DType<C extends string = string> {
	/** Canonical numpy `dtype.str`: "<f4", "|S5", "<M8[ns]", "|V12". */
	readonly str: string;
	/** `str` without byte order and unit: "f4", "S5", "U3", "M8", "V12". */
	readonly code: C;
	readonly kind: Kind;
	readonly byteOrder: ByteOrder;
	/** Bytes per element. */
	readonly itemsize: number;
	/** numpy's natural alignment of the type (1 for packed records, S, U → 4). */
	readonly alignment: number;
	/** M / m only. */
	readonly unit?: TimeUnit;
	/** M / m only: the multiplier, 10 in "M8[10s]". */
	readonly step?: number;
	/** Structured V: fields in offset order. */
	readonly fields?: readonly Field[];
	/** Only as a field type: a sub-array of `base`. */
	readonly subarray?: {
		readonly base: DType;
		readonly shape: readonly number[];
	};
	/** Long double (f16/f12/c32/c24): carried as opaque elements by raw and npy only. */
	readonly opaque?: boolean;
	/** Kind O only: variable-length strings (HDF5 vlen, Zarr vlen-utf8), itemsize 0. */
	readonly vlen?: "utf8" | "ascii";
}

/** One field of a structured dtype. */
export interface Field {
	readonly name: string;
	readonly title?: string;
	readonly offset: number;
	readonly dtype: DType;
}

/** npy / zarr v2 descriptor: a `dtype.str` or a list of fields. */
export type Descr = string | readonly DescrField[];
/** `(name, type)` or `(name, type, shape)`; name may be `(title, name)`. */
export type DescrField = readonly [
	name: string | readonly [title: string, name: string],
	type: Descr,
	shape?: readonly number[],
];

/** numpy's dict form: `{names, formats, offsets?, itemsize?, titles?}`. */
export interface NumpyDictDescr {
	readonly names: readonly string[];
	readonly formats: readonly (Descr | NumpyDictDescr)[];
	readonly offsets?: readonly number[];
	readonly itemsize?: number;
	readonly titles?: readonly (string | null)[];
}

/** Variable-length strings (HDF5 vlen, Zarr vlen-utf8): outside the fixed-size byte path. */
export type VStringDType = DType<"O"> & {
	readonly kind: "O";
	readonly vlen: "utf8" | "ascii";
};

/** Any dtype an API may accept, vlen strings included (kept as an alias for readability). */
export type AnyDType = DType;

const VSTRINGS = {
	utf8: Object.freeze({
		str: "|O",
		code: "O",
		kind: "O",
		byteOrder: "|",
		itemsize: 0,
		alignment: 1,
		vlen: "utf8",
	}) as VStringDType,
	ascii: Object.freeze({
		str: "|O",
		code: "O",
		kind: "O",
		byteOrder: "|",
		itemsize: 0,
		alignment: 1,
		vlen: "ascii",
	}) as VStringDType,
};

/** The variable-length string dtype. Blocks of it carry `string[]` data and no bytes. */
export function vstringDType(
	encoding: "utf8" | "ascii" = "utf8",
): VStringDType {
	return VSTRINGS[encoding];
}

/** True for the vlen string type. */
export function isVString(dtype: DType): dtype is VStringDType {
	return dtype.kind === "O";
}

/** True for bool, integer, float and complex kinds (the kinds with typed-array views). */
export function isNumeric(dtype: DType): boolean {
	return "biufc".includes(dtype.kind) && dtype.opaque !== true;
}

/** True when the dtype is a record with named fields. */
export function isStructured(dtype: DType): boolean {
	return dtype.fields !== undefined;
}
