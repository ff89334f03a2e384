/**
 * Element casts for `--dtype`: a per-block step of the copy engine. Safe casts follow numpy's
 * `can_cast(from, to, "safe")` for bool, integer, float and complex kinds, plus widening of
 * `S` and `U`; everything else (narrowing, float → int, complex → real) is lossy and must be
 * asked for explicitly. A byte-order change alone is not a cast: stores swap on write.
 */
import { sameLayout, withByteOrder } from "../dtype/format.js";
import { halfToNumber, numberToHalf } from "../dtype/half.js";
import type { DType } from "../dtype/model.js";
import { type ArrayData, makeArrayData, shapeSize } from "../dtype/typed.js";
import { UnsupportedDTypeError } from "../errors.js";

/** How a cast from one dtype to another behaves. */
export type CastKind = "same" | "safe" | "unsafe" | "impossible";

const NUMERIC = "biufc";

/**
 * Classifies a cast: "same" (identical layout up to byte order), "safe" (every value is kept
 * exactly), "unsafe" (values may change), "impossible" (no conversion defined).
 */
export function castKind(from: DType, to: DType): CastKind {
	if (sameLayout(from, to)) return "same";
	const simple = (d: DType) =>
		!d.fields && !d.subarray && d.opaque !== true && d.kind !== "O";
	if (!simple(from) || !simple(to)) return "impossible";
	if (NUMERIC.includes(from.kind) && NUMERIC.includes(to.kind))
		return numericSafe(from, to) ? "safe" : "unsafe";
	if (from.kind === to.kind && (from.kind === "S" || from.kind === "U"))
		return to.itemsize >= from.itemsize ? "safe" : "unsafe";
	return "impossible";
}

/**
 * Casts a block (native byte order, C order) to `to` (returned in native byte order).
 * @throws {UnsupportedDTypeError} no conversion between the two kinds exists.
 */
export function castData(data: ArrayData, to: DType): ArrayData {
	const target = withByteOrder(to, "native");
	const from = data.dtype;
	const kind = castKind(from, target);
	if (kind === "same") return data;
	if (kind === "impossible")
		throw new UnsupportedDTypeError(`cannot cast ${from.str} to ${to.str}`, {
			dtype: to.str,
		});
	const n = shapeSize(data.shape);
	const bytes = new Uint8Array(new ArrayBuffer(n * target.itemsize));
	if (from.kind === "S" || from.kind === "U") {
		castFixedText(data.bytes, from.itemsize, bytes, target.itemsize, n);
		return makeArrayData(target, data.shape, bytes);
	}
	const out = makeArrayData(target, data.shape, bytes);
	const read = reader(data);
	const write = writer(out);
	for (let i = 0; i < n; i++) write(i, read(i));
	return out;
}

// --- internal ---

// numpy's "safe" rule for bool / int / uint / float / complex.
function numericSafe(from: DType, to: DType): boolean {
	const fs = from.itemsize;
	const ts = to.itemsize;
	switch (from.kind) {
		case "b":
			return true;
		case "u":
			if (to.kind === "u") return ts >= fs;
			if (to.kind === "i") return ts > fs;
			if (to.kind === "f") return ts >= floatFor(fs);
			if (to.kind === "c") return ts / 2 >= floatFor(fs);
			return false;
		case "i":
			if (to.kind === "i") return ts >= fs;
			if (to.kind === "f") return ts >= floatFor(fs);
			if (to.kind === "c") return ts / 2 >= floatFor(fs);
			return false;
		case "f":
			if (to.kind === "f") return ts >= fs;
			if (to.kind === "c") return ts / 2 >= fs;
			return false;
		case "c":
			return to.kind === "c" && ts >= fs;
		default:
			return false;
	}
}

// Smallest float that holds every integer of `size` bytes (numpy treats int64 → float64 as safe).
function floatFor(size: number): number {
	return Math.min(8, size * 2);
}

type Value = number | bigint | readonly [number, number];

function reader(data: ArrayData): (i: number) => Value {
	const code = data.dtype.code;
	const bytes = data.bytes;
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	switch (code) {
		case "b1":
			return (i) => (bytes[i] ? 1 : 0);
		case "i1":
			return (i) => view.getInt8(i);
		case "u1":
			return (i) => view.getUint8(i);
		case "i2":
			return (i) => view.getInt16(i * 2, true);
		case "u2":
			return (i) => view.getUint16(i * 2, true);
		case "i4":
			return (i) => view.getInt32(i * 4, true);
		case "u4":
			return (i) => view.getUint32(i * 4, true);
		case "i8":
			return (i) => view.getBigInt64(i * 8, true);
		case "u8":
			return (i) => view.getBigUint64(i * 8, true);
		case "f2":
			return (i) => halfToNumber(view.getUint16(i * 2, true));
		case "f4":
			return (i) => view.getFloat32(i * 4, true);
		case "f8":
			return (i) => view.getFloat64(i * 8, true);
		case "c8":
			return (i) => [
				view.getFloat32(i * 8, true),
				view.getFloat32(i * 8 + 4, true),
			];
		case "c16":
			return (i) => [
				view.getFloat64(i * 16, true),
				view.getFloat64(i * 16 + 8, true),
			];
		default:
			throw new UnsupportedDTypeError(`cannot cast from ${data.dtype.str}`, {
				dtype: data.dtype.str,
			});
	}
}

function writer(out: ArrayData): (i: number, v: Value) => void {
	const bytes = out.bytes;
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const real = (v: Value): number =>
		typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : v[0];
	const imag = (v: Value): number =>
		typeof v === "object" ? (v as readonly [number, number])[1] : 0;
	// Integer targets wrap modulo 2^bits as numpy's astype does (C casts); NaN and ±inf give 0.
	const big = (v: Value): bigint => {
		if (typeof v === "bigint") return v;
		const x = real(v);
		return Number.isFinite(x) ? BigInt(Math.trunc(x)) : 0n;
	};
	const int = (v: Value): number => {
		if (typeof v === "bigint") return Number(BigInt.asIntN(32, v));
		const x = real(v);
		return Number.isFinite(x) ? Math.trunc(x) : 0;
	};
	switch (out.dtype.code) {
		case "b1":
			return (i, v) => {
				if (typeof v === "bigint") bytes[i] = v !== 0n ? 1 : 0;
				else bytes[i] = real(v) !== 0 || imag(v) !== 0 ? 1 : 0;
			};
		case "i1":
			return (i, v) => view.setInt8(i, int(v));
		case "u1":
			return (i, v) => view.setUint8(i, int(v));
		case "i2":
			return (i, v) => view.setInt16(i * 2, int(v), true);
		case "u2":
			return (i, v) => view.setUint16(i * 2, int(v), true);
		case "i4":
			return (i, v) => view.setInt32(i * 4, int(v), true);
		case "u4":
			return (i, v) =>
				view.setUint32(
					i * 4,
					typeof v === "bigint" ? Number(BigInt.asUintN(32, v)) : int(v),
					true,
				);
		case "i8":
			return (i, v) => view.setBigInt64(i * 8, BigInt.asIntN(64, big(v)), true);
		case "u8":
			return (i, v) =>
				view.setBigUint64(i * 8, BigInt.asUintN(64, big(v)), true);
		case "f2":
			return (i, v) => view.setUint16(i * 2, numberToHalf(real(v)), true);
		case "f4":
			return (i, v) => view.setFloat32(i * 4, real(v), true);
		case "f8":
			return (i, v) => view.setFloat64(i * 8, real(v), true);
		case "c8":
			return (i, v) => {
				view.setFloat32(i * 8, real(v), true);
				view.setFloat32(i * 8 + 4, imag(v), true);
			};
		case "c16":
			return (i, v) => {
				view.setFloat64(i * 16, real(v), true);
				view.setFloat64(i * 16 + 8, imag(v), true);
			};
		default:
			throw new UnsupportedDTypeError(`cannot cast to ${out.dtype.str}`, {
				dtype: out.dtype.str,
			});
	}
}

// S and U: copy each element's leading bytes (U in whole 4-byte code units), NUL-padding or cutting.
function castFixedText(
	src: Uint8Array,
	fromSize: number,
	dst: Uint8Array,
	toSize: number,
	n: number,
): void {
	const keep = Math.min(fromSize, toSize);
	for (let i = 0; i < n; i++)
		dst.set(src.subarray(i * fromSize, i * fromSize + keep), i * toSize);
}
