/**
 * Encoders and decoders of the HDF5 header messages we patch or read (format spec §IV.A.2):
 * datatype (0x03), fill value (0x05 and the old 0x04), filter pipeline (0x0B), attribute
 * (0x0C) and the dataspace (0x01). Datatypes are encoded exactly as HDF5 1.10+ writes h5py's
 * types with the earliest format bounds, so HDF5 1.10 readers open them.
 */
import {
	type DType,
	isVString,
	MalformedError,
	parseDType,
	UnsupportedDTypeError,
	UnsupportedError,
} from "@arraystore/core";
import { ADAPTER } from "./errors.js";

/** Message type codes. */
export const MSG = {
	NULL: 0,
	DATASPACE: 1,
	DATATYPE: 3,
	FILL_OLD: 4,
	FILL: 5,
	LAYOUT: 8,
	PIPELINE: 11,
	ATTRIBUTE: 12,
	CONTINUATION: 16,
} as const;

class Writer {
	readonly bytes: number[] = [];
	u8(v: number): this {
		this.bytes.push(v & 0xff);
		return this;
	}
	u16(v: number): this {
		return this.u8(v).u8(v >> 8);
	}
	u32(v: number): this {
		return this.u16(v & 0xffff).u16(Math.floor(v / 65536));
	}
	u64(v: number): this {
		return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32));
	}
	raw(b: ArrayLike<number>): this {
		for (let i = 0; i < b.length; i++) this.bytes.push(b[i] as number);
		return this;
	}
	pad(to: number): this {
		while (this.bytes.length % to !== 0) this.bytes.push(0);
		return this;
	}
	out(): Uint8Array {
		return Uint8Array.from(this.bytes);
	}
}

const ascii = new TextEncoder();

function padded(s: string): Uint8Array {
	const b = ascii.encode(s);
	const out = new Uint8Array(Math.ceil((b.length + 1) / 8) * 8);
	out.set(b);
	return out;
}

const FLOATS: Readonly<
	Record<
		number,
		readonly [expLoc: number, expSize: number, mantSize: number, bias: number]
	>
> = {
	2: [10, 5, 10, 15],
	4: [23, 8, 23, 127],
	8: [52, 11, 52, 1023],
};

function needsV2(d: DType): boolean {
	if (d.subarray) return true;
	return d.fields?.some((f) => needsV2(f.dtype)) ?? false;
}

/** The datatype message of a (little-endian, fixed-size or vlen string) dtype. */
export function encodeDatatype(d: DType): Uint8Array {
	const w = new Writer();
	writeType(w, d);
	return w.out();
}

function header(
	w: Writer,
	cls: number,
	version: number,
	bits: readonly [number, number, number],
	size: number,
): void {
	w.u8((version << 4) | cls)
		.u8(bits[0])
		.u8(bits[1])
		.u8(bits[2])
		.u32(size);
}

function writeType(w: Writer, d: DType): void {
	const be = d.byteOrder === ">" ? 1 : 0;
	if (isVString(d)) {
		// VLEN of kind string, NULLTERM, UTF-8 or ASCII, over unsigned char (h5py's string_dtype()).
		header(w, 9, 1, [0x01, d.vlen === "ascii" ? 0 : 1, 0], 16);
		header(w, 0, 1, [0, 0, 0], 1);
		w.u16(0).u16(8);
		return;
	}
	if (d.subarray) {
		header(w, 10, 2, [0, 0, 0], d.itemsize);
		const dims = d.subarray.shape;
		w.u8(dims.length).u8(0).u8(0).u8(0);
		for (const n of dims) w.u32(n);
		for (let i = 0; i < dims.length; i++) w.u32(i);
		writeType(w, d.subarray.base);
		return;
	}
	if (d.fields) {
		const v2 = needsV2(d);
		header(
			w,
			6,
			v2 ? 2 : 1,
			[d.fields.length & 0xff, d.fields.length >> 8, 0],
			d.itemsize,
		);
		for (const f of d.fields) writeMember(w, f.name, f.offset, f.dtype, v2);
		return;
	}
	switch (d.kind) {
		case "b":
			// h5py's bool: ENUM {FALSE = 0, TRUE = 1} over int8.
			header(w, 8, 1, [2, 0, 0], 1);
			header(w, 0, 1, [0x08, 0, 0], 1);
			w.u16(0).u16(8);
			w.raw(padded("FALSE")).raw(padded("TRUE")).u8(0).u8(1);
			return;
		case "i":
		case "u":
			header(w, 0, 1, [be | (d.kind === "i" ? 0x08 : 0), 0, 0], d.itemsize);
			w.u16(0).u16(d.itemsize * 8);
			return;
		case "f": {
			const f = FLOATS[d.itemsize];
			if (!f)
				throw new UnsupportedDTypeError(`no HDF5 encoding for ${d.str}`, {
					adapter: ADAPTER,
					format: ADAPTER,
					dtype: d.str,
				});
			header(w, 1, 1, [be | 0x20, d.itemsize * 8 - 1, 0], d.itemsize);
			w.u16(0)
				.u16(d.itemsize * 8)
				.u8(f[0])
				.u8(f[1])
				.u8(0)
				.u8(f[2])
				.u32(f[3]);
			return;
		}
		case "c": {
			// h5py's complex: COMPOUND {r, i}.
			const part = parseDType(`${d.byteOrder}f${d.itemsize / 2}`);
			header(w, 6, 1, [2, 0, 0], d.itemsize);
			writeMember(w, "r", 0, part, false);
			writeMember(w, "i", d.itemsize / 2, part, false);
			return;
		}
		case "S":
			// NULLPAD ASCII, as h5py writes numpy bytes.
			header(w, 3, 1, [0x01, 0, 0], d.itemsize);
			return;
		case "V":
			opaque(w, "", d.itemsize);
			return;
		case "M":
		case "m":
			// h5py.opaque_dtype(dt): OPAQUE tagged "NUMPY:" + dt.str.
			opaque(w, `NUMPY:${d.str}`, d.itemsize);
			return;
		default:
			throw new UnsupportedDTypeError(`no HDF5 encoding for ${d.str}`, {
				adapter: ADAPTER,
				format: ADAPTER,
				dtype: d.str,
			});
	}
}

function opaque(w: Writer, tag: string, size: number): void {
	const t = tag === "" ? new Uint8Array(0) : padded(tag);
	header(w, 5, 1, [t.length, 0, 0], size);
	w.raw(t);
}

function writeMember(
	w: Writer,
	name: string,
	offset: number,
	d: DType,
	v2: boolean,
): void {
	w.raw(padded(name)).u32(offset);
	if (!v2) w.u8(0).u8(0).u8(0).u8(0).u32(0).u32(0).u32(0).u32(0).u32(0).u32(0);
	writeType(w, d);
}

/** A filter of a pipeline to encode. */
export interface PipelineFilter {
	readonly id: number;
	readonly name: string;
	/** 1 = optional (h5py's shuffle, deflate, lzf), 0 = mandatory. */
	readonly flags: number;
	readonly cdValues: readonly number[];
}

/** The version-1 filter pipeline message. */
export function encodePipeline(filters: readonly PipelineFilter[]): Uint8Array {
	const w = new Writer();
	w.u8(1).u8(filters.length).u16(0).u32(0);
	for (const f of filters) {
		const name = f.name === "" ? new Uint8Array(0) : padded(f.name);
		w.u16(f.id).u16(name.length).u16(f.flags).u16(f.cdValues.length).raw(name);
		for (const v of f.cdValues) w.u32(v);
		if (f.cdValues.length % 2 === 1) w.u32(0);
	}
	return w.out();
}

/** The new-style (version 2) fill value message with a user-defined value. */
export function encodeFill(allocTime: number, value: Uint8Array): Uint8Array {
	return new Writer()
		.u8(2)
		.u8(allocTime)
		.u8(2)
		.u8(1)
		.u32(value.length)
		.raw(value)
		.out();
}

/** The old fill value message (HDF5 writes it beside the new one for the earliest format). */
export function encodeOldFill(value: Uint8Array): Uint8Array {
	return new Writer().u32(value.length).raw(value).out();
}

/** Decoded fill value message: the value bytes (file type), or null for "default" / undefined. */
export function decodeFill(type: number, body: Uint8Array): Uint8Array | null {
	const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
	if (type === MSG.FILL_OLD) {
		const n = dv.getUint32(0, true);
		return n > 0 && 4 + n <= body.length ? body.slice(4, 4 + n) : null;
	}
	const version = body[0];
	if (version === 1 || version === 2) {
		const defined = body[3];
		if (version === 2 && !defined) return null;
		const n = dv.getUint32(4, true);
		return n > 0 && 8 + n <= body.length ? body.slice(8, 8 + n) : null;
	}
	if (version === 3) {
		const flags = body[1] as number;
		if (!(flags & 0x20)) return null;
		const n = dv.getUint32(2, true);
		return n > 0 && 6 + n <= body.length ? body.slice(6, 6 + n) : null;
	}
	return null;
}

/** The allocation-time byte of a fill value message (versions 1–2), else 2 (late). */
export function fillAllocTime(body: Uint8Array): number {
	return body[0] === 1 || body[0] === 2 ? (body[1] as number) : 2;
}

/** Parts of an attribute message. */
export interface AttributeParts {
	readonly name: string;
	readonly datatype: Uint8Array;
	readonly dataspace: Uint8Array;
	readonly data: Uint8Array;
}

const utf8 = new TextDecoder();

/** Decodes an attribute message (versions 1–3). */
export function decodeAttribute(body: Uint8Array): AttributeParts | null {
	const version = body[0];
	const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
	const nameSize = dv.getUint16(2, true);
	const typeSize = dv.getUint16(4, true);
	const spaceSize = dv.getUint16(6, true);
	const pad = (n: number): number => (version === 1 ? Math.ceil(n / 8) * 8 : n);
	let p = version === 3 ? 9 : 8;
	if (version !== 1 && version !== 2 && version !== 3) return null;
	const name = utf8.decode(body.subarray(p, p + Math.max(0, nameSize - 1)));
	p += pad(nameSize);
	const datatype = body.slice(p, p + typeSize);
	p += pad(typeSize);
	const dataspace = body.slice(p, p + spaceSize);
	p += pad(spaceSize);
	return { name, datatype, dataspace, data: body.slice(p) };
}

/** Encodes a version-1 attribute message. */
export function encodeAttribute(parts: AttributeParts): Uint8Array {
	const name = ascii.encode(parts.name);
	const w = new Writer()
		.u8(1)
		.u8(0)
		.u16(name.length + 1)
		.u16(parts.datatype.length)
		.u16(parts.dataspace.length);
	w.raw(name).u8(0).pad(8);
	w.raw(parts.datatype).pad(8);
	w.raw(parts.dataspace).pad(8);
	w.raw(parts.data);
	return w.out();
}

/** A dataspace message: version 1 for scalar/simple, version 2 for null (empty attributes). */
export function encodeDataspace(shape: readonly number[] | null): Uint8Array {
	if (shape === null) return Uint8Array.of(2, 0, 0, 2);
	const w = new Writer().u8(1).u8(shape.length).u8(0).u8(0).u32(0);
	for (const d of shape) w.u64(d);
	return w.out();
}

/** Overwrites the dimensions (and maximum dimensions, when stored) of a dataspace message in place. */
export function patchDataspaceDims(
	body: Uint8Array,
	dims: readonly number[],
	maxdims: readonly number[],
	lengthSize: number,
): void {
	const version = body[0];
	const rank = body[1] as number;
	const flags = body[2] as number;
	if (rank !== dims.length)
		throw new MalformedError(`HDF5 dataspace rank ${rank} ≠ ${dims.length}`, {
			adapter: ADAPTER,
		});
	const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
	const at = version === 1 ? 8 : 4;
	const put = (p: number, v: number): void => {
		if (lengthSize !== 8)
			throw new UnsupportedError(
				"HDF5 files with lengths of other than 8 bytes cannot be patched",
				{ adapter: ADAPTER },
			);
		dv.setBigUint64(p, v < 0 ? 0xffffffffffffffffn : BigInt(v), true);
	};
	for (let i = 0; i < rank; i++) put(at + i * 8, dims[i] as number);
	if (flags & 1)
		for (let i = 0; i < rank; i++)
			put(at + (rank + i) * 8, maxdims[i] as number);
}
