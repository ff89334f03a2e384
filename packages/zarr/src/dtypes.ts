/**
 * Zarr's type systems ↔ core's {@link DType}: Zarr v2 stores numpy descriptors (`"<f4"`, field
 * lists); Zarr v3 names core types (`float32`) and leaves byte order to the `bytes` codec.
 */
import {
	type Descr,
	type DType,
	hasListDescr,
	parseDType,
	toDescr,
	UnsupportedDTypeError,
} from "@arraystore/core";
import type { JsonValue } from "./json.js";

const V3_NAMES: Readonly<Record<string, string>> = {
	bool: "b1",
	int8: "i1",
	int16: "i2",
	int32: "i4",
	int64: "i8",
	uint8: "u1",
	uint16: "u2",
	uint32: "u4",
	uint64: "u8",
	float16: "f2",
	float32: "f4",
	float64: "f8",
	complex64: "c8",
	complex128: "c16",
};
const V3_BY_CODE: Readonly<Record<string, string>> = Object.fromEntries(
	Object.entries(V3_NAMES).map(([k, v]) => [v, k]),
);

function refuse(dtype: string, reason: string): never {
	throw new UnsupportedDTypeError(`zarr cannot store ${dtype}: ${reason}`, {
		dtype,
		format: "zarr",
	});
}

/**
 * Why Zarr cannot hold `dtype` at all (any version), or null when it can.
 */
export function zarrRefusal(dtype: DType): string | null {
	if (dtype.kind === "O")
		return "variable-length strings are not supported by this adapter";
	if (dtype.opaque)
		return "long double is platform-specific and has no Zarr type";
	if (dtype.fields && !hasListDescr(dtype))
		return "records with overlapping or unordered fields have no Zarr v2 descriptor";
	if (dtype.itemsize === 0) return "zero-size elements";
	return null;
}

/** Why Zarr v3 cannot hold `dtype` (written types are the spec's core types), or null. */
export function zarrV3Refusal(dtype: DType): string | null {
	const base = zarrRefusal(dtype);
	if (base) return base;
	if (V3_BY_CODE[dtype.code] === undefined || dtype.fields) {
		return "Zarr v3 extension data types (bytes, unicode, datetime, records, raw) are spelled differently by each implementation and tensorstore reads none of them; use zarrFormat 2";
	}
	return null;
}

/** Parses a `.zarray` `dtype`. */
export function dtypeFromV2(value: JsonValue | undefined): DType {
	if (typeof value === "string") {
		if (value.replace(/^[<>|=]/, "").startsWith("O"))
			refuse(
				value,
				"object arrays (vlen strings) are not supported by this adapter",
			);
		const d = parseDType(value);
		const why = zarrRefusal(d);
		if (why) refuse(value, why);
		return d;
	}
	if (Array.isArray(value)) return parseDType(value as unknown as Descr);
	return refuse(JSON.stringify(value), "not a numpy descriptor");
}

/** The `.zarray` `dtype` of a {@link DType}. */
export function dtypeToV2(dtype: DType): Descr {
	const why = zarrRefusal(dtype);
	if (why) refuse(dtype.str, why);
	return toDescr(dtype);
}

/**
 * Parses a `zarr.json` `data_type` with the byte order the `bytes` codec gives it.
 * @throws {UnsupportedDTypeError} for types outside the spec's core set.
 */
export function dtypeFromV3(
	value: JsonValue | undefined,
	endian: "little" | "big" | undefined,
): DType {
	const name = typeof value === "string" ? value : JSON.stringify(value);
	const code = typeof value === "string" ? V3_NAMES[value] : undefined;
	if (code === undefined) return refuse(name, "not a Zarr v3 core data type");
	const order = endian === "big" ? ">" : "<";
	return parseDType(`${order}${code}`);
}

/** The v3 `data_type` name and `bytes` endian of a {@link DType}. */
export function dtypeToV3(dtype: DType): {
	readonly name: string;
	readonly endian: "little" | "big" | undefined;
} {
	const why = zarrV3Refusal(dtype);
	if (why) refuse(dtype.str, why);
	const name = V3_BY_CODE[dtype.code] as string;
	const endian =
		dtype.itemsize === 1
			? undefined
			: dtype.byteOrder === ">"
				? "big"
				: "little";
	return { name, endian };
}
