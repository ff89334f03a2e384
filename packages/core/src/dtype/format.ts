/**
 * The reverse of parse.ts: numpy descriptors and names from a {@link DType}, and byte-order
 * changes applied recursively through records and sub-arrays.
 */

import type { Descr, DescrField, DType, NumpyDictDescr } from "./model.js";
import { parseDType, structured, subarrayOf } from "./parse.js";
import { pyStr, pyTuple } from "./py-repr.js";

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
	if (dtype.fields) return structStr(dtype);
	if (dtype.byteOrder === ">") return dtype.str;
	if (dtype.kind === "M" || dtype.kind === "m") {
		const base = dtype.kind === "M" ? "datetime64" : "timedelta64";
		return dtype.unit === "generic"
			? base
			: `${base}[${dtype.step === 1 ? "" : dtype.step}${dtype.unit}]`;
	}
	return NATIVE_NAMES[dtype.code] ?? dtype.str;
}

// numpy's _struct_str: the list form when fields are packed in order, else the dict form.
function structStr(dtype: DType): string {
	const fields = dtype.fields ?? [];
	let at = 0;
	const packed =
		fields.every((f) => {
			const ok = f.offset === at;
			at = f.offset + f.dtype.itemsize;
			return ok;
		}) && at === dtype.itemsize;
	if (packed) {
		const items = fields.map((f) => {
			const name =
				f.title !== undefined
					? `(${pyStr(f.title)}, ${pyStr(f.name)})`
					: pyStr(f.name);
			const sub = f.dtype.subarray;
			return sub
				? `(${name}, ${shortRepr(sub.base)}, ${pyTuple(sub.shape)})`
				: `(${name}, ${shortRepr(f.dtype)})`;
		});
		return `[${items.join(", ")}]`;
	}
	const formats = fields.map((f) =>
		f.dtype.subarray
			? `(${shortRepr(f.dtype.subarray.base)}, ${pyTuple(f.dtype.subarray.shape)})`
			: shortRepr(f.dtype),
	);
	const titles = fields.some((f) => f.title !== undefined)
		? `'titles': [${fields.map((f) => (f.title !== undefined ? pyStr(f.title) : "None")).join(", ")}], `
		: "";
	return `{'names': [${fields.map((f) => pyStr(f.name)).join(", ")}], 'formats': [${formats.join(", ")}], 'offsets': [${fields.map((f) => f.offset).join(", ")}], ${titles}'itemsize': ${dtype.itemsize}}`;
}

// numpy's _construction_repr(short=True) for a field type: '?', 'S3', 'V4', '<i4', 'i1', '<M8[ns]'.
function shortRepr(dtype: DType): string {
	if (dtype.fields) return structStr(dtype);
	const bo = dtype.byteOrder === "|" ? "" : dtype.byteOrder;
	switch (dtype.kind) {
		case "b":
			return "'?'";
		case "S":
		case "V":
			return `'${dtype.kind}${dtype.itemsize}'`;
		case "M":
		case "m":
			return pyStr(dtype.str);
		default:
			return `'${bo}${dtype.code}'`;
	}
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
