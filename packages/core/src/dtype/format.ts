/**
 * The reverse of parse.ts: numpy descriptors and names from a {@link DType}, and byte-order
 * changes applied recursively through records and sub-arrays.
 */

import type { Descr, DescrField, DType, NumpyDictDescr } from "./model.js";
import { parseDType, structured, subarrayOf } from "./parse.js";
import { pyDescr } from "./py-repr.js";

/**
 * The npy / zarr-v2 descriptor: `dtype.str` for simple types, a field list for records
 * (with `('', '|V<n>')` padding entries where fields leave gaps, as numpy's `descr` does).
 * Records whose fields overlap or are out of order have no list form: use {@link toDictDescr}.
 */
export function toDescr(dtype: DType): Descr {
	if (dtype.fields === undefined) {
		if (dtype.subarray) return toDescr(dtype.subarray.base);
		return dtype.str;
	}
	const out: DescrField[] = [];
	let at = 0;
	for (const f of dtype.fields) {
		if (f.offset > at) out.push(["", `|V${f.offset - at}`]);
		const name = f.title !== undefined ? ([f.title, f.name] as const) : f.name;
		out.push(
			f.dtype.subarray
				? [name, toDescr(f.dtype.subarray.base), [...f.dtype.subarray.shape]]
				: [name, toDescr(f.dtype)],
		);
		at = f.offset + f.dtype.itemsize;
	}
	if (dtype.itemsize > at) out.push(["", `|V${dtype.itemsize - at}`]);
	return out;
}

/** True when a record's fields are disjoint, so {@link toDescr} describes it exactly. */
export function hasListDescr(dtype: DType): boolean {
	if (!dtype.fields) return true;
	let at = 0;
	for (const f of dtype.fields) {
		if (f.offset < at || !hasListDescr(f.dtype.subarray?.base ?? f.dtype))
			return false;
		at = f.offset + f.dtype.itemsize;
	}
	return true;
}

/** numpy's dict form (`names`, `formats`, `offsets`, `itemsize`) for any record. */
export function toDictDescr(dtype: DType): NumpyDictDescr {
	const fields = dtype.fields ?? [];
	return {
		names: fields.map((f) => f.name),
		formats: fields.map((f) => toDescr(f.dtype)),
		offsets: fields.map((f) => f.offset),
		itemsize: dtype.itemsize,
	};
}

const NATIVE_NAMES: Readonly<Record<string, string>> = {
	b1: "bool",
	i1: "int8",
	i2: "int16",
	i4: "int32",
	i8: "int64",
	u1: "uint8",
	u2: "uint16",
	u4: "uint32",
	u8: "uint64",
	f2: "float16",
	f4: "float32",
	f8: "float64",
	f16: "float128",
	c8: "complex64",
	c16: "complex128",
	c32: "complex256",
};

/**
 * `str(dtype)` as numpy prints it: "float32", ">f8", "|S5", "<U3", "datetime64[D]",
 * "[('a', '<i4'), ('b', '<f8')]". mmappickle stores exactly this string.
 */
export function numpyName(dtype: DType): string {
	if (dtype.fields) return pyDescr(toDescr(dtype));
	if (dtype.byteOrder === ">") return dtype.str;
	if (dtype.kind === "M" || dtype.kind === "m") {
		const base = dtype.kind === "M" ? "datetime64" : "timedelta64";
		return dtype.unit === "generic"
			? base
			: `${base}[${dtype.step === 1 ? "" : dtype.step}${dtype.unit}]`;
	}
	return NATIVE_NAMES[dtype.code] ?? dtype.str;
}

/** The same dtype in another byte order, recursively through records and sub-arrays. */
export function withByteOrder(
	dtype: DType,
	order: "<" | ">" | "native",
): DType {
	const bo = order === "native" ? "<" : order;
	if (dtype.fields) {
		return structured(
			dtype.fields.map((f) => ({ ...f, dtype: withByteOrder(f.dtype, order) })),
			dtype.itemsize,
		);
	}
	if (dtype.subarray)
		return subarrayOf(
			withByteOrder(dtype.subarray.base, order),
			dtype.subarray.shape,
		);
	if (dtype.byteOrder === "|" || dtype.byteOrder === bo) return dtype;
	return parseDType(bo + dtype.str.slice(1));
}

/** True when `a` and `b` have the same element layout except for byte order. */
export function sameLayout(a: DType, b: DType): boolean {
	return dtypeKey(withByteOrder(a, "<")) === dtypeKey(withByteOrder(b, "<"));
}

/** True when the dtype (or any field of it) is stored big-endian. */
export function isBigEndian(dtype: DType): boolean {
	if (dtype.fields) return dtype.fields.some((f) => isBigEndian(f.dtype));
	if (dtype.subarray) return isBigEndian(dtype.subarray.base);
	return dtype.byteOrder === ">";
}

/** A string that identifies a dtype exactly, byte order and record layout included. */
export function dtypeKey(dtype: DType): string {
	return `${dtype.str}${layoutKey(dtype)}`;
}

function layoutKey(dtype: DType): string {
	if (dtype.fields)
		return `{${dtype.fields.map((f) => `${f.name}@${f.offset}:${dtypeKey(f.dtype)}`).join(",")}}`;
	if (dtype.subarray)
		return `(${dtype.subarray.shape.join(",")})${dtypeKey(dtype.subarray.base)}`;
	return "";
}
