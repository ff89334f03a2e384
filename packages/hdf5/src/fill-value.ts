/**
 * Single elements ↔ scalars, for fill values: numbers, bigints (64-bit integers), booleans,
 * `[re, im]` for complex, latin-1 strings for `S` (trailing NULs stripped, as numpy does),
 * objects for records and raw bytes for opaque types.
 */
import {
	type DType,
	halfToNumber,
	numberToHalf,
	type Scalar,
	UnsupportedError,
} from "@arraystore/core";
import { ADAPTER } from "./errors.js";

/** Decodes one element (in `dtype`'s byte order). */
export function decodeScalar(dtype: DType, bytes: Uint8Array): Scalar {
	const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const le = dtype.byteOrder !== ">";
	if (dtype.fields) {
		const out: Record<string, Scalar> = {};
		for (const f of dtype.fields)
			out[f.name] = decodeScalar(
				f.dtype,
				bytes.subarray(f.offset, f.offset + f.dtype.itemsize),
			);
		return out;
	}
	if (dtype.subarray) return bytes.slice();
	switch (dtype.kind) {
		case "b":
			return bytes[0] !== 0;
		case "i":
		case "u": {
			const n = dtype.itemsize;
			const signed = dtype.kind === "i";
			if (n === 1) return signed ? dv.getInt8(0) : dv.getUint8(0);
			if (n === 2) return signed ? dv.getInt16(0, le) : dv.getUint16(0, le);
			if (n === 4) return signed ? dv.getInt32(0, le) : dv.getUint32(0, le);
			return signed ? dv.getBigInt64(0, le) : dv.getBigUint64(0, le);
		}
		case "f":
			if (dtype.itemsize === 2) return halfToNumber(dv.getUint16(0, le));
			return dtype.itemsize === 4 ? dv.getFloat32(0, le) : dv.getFloat64(0, le);
		case "c": {
			const h = dtype.itemsize / 2;
			return h === 4
				? [dv.getFloat32(0, le), dv.getFloat32(4, le)]
				: [dv.getFloat64(0, le), dv.getFloat64(8, le)];
		}
		case "S": {
			let end = bytes.length;
			while (end > 0 && bytes[end - 1] === 0) end--;
			return String.fromCharCode(...bytes.subarray(0, end));
		}
		case "M":
		case "m":
			return dv.getBigInt64(0, le);
		default:
			return bytes.slice();
	}
}

function bad(dtype: DType, value: unknown): UnsupportedError {
	return new UnsupportedError(
		`fill value ${String(value)} does not fit dtype ${dtype.str}`,
		{ adapter: ADAPTER },
	);
}

/** Encodes one element little-endian (the order we create datasets in). */
export function encodeScalar(dtype: DType, value: Scalar): Uint8Array {
	const out = new Uint8Array(dtype.itemsize);
	const dv = new DataView(out.buffer);
	if (dtype.fields) {
		if (
			typeof value !== "object" ||
			value === null ||
			value instanceof Uint8Array ||
			Array.isArray(value)
		)
			throw bad(dtype, value);
		const rec = value as { readonly [k: string]: Scalar };
		for (const f of dtype.fields) {
			const v = rec[f.name];
			if (v !== undefined) out.set(encodeScalar(f.dtype, v), f.offset);
		}
		return out;
	}
	if (value instanceof Uint8Array) {
		if (value.length !== dtype.itemsize) throw bad(dtype, value);
		out.set(value);
		return out;
	}
	switch (dtype.kind) {
		case "b":
			out[0] = value ? 1 : 0;
			return out;
		case "i":
		case "u":
		case "M":
		case "m": {
			if (typeof value !== "number" && typeof value !== "bigint")
				throw bad(dtype, value);
			const n = dtype.itemsize;
			const big = BigInt(typeof value === "number" ? Math.trunc(value) : value);
			if (n === 8) dv.setBigUint64(0, BigInt.asUintN(64, big), true);
			else {
				const v = Number(BigInt.asUintN(n * 8, big));
				for (let i = 0; i < n; i++) out[i] = Math.floor(v / 256 ** i) & 0xff;
			}
			return out;
		}
		case "f": {
			if (typeof value !== "number") throw bad(dtype, value);
			if (dtype.itemsize === 2) dv.setUint16(0, numberToHalf(value), true);
			else if (dtype.itemsize === 4) dv.setFloat32(0, value, true);
			else dv.setFloat64(0, value, true);
			return out;
		}
		case "c": {
			const [re, im] = Array.isArray(value)
				? (value as readonly [number, number])
				: typeof value === "number"
					? [value, 0]
					: [Number.NaN, Number.NaN];
			if (
				Number.isNaN(re) &&
				!Array.isArray(value) &&
				typeof value !== "number"
			)
				throw bad(dtype, value);
			const h = dtype.itemsize / 2;
			if (h === 4) {
				dv.setFloat32(0, re, true);
				dv.setFloat32(4, im, true);
			} else {
				dv.setFloat64(0, re, true);
				dv.setFloat64(8, im, true);
			}
			return out;
		}
		case "S": {
			if (typeof value !== "string") throw bad(dtype, value);
			for (let i = 0; i < Math.min(value.length, out.length); i++)
				out[i] = value.charCodeAt(i) & 0xff;
			return out;
		}
		default:
			throw bad(dtype, value);
	}
}
