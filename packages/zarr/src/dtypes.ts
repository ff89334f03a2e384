/**
 * Zarr's type systems ↔ core's {@link DType}: Zarr v2 stores numpy descriptors (`"<f4"`, field
 * lists); Zarr v3 names core types (`float32`) and leaves byte order to the `bytes` codec.
 */
import {
	TIME_UNITS as CORE_TIME_UNITS,
	type Descr,
	type DType,
	hasListDescr,
	isVString,
	parseDType,
	toDescr,
	UnsupportedDTypeError,
	vstringDType,
	withByteOrder,
} from "@arraystore/core";
import { isJsonObject, type JsonObject, type JsonValue } from "./json.js";

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
	if (dtype.kind === "O" && dtype.vlen === undefined)
		return "variable-length strings are not supported by this adapter";
	if (dtype.opaque)
		return "long double is platform-specific and has no Zarr type";
	if (dtype.fields && !hasListDescr(dtype))
		return "records with overlapping or unordered fields have no Zarr v2 descriptor";
	if (dtype.itemsize === 0 && dtype.kind !== "O") return "zero-size elements";
	return null;
}

/** Why Zarr v3 cannot hold `dtype` (written types are the spec's core types), or null. */
export function zarrV3Refusal(dtype: DType): string | null {
	const base = zarrRefusal(dtype);
	if (base) return base;
	if (V3_BY_CODE[dtype.code] === undefined || dtype.fields) {
		return "Zarr v3 extension data types (bytes, unicode, datetime, records, raw, strings) are spelled differently by each implementation and tensorstore reads none of them; use zarrFormat 2";
	}
	return null;
}

/** Parses a `.zarray` `dtype`. */
export function dtypeFromV2(value: JsonValue | undefined): DType {
	if (typeof value === "string") {
		// Object arrays hold vlen strings here; planV2 checks their object codec.
		if (/^[<>|=]?O$/.test(value)) return vstringDType("utf8");
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
	if (isVString(dtype)) return "|O";
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
	if (value === "string") return vstringDType("utf8");
	const order = endian === "big" ? ">" : "<";
	return withByteOrder(v3Type(value, 0), order);
}

function lengthBytes(cfg: JsonObject, name: string): number {
	const n = cfg.length_bytes;
	if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1)
		refuse(name, "configuration.length_bytes must be a positive integer");
	return n;
}

const TIME_UNITS: ReadonlySet<string> = new Set<string>(CORE_TIME_UNITS);

// Core types by name, and the extension types zarr-python 3.1 and the zarr-extensions
// registry write (read only: tensorstore reads none of them, so they are never written).
function v3Type(value: JsonValue | undefined, depth: number): DType {
	if (depth > 8) refuse("structured", "records nested too deeply");
	if (typeof value === "string") {
		const code = V3_NAMES[value];
		if (code !== undefined) return parseDType(`<${code}`);
		const raw = /^r(\d+)$/.exec(value);
		if (raw && Number(raw[1]) % 8 === 0 && Number(raw[1]) > 0)
			return parseDType(`|V${Number(raw[1]) / 8}`);
		return refuse(value, "not a Zarr v3 data type this adapter reads");
	}
	if (!isJsonObject(value) || typeof value.name !== "string")
		return refuse(JSON.stringify(value), "not a Zarr v3 data type");
	const name = value.name;
	const cfg = isJsonObject(value.configuration) ? value.configuration : {};
	switch (name) {
		case "null_terminated_bytes":
			return parseDType(`|S${lengthBytes(cfg, name)}`);
		case "raw_bytes":
			return parseDType(`|V${lengthBytes(cfg, name)}`);
		case "fixed_length_utf32": {
			const n = lengthBytes(cfg, name);
			if (n % 4 !== 0) refuse(name, "length_bytes must be a multiple of 4");
			return parseDType(`<U${n / 4}`);
		}
		case "numpy.datetime64":
		case "numpy.timedelta64": {
			const unit = cfg.unit;
			const sf = cfg.scale_factor ?? 1;
			if (
				typeof unit !== "string" ||
				!TIME_UNITS.has(unit) ||
				typeof sf !== "number" ||
				!Number.isSafeInteger(sf) ||
				sf < 1
			)
				refuse(name, "bad unit or scale_factor");
			const kind = name === "numpy.datetime64" ? "M8" : "m8";
			return parseDType(
				unit === "generic"
					? `<${kind}`
					: `<${kind}[${sf === 1 ? "" : sf}${unit}]`,
			);
		}
		case "structured":
		case "struct": {
			const fields = cfg.fields;
			if (!Array.isArray(fields) || fields.length === 0)
				return refuse(name, "configuration.fields must be a non-empty list");
			const list = fields.map((f) => {
				if (Array.isArray(f) && f.length === 2 && typeof f[0] === "string")
					return [f[0], v3Type(f[1], depth + 1)] as const;
				if (isJsonObject(f) && typeof f.name === "string")
					return [f.name, v3Type(f.data_type, depth + 1)] as const;
				return refuse(name, `bad field ${JSON.stringify(f)}`);
			});
			return parseDType(
				list.map(([n, d]) => [n, toDescr(d)]) as unknown as Descr,
			);
		}
		default:
			return refuse(name, "not a Zarr v3 data type this adapter reads");
	}
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
