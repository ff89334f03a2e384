/**
 * Single elements ↔ JS values, for scalar writes, fill values, attributes and display. The
 * streaming path never calls these. Bytes are in the dtype's own byte order.
 */
import { DTypeMismatchError } from "../errors.js";
import { halfToNumber, numberToHalf } from "./half.js";
import type { DType } from "./model.js";
import type { Scalar } from "./typed.js";

/** numpy's NaT: the minimum int64. */
export const NAT: bigint = -(2n ** 63n);

/** Decodes one element (numpy semantics: `S` strips trailing NULs, `U` too). */
export function decodeElement(dtype: DType, bytes: Uint8Array): Scalar {
	const le = dtype.byteOrder !== ">";
	const view = new DataView(bytes.buffer, bytes.byteOffset, dtype.itemsize);
	if (dtype.fields) {
		const out: Record<string, Scalar> = {};
		for (const f of dtype.fields)
			out[f.name] = decodeElement(
				f.dtype,
				bytes.subarray(f.offset, f.offset + f.dtype.itemsize),
			);
		return out;
	}
	if (dtype.subarray || dtype.opaque) return bytes.slice(0, dtype.itemsize);
	switch (dtype.kind) {
		case "b":
			return bytes[0] !== 0;
		case "i":
			return dtype.itemsize === 8
				? view.getBigInt64(0, le)
				: readInt(view, dtype.itemsize, le, true);
		case "u":
			return dtype.itemsize === 8
				? view.getBigUint64(0, le)
				: readInt(view, dtype.itemsize, le, false);
		case "f":
			if (dtype.itemsize === 2) return halfToNumber(view.getUint16(0, le));
			return dtype.itemsize === 4
				? view.getFloat32(0, le)
				: view.getFloat64(0, le);
		case "c": {
			const h = dtype.itemsize / 2;
			return h === 4
				? [view.getFloat32(0, le), view.getFloat32(4, le)]
				: [view.getFloat64(0, le), view.getFloat64(8, le)];
		}
		case "M":
		case "m":
			return view.getBigInt64(0, le);
		case "S": {
			let end = dtype.itemsize;
			while (end > 0 && bytes[end - 1] === 0) end--;
			let s = "";
			for (let i = 0; i < end; i++)
				s += String.fromCharCode(bytes[i] as number);
			return s;
		}
		case "U": {
			const cps: number[] = [];
			for (let i = 0; i < dtype.itemsize; i += 4)
				cps.push(view.getUint32(i, le));
			while (cps.length > 0 && cps[cps.length - 1] === 0) cps.pop();
			return String.fromCodePoint(...cps);
		}
		default:
			return bytes.slice(0, dtype.itemsize);
	}
}

function readInt(
	view: DataView,
	size: number,
	le: boolean,
	signed: boolean,
): number {
	if (size === 1) return signed ? view.getInt8(0) : view.getUint8(0);
	if (size === 2) return signed ? view.getInt16(0, le) : view.getUint16(0, le);
	return signed ? view.getInt32(0, le) : view.getUint32(0, le);
}

/**
 * Encodes one value as an element of `dtype`.
 * @throws {DTypeMismatchError} the value cannot be an element of this dtype.
 */
export function encodeElement(
	dtype: DType,
	value: Scalar | null | undefined,
): Uint8Array {
	const out = new Uint8Array(new ArrayBuffer(dtype.itemsize));
	encodeInto(dtype, value, out);
	return out;
}

function mismatch(dtype: DType, value: unknown): never {
	throw new DTypeMismatchError(
		`cannot store ${typeof value === "bigint" ? `${value}n` : (JSON.stringify(value) ?? String(value))} as ${dtype.str}`,
	);
}

function encodeInto(
	dtype: DType,
	value: Scalar | null | undefined,
	out: Uint8Array,
): void {
	const le = dtype.byteOrder !== ">";
	const view = new DataView(out.buffer, out.byteOffset, dtype.itemsize);
	if (value === null || value === undefined) return; // zeros
	if (value instanceof Uint8Array) {
		if (value.length !== dtype.itemsize)
			mismatch(dtype, "bytes of another size");
		out.set(value);
		return;
	}
	if (dtype.fields) {
		if (typeof value !== "object" || Array.isArray(value))
			mismatch(dtype, value);
		const rec = value as Readonly<Record<string, Scalar>>;
		for (const f of dtype.fields)
			encodeInto(
				f.dtype,
				rec[f.name],
				out.subarray(f.offset, f.offset + f.dtype.itemsize),
			);
		return;
	}
	switch (dtype.kind) {
		case "b":
			out[0] = value ? 1 : 0;
			return;
		case "i":
		case "u":
		case "M":
		case "m": {
			if (dtype.itemsize === 8) {
				const v =
					typeof value === "bigint"
						? value
						: typeof value === "number" && Number.isInteger(value)
							? BigInt(value)
							: typeof value === "boolean"
								? BigInt(Number(value))
								: mismatch(dtype, value);
				if (dtype.kind === "u") view.setBigUint64(0, BigInt.asUintN(64, v), le);
				else view.setBigInt64(0, BigInt.asIntN(64, v), le);
				return;
			}
			const n =
				typeof value === "number"
					? value
					: typeof value === "bigint"
						? Number(value)
						: typeof value === "boolean"
							? Number(value)
							: mismatch(dtype, value);
			if (!Number.isFinite(n)) mismatch(dtype, value);
			const t = Math.trunc(n);
			if (dtype.itemsize === 1) view.setUint8(0, t & 0xff);
			else if (dtype.itemsize === 2) view.setUint16(0, t & 0xffff, le);
			else view.setUint32(0, t >>> 0, le);
			return;
		}
		case "f": {
			const n =
				typeof value === "number"
					? value
					: typeof value === "bigint"
						? Number(value)
						: typeof value === "boolean"
							? Number(value)
							: mismatch(dtype, value);
			if (dtype.itemsize === 2) view.setUint16(0, numberToHalf(n), le);
			else if (dtype.itemsize === 4) view.setFloat32(0, n, le);
			else if (dtype.itemsize === 8) view.setFloat64(0, n, le);
			else mismatch(dtype, value);
			return;
		}
		case "c": {
			const [re, im] = Array.isArray(value)
				? (value as readonly [number, number])
				: typeof value === "number"
					? [value, 0]
					: mismatch(dtype, value);
			if (dtype.itemsize === 8) {
				view.setFloat32(0, re, le);
				view.setFloat32(4, im, le);
			} else if (dtype.itemsize === 16) {
				view.setFloat64(0, re, le);
				view.setFloat64(8, im, le);
			} else mismatch(dtype, value);
			return;
		}
		case "S": {
			if (typeof value !== "string") mismatch(dtype, value);
			for (let i = 0; i < Math.min(value.length, dtype.itemsize); i++) {
				const c = value.charCodeAt(i);
				if (c > 0xff) mismatch(dtype, value);
				out[i] = c;
			}
			return;
		}
		case "U": {
			if (typeof value !== "string") mismatch(dtype, value);
			let i = 0;
			for (const ch of value) {
				if (i >= dtype.itemsize) break;
				view.setUint32(i, ch.codePointAt(0) as number, le);
				i += 4;
			}
			return;
		}
		default:
			mismatch(dtype, value);
	}
}
