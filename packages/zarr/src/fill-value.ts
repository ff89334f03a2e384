/**
 * `fill_value` as zarr-python reads and writes it, for both metadata versions. Values move as
 * one element's bytes in the array's stored byte order, so NaN payloads, −0.0, uint64 maxima
 * and complex parts survive exactly.
 */
import {
	type DType,
	decodeElement,
	encodeElement,
	halfToNumber,
	MalformedError,
	numberToHalf,
	type Scalar,
} from "@arraystore/core";
import { isJsonObject, type JsonValue } from "./json.js";

function bad(dtype: DType, value: JsonValue, why = "does not fit"): never {
	const text =
		typeof value === "bigint" ? value.toString() : JSON.stringify(value);
	throw new MalformedError(`fill_value ${text} ${why} dtype ${dtype.str}`);
}

function base64ToBytes(dtype: DType, value: string): Uint8Array {
	if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value))
		bad(dtype, value, "is not base64 for");
	const raw = Buffer.from(value, "base64");
	// numpy pads short byte strings with NULs and truncates long ones.
	const out = new Uint8Array(new ArrayBuffer(dtype.itemsize));
	out.set(raw.subarray(0, dtype.itemsize));
	return out;
}

function floatOf(dtype: DType, value: JsonValue): number {
	if (typeof value === "number") return value;
	if (typeof value === "bigint") return Number(value);
	if (value === "NaN") return Number.NaN;
	if (value === "Infinity" || value === "+Infinity")
		return Number.POSITIVE_INFINITY;
	if (value === "-Infinity") return Number.NEGATIVE_INFINITY;
	return bad(dtype, value);
}

// Writes one float of `width` bytes at `at`: a JSON number, a special word, or v3 hex bits.
function putFloat(
	view: DataView,
	at: number,
	width: number,
	le: boolean,
	dtype: DType,
	value: JsonValue,
): void {
	if (typeof value === "string" && /^0x[0-9a-fA-F]+$/.test(value)) {
		const hex = value.slice(2);
		if (hex.length !== width * 2)
			bad(dtype, value, "has the wrong number of hex digits for");
		const bits = BigInt(value);
		if (width === 2) view.setUint16(at, Number(bits), le);
		else if (width === 4) view.setUint32(at, Number(bits), le);
		else view.setBigUint64(at, bits, le);
		return;
	}
	const n = floatOf(dtype, value);
	if (width === 2) view.setUint16(at, numberToHalf(n), le);
	else if (width === 4) view.setFloat32(at, n, le);
	else view.setFloat64(at, n, le);
}

function intOf(dtype: DType, value: JsonValue): bigint {
	let v: bigint;
	if (typeof value === "bigint") v = value;
	else if (typeof value === "number" && Number.isInteger(value))
		v = BigInt(value);
	else if (typeof value === "boolean") v = value ? 1n : 0n;
	else return bad(dtype, value);
	const bits = BigInt(dtype.itemsize * 8);
	const lo = dtype.kind === "u" ? 0n : -(1n << (bits - 1n));
	const hi = dtype.kind === "u" ? (1n << bits) - 1n : (1n << (bits - 1n)) - 1n;
	if (v < lo || v > hi) bad(dtype, value, "is out of range for");
	return v;
}

/**
 * One element's bytes (stored byte order) from a metadata `fill_value`; null when the
 * metadata says null (v2: "no fill value", missing chunks then read as zeros).
 * @throws {MalformedError} when the value cannot be an element of `dtype`.
 */
export function fillFromJson(
	dtype: DType,
	value: JsonValue | undefined,
	zarrFormat: 2 | 3,
): Uint8Array | null {
	if (value === null || value === undefined) return null;
	const out = new Uint8Array(new ArrayBuffer(dtype.itemsize));
	const view = new DataView(out.buffer);
	const le = dtype.byteOrder !== ">";
	if (dtype.fields || dtype.kind === "V" || dtype.kind === "S") {
		// v3 raw types (r<N>) spell their fill as a list of byte values.
		if (
			Array.isArray(value) &&
			value.length === dtype.itemsize &&
			value.every(
				(b) =>
					typeof b === "number" && Number.isInteger(b) && b >= 0 && b < 256,
			)
		) {
			return new Uint8Array(value as number[]);
		}
		// The zarr-extensions "struct" type spells its fill as an object of field values.
		if (dtype.fields && isJsonObject(value))
			return encodeElement(dtype, value as unknown as Scalar);
		if (typeof value !== "string") bad(dtype, value);
		return base64ToBytes(dtype, value);
	}
	switch (dtype.kind) {
		case "b":
			if (typeof value === "boolean") out[0] = value ? 1 : 0;
			else if (value === 0 || value === 1) out[0] = value;
			else bad(dtype, value);
			return out;
		case "i":
		case "u": {
			// zarr-python 2 may write an integral float (0.0) for an integer dtype.
			const v = intOf(
				dtype,
				typeof value === "number" && Number.isInteger(value) ? value : value,
			);
			return encodeElement(dtype, dtype.itemsize === 8 ? v : Number(v));
		}
		case "M":
		case "m": {
			if (value === "NaT") return encodeElement(dtype, -(2n ** 63n));
			return encodeElement(dtype, intOf({ ...dtype, kind: "i" }, value));
		}
		case "f":
			putFloat(view, 0, dtype.itemsize, le, dtype, value);
			return out;
		case "c": {
			const half = dtype.itemsize / 2;
			if (Array.isArray(value) && value.length === 2) {
				putFloat(view, 0, half, le, dtype, value[0] as JsonValue);
				putFloat(view, half, half, le, dtype, value[1] as JsonValue);
				return out;
			}
			if (
				zarrFormat === 2 &&
				(typeof value === "number" || typeof value === "string")
			) {
				putFloat(view, 0, half, le, dtype, value);
				return out;
			}
			return bad(dtype, value);
		}
		case "U":
			if (typeof value !== "string") bad(dtype, value);
			return encodeElement(dtype, value);
		default:
			return bad(dtype, value);
	}
}

function floatJson(
	view: DataView,
	at: number,
	width: number,
	le: boolean,
): JsonValue {
	const n =
		width === 2
			? halfToNumber(view.getUint16(at, le))
			: width === 4
				? view.getFloat32(at, le)
				: view.getFloat64(at, le);
	if (Number.isNaN(n)) return "NaN";
	if (n === Number.POSITIVE_INFINITY) return "Infinity";
	if (n === Number.NEGATIVE_INFINITY) return "-Infinity";
	return n;
}

/** The metadata `fill_value` of one element's bytes, as zarr-python writes it. */
export function fillToJson(dtype: DType, bytes: Uint8Array): JsonValue {
	const view = new DataView(bytes.buffer, bytes.byteOffset, dtype.itemsize);
	const le = dtype.byteOrder !== ">";
	if (dtype.fields || dtype.kind === "V" || dtype.kind === "S")
		return Buffer.from(bytes.subarray(0, dtype.itemsize)).toString("base64");
	switch (dtype.kind) {
		case "b":
			return bytes[0] !== 0;
		case "i":
		case "u":
		case "M":
		case "m": {
			const v = decodeElement(dtype, bytes);
			const b = typeof v === "bigint" ? v : BigInt(v as number);
			return b >= BigInt(Number.MIN_SAFE_INTEGER) &&
				b <= BigInt(Number.MAX_SAFE_INTEGER)
				? Number(b)
				: b;
		}
		case "f":
			return floatJson(view, 0, dtype.itemsize, le);
		case "c":
			return [
				floatJson(view, 0, dtype.itemsize / 2, le),
				floatJson(view, dtype.itemsize / 2, dtype.itemsize / 2, le),
			];
		case "U":
			return decodeElement(dtype, bytes) as string;
		default:
			return Buffer.from(bytes.subarray(0, dtype.itemsize)).toString("base64");
	}
}

/** The fill value as `ArrayInfo.fillValue` reports it. */
export function fillToScalar(
	dtype: DType,
	bytes: Uint8Array | null,
): Scalar | null {
	return bytes === null ? null : decodeElement(dtype, bytes);
}

/** One element's bytes for a user-given fill value (default: zeros, as numpy's zeros). */
export function fillFromScalar(
	dtype: DType,
	value: Scalar | undefined,
): Uint8Array {
	return encodeElement(dtype, value ?? null);
}
