/**
 * mmappickle format version 1 (formats.md §5): the 24-byte header, the 11-byte terminator,
 * entry frames, and the byte encodings of array values (the fixed 70-byte
 * `reshape(fromstring(...))` prefix, the 29-byte MaskedArray prefix, shape tuples).
 */
import {
	type DType,
	MalformedError,
	numpyName,
	shapeSize,
} from "@arraystore/core";

/** Header length. */
export const HEADER_BYTES = 24;
/** `FRAME 2, DICT, STOP`. */
export const TERMINATOR: Uint8Array = Uint8Array.from([
	0x95, 0x02, 0, 0, 0, 0, 0, 0, 0, 0x64, 0x2e,
]);
/** Offset of the i32 commit number in the header. */
export const COMMIT_OFFSET = 18;
/** Valid-flag bytes. */
export const LIVE = 0x88;
export const DEAD = 0x30;

const ascii = (s: string): number[] => [...Buffer.from(s, "latin1")];
const shortStr = (s: string): number[] => [0x8c, s.length, ...ascii(s)];

/** `reshape(fromstring(` as mmappickle writes it, before the BINBYTES8 payload. */
export const ARRAY_PREFIX: Uint8Array = Uint8Array.from([
	...shortStr("numpy.core.fromnumeric"),
	...shortStr("reshape"),
	0x93,
	...shortStr("numpy.core.multiarray"),
	...shortStr("fromstring"),
	0x93,
]);
/** `MaskedArray(` before the data and mask fragments. */
export const MASKED_PREFIX: Uint8Array = Uint8Array.from([
	...shortStr("numpy.ma.core"),
	...shortStr("MaskedArray"),
	0x93,
]);

/** A parsed header, or null when the bytes are not the header structure. */
export function parseHeader(
	b: Uint8Array,
): { version: number; commit: number } | null {
	if (b.length < HEADER_BYTES) return null;
	const fixed: [number, number][] = [
		[0, 0x80],
		[1, 0x04],
		[2, 0x95],
		[3, 0x0d],
		[4, 0],
		[5, 0],
		[6, 0],
		[7, 0],
		[8, 0],
		[9, 0],
		[10, 0],
		[11, 0x4a],
		[16, 0x30],
		[17, 0x4a],
		[22, 0x30],
		[23, 0x28],
	];
	if (!fixed.every(([i, v]) => b[i] === v)) return null;
	const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
	return {
		version: dv.getInt32(12, true),
		commit: dv.getInt32(COMMIT_OFFSET, true),
	};
}

/** The header bytes for a version-1 file with this commit number. */
export function encodeHeader(commit: number): Uint8Array {
	const b = Uint8Array.from([
		0x80, 0x04, 0x95, 0x0d, 0, 0, 0, 0, 0, 0, 0, 0x4a, 1, 0, 0, 0, 0x30, 0x4a,
		0, 0, 0, 0, 0x30, 0x28,
	]);
	new DataView(b.buffer).setInt32(COMMIT_OFFSET, commit, true);
	return b;
}

/** Protocol-4 int opcode with the smallest encoding (pickle's `save_long`). */
export function encodeInt(v: number | bigint): number[] {
	const n = BigInt(v);
	if (n >= 0n && n <= 0xffn) return [0x4b, Number(n)];
	if (n >= 0n && n <= 0xffffn) return [0x4d, Number(n) & 0xff, Number(n) >> 8];
	if (n >= -(2n ** 31n) && n < 2n ** 31n) {
		const b = new Uint8Array(4);
		new DataView(b.buffer).setInt32(0, Number(n), true);
		return [0x4a, ...b];
	}
	const bytes: number[] = [];
	let x = n;
	// Minimal two's complement, little-endian (pickle's encode_long).
	for (;;) {
		bytes.push(Number(x & 0xffn));
		x >>= 8n;
		const top = (bytes[bytes.length - 1] as number) & 0x80;
		if ((x === 0n && top === 0) || (x === -1n && top !== 0)) break;
	}
	if (bytes.length < 256) return [0x8a, bytes.length, ...bytes];
	const len = new Uint8Array(4);
	new DataView(len.buffer).setInt32(0, bytes.length, true);
	return [0x8b, ...len, ...bytes];
}

/** A shape tuple as pickle protocol 4 writes it. */
export function encodeShape(shape: readonly number[]): number[] {
	const ints = shape.flatMap((d) => encodeInt(d));
	if (shape.length === 0) return [0x29];
	if (shape.length <= 3) return [...ints, 0x85 + shape.length - 1];
	return [0x28, ...ints, 0x74];
}

/** The parts of an ndarray value fragment around its data (data itself excluded). */
export function arrayFragmentParts(
	dtype: DType,
	shape: readonly number[],
): { head: Uint8Array; tail: Uint8Array; nbytes: number } {
	const name = numpyName(dtype);
	if (name.length > 255)
		throw new MalformedError("dtype string longer than 255 bytes");
	const nbytes = shapeSize(shape) * dtype.itemsize;
	const len = new Uint8Array(8);
	new DataView(len.buffer).setBigUint64(0, BigInt(nbytes), true);
	const head = Uint8Array.from([...ARRAY_PREFIX, 0x8e, ...len]);
	const tail = Uint8Array.from([
		...shortStr(name),
		0x86,
		0x52,
		...encodeShape(shape),
		0x86,
		0x52,
	]);
	return { head, tail, nbytes };
}

/** `FRAME L` + `SHORT_BINUNICODE key` for an entry whose value and trailer take `rest` bytes. */
export function entryHead(
	keyBytes: Uint8Array,
	valueLength: number,
): Uint8Array {
	const L = 2 + keyBytes.length + valueLength + 8;
	const b = new Uint8Array(11 + keyBytes.length);
	b[0] = 0x95;
	new DataView(b.buffer).setBigUint64(1, BigInt(L), true);
	b[9] = 0x8c;
	b[10] = keyBytes.length;
	b.set(keyBytes, 11);
	return b;
}

/** `BININT memo, POP, flag, POP`. */
export function entryTrailer(memo: number, live: boolean): Uint8Array {
	const b = Uint8Array.from([0x4a, 0, 0, 0, 0, 0x30, live ? LIVE : DEAD, 0x30]);
	new DataView(b.buffer).setInt32(1, memo, true);
	return b;
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
	const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
	let o = 0;
	for (const p of parts) {
		out.set(p, o);
		o += p.length;
	}
	return out;
}
