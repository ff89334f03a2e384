// Test helpers: open drivers directly, read whole datasets, encode attributes as the
// fixture manifest does.
import type {
	ArrayData,
	ArrayDriver,
	AttrValue,
	DriverCreateOptions,
	DriverOpenOptions,
	DType,
} from "@arraystore/core";
import { halfToNumber, isVString, parseDType } from "@arraystore/core";
import { hdf5Adapter } from "../src/index.js";

export function openOpts(
	path: string,
	mode: "r" | "r+" = "r",
	adapterOptions: Record<string, unknown> = {},
): DriverOpenOptions {
	return { mode, path, adapterOptions };
}

export function createOpts(
	path: string,
	dtype: string | DType,
	shape: number[],
	extra: Partial<DriverCreateOptions> = {},
): DriverCreateOptions {
	return {
		path,
		dtype: typeof dtype === "string" ? parseDType(dtype) : dtype,
		shape,
		order: "C",
		offset: 0,
		exclusive: false,
		adapterOptions: {},
		...extra,
	};
}

export async function openDriver(
	file: string,
	path: string,
	mode: "r" | "r+" = "r",
	adapterOptions: Record<string, unknown> = {},
): Promise<ArrayDriver> {
	return hdf5Adapter.open(file, openOpts(path, mode, adapterOptions));
}

/** The whole dataset in stored byte order. */
export async function readAll(d: ArrayDriver): Promise<Uint8Array> {
	const { shape, dtype } = d.info;
	const n = shape.reduce((a, b) => a * b, 1);
	const out = new Uint8Array(n * dtype.itemsize);
	await d.read({ start: shape.map(() => 0), shape }, out);
	return out;
}

export async function readAllStrings(d: ArrayDriver): Promise<string[]> {
	const { shape } = d.info;
	if (!d.readStrings) throw new Error("no readStrings");
	return d.readStrings({ start: shape.map(() => 0), shape });
}

/** `vlen-u32le-length-prefixed`: per element, u32le byte length then the bytes. */
export function vlenHashInput(strings: readonly string[]): Uint8Array {
	const enc = new TextEncoder();
	const parts = strings.map((s) => enc.encode(s));
	const out = new Uint8Array(parts.reduce((a, p) => a + 4 + p.length, 0));
	const dv = new DataView(out.buffer);
	let at = 0;
	for (const p of parts) {
		dv.setUint32(at, p.length, true);
		out.set(p, at + 4);
		at += 4 + p.length;
	}
	return out;
}

function jsonNumber(x: number): unknown {
	if (Number.isNaN(x)) return "NaN";
	if (x === Number.POSITIVE_INFINITY) return "Infinity";
	if (x === Number.NEGATIVE_INFINITY) return "-Infinity";
	return x;
}

function elementJson(dtype: DType, b: Uint8Array): unknown {
	const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
	if (dtype.fields)
		return Object.fromEntries(
			dtype.fields.map((f) => [
				f.name,
				elementJson(f.dtype, b.subarray(f.offset, f.offset + f.dtype.itemsize)),
			]),
		);
	const le = dtype.byteOrder !== ">";
	switch (dtype.kind) {
		case "b":
			return b[0] !== 0;
		case "i":
		case "u": {
			const n = dtype.itemsize;
			const v =
				n === 1
					? dtype.kind === "i"
						? dv.getInt8(0)
						: dv.getUint8(0)
					: n === 2
						? dtype.kind === "i"
							? dv.getInt16(0, le)
							: dv.getUint16(0, le)
						: n === 4
							? dtype.kind === "i"
								? dv.getInt32(0, le)
								: dv.getUint32(0, le)
							: dtype.kind === "i"
								? dv.getBigInt64(0, le)
								: dv.getBigUint64(0, le);
			if (typeof v === "bigint")
				return v >= BigInt(Number.MIN_SAFE_INTEGER) &&
					v <= BigInt(Number.MAX_SAFE_INTEGER)
					? Number(v)
					: v.toString();
			return v;
		}
		case "f":
			return jsonNumber(
				dtype.itemsize === 2
					? halfToNumber(dv.getUint16(0, le))
					: dtype.itemsize === 4
						? dv.getFloat32(0, le)
						: dv.getFloat64(0, le),
			);
		case "c": {
			const h = dtype.itemsize / 2;
			return h === 4
				? [jsonNumber(dv.getFloat32(0, le)), jsonNumber(dv.getFloat32(4, le))]
				: [jsonNumber(dv.getFloat64(0, le)), jsonNumber(dv.getFloat64(8, le))];
		}
		case "S": {
			let end = b.length;
			while (end > 0 && b[end - 1] === 0) end--;
			return String.fromCharCode(...b.subarray(0, end));
		}
		default:
			return Array.from(b);
	}
}

function nest(values: unknown[], shape: readonly number[]): unknown {
	if (shape.length === 0) return values[0];
	if (shape.length === 1) return values;
	const [d0, ...rest] = shape as [number, ...number[]];
	const step = rest.reduce((a, b) => a * b, 1);
	return Array.from({ length: d0 }, (_, i) =>
		nest(values.slice(i * step, (i + 1) * step), rest),
	);
}

/** An attribute value in the manifest's JSON encoding. */
export function attrJson(v: AttrValue): unknown {
	if (v === null || typeof v === "string" || typeof v === "boolean") return v;
	if (typeof v === "number") return jsonNumber(v);
	if (typeof v === "bigint") return v.toString();
	if (Array.isArray(v)) return v.map((x) => attrJson(x as AttrValue));
	if (typeof v === "object" && "bytes" in v && "dtype" in v) {
		const a = v as ArrayData;
		const d = a.dtype;
		if (isVString(d))
			return nest([...(a.data as unknown as string[])], a.shape);
		const items: unknown[] = [];
		for (let at = 0; at < a.bytes.length; at += d.itemsize)
			items.push(elementJson(d, a.bytes.subarray(at, at + d.itemsize)));
		return nest(items, a.shape);
	}
	return v;
}

/** A scalar (fill value) in the manifest's JSON encoding. */
export function scalarJson(v: unknown): unknown {
	if (typeof v === "number") return jsonNumber(v);
	if (typeof v === "bigint")
		return v >= BigInt(Number.MIN_SAFE_INTEGER) &&
			v <= BigInt(Number.MAX_SAFE_INTEGER)
			? Number(v)
			: v.toString();
	if (Array.isArray(v)) return v.map(scalarJson);
	if (v instanceof Uint8Array) return Array.from(v);
	if (typeof v === "object" && v !== null)
		return Object.fromEntries(
			Object.entries(v).map(([k, x]) => [k, scalarJson(x)]),
		);
	return v;
}
