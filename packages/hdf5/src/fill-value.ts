/**
 * Fill values as elements: a scalar (number, bigint for 64-bit integers, boolean, `[re, im]`
 * for complex, latin-1 string for `S`, object for records, raw bytes for opaque types) encoded
 * little-endian, the order we create datasets in. Decoding a stored fill value is core's
 * `decodeElement`.
 */
import {
	type DType,
	numberToHalf,
	type Scalar,
	UnsupportedError,
} from "@arraystore/core";
import { ADAPTER } from "./errors.js";

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
