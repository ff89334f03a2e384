/**
 * Reading mmappickle structure (formats.md §5.7, stricter than mmappickle): the exact header,
 * the terminator, a frame walk that must end exactly at the terminator, per-entry trailers,
 * and ndarray / masked-array value fragments parsed without the VM.
 */
import type { FileHandle } from "node:fs/promises";
import {
	type DType,
	MalformedError,
	OutOfBoundsError,
	SizeMismatchError,
	shapeSize,
	TruncatedError,
	UnsupportedVersionError,
} from "@arraystore/core";
import { readAt } from "../file-read.js";
import { parseMmappickleDType } from "./dtype-string.js";
import {
	ARRAY_PREFIX,
	DEAD,
	HEADER_BYTES,
	LIVE,
	MASKED_PREFIX,
	parseHeader,
	TERMINATOR,
} from "./format.js";

/** One entry frame (live or dead). */
export interface Entry {
	readonly offset: number;
	/** Frame length L (bytes after the 9-byte frame header). */
	readonly frameLength: number;
	readonly key: string;
	readonly keyLength: number;
	readonly valueOffset: number;
	readonly valueLength: number;
	readonly memo: number;
	live: boolean;
	readonly kind: "ndarray" | "masked" | "generic";
}

/** An array inside an mmappickle value: data `[dataOffset, dataOffset + nbytes)`, C order. */
export interface ArrayFragment {
	readonly dtype: DType;
	readonly shape: readonly number[];
	readonly dataOffset: number;
	readonly nbytes: number;
	/** First byte after the fragment. */
	readonly end: number;
}

/** The structure of a whole file. */
export interface Layout {
	readonly version: number;
	readonly commit: number;
	readonly size: number;
	readonly entries: Entry[];
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Checks the header and terminator and walks every frame.
 * @throws {MalformedError} not an mmappickle header, a bad entry head or trailer.
 * @throws {UnsupportedVersionError} version ≠ 1.
 * @throws {TruncatedError} no terminator.
 * @throws {OutOfBoundsError} a frame past the terminator.
 */
export async function readLayout(
	fh: FileHandle,
	size: number,
): Promise<Layout> {
	const head = await readAt(fh, 0, HEADER_BYTES);
	const header = parseHeader(head);
	if (header === null) {
		if (head.length < HEADER_BYTES)
			throw new TruncatedError(
				`mmappickle: file of ${size} bytes is shorter than the header`,
			);
		throw new MalformedError("mmappickle: not an mmappickle header");
	}
	if (header.version !== 1)
		throw new UnsupportedVersionError(
			`mmappickle format version ${header.version} (only 1 is known)`,
		);
	const end = size - TERMINATOR.length;
	const tail =
		end >= HEADER_BYTES
			? await readAt(fh, end, TERMINATOR.length)
			: new Uint8Array(0);
	if (
		tail.length !== TERMINATOR.length ||
		!tail.every((b, i) => b === TERMINATOR[i])
	) {
		throw new TruncatedError(
			"mmappickle: the file does not end with the terminator (truncated, or a write was interrupted)",
		);
	}
	const entries: Entry[] = [];
	let o = HEADER_BYTES;
	while (o < end) {
		if (o + 11 > end)
			throw new MalformedError(`mmappickle: incomplete entry head at ${o}`);
		const h = await readAt(fh, o, 11);
		const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
		if (h[0] !== 0x95 || h[9] !== 0x8c)
			throw new MalformedError(
				`mmappickle: entry at ${o} does not start with FRAME + SHORT_BINUNICODE`,
			);
		const L = dv.getBigUint64(1, true);
		if (BigInt(o) + 9n + L > BigInt(end))
			throw new OutOfBoundsError(
				`mmappickle: frame at ${o} of ${L} bytes runs past the terminator at ${end}`,
			);
		const frameLength = Number(L);
		const K = h[10] as number;
		if (frameLength < K + 11)
			throw new MalformedError(
				`mmappickle: frame at ${o} too short for its key and trailer`,
			);
		const fend = o + 9 + frameLength;
		const keyBytes = await readAt(fh, o + 11, K);
		const trailer = await readAt(fh, fend - 8, 8);
		if (
			trailer[0] !== 0x4a ||
			trailer[5] !== 0x30 ||
			trailer[7] !== 0x30 ||
			(trailer[6] !== LIVE && trailer[6] !== DEAD)
		) {
			throw new MalformedError(`mmappickle: entry at ${o} has a bad trailer`);
		}
		let key: string;
		try {
			key = utf8.decode(keyBytes);
		} catch (err) {
			throw new MalformedError(`mmappickle: key at ${o} is not UTF-8`, {
				cause: err,
			});
		}
		const valueOffset = o + 11 + K;
		const valueLength = frameLength - K - 10;
		const probe = await readAt(
			fh,
			valueOffset,
			Math.min(ARRAY_PREFIX.length, valueLength),
		);
		const kind = startsWith(probe, ARRAY_PREFIX)
			? "ndarray"
			: startsWith(probe, MASKED_PREFIX)
				? "masked"
				: "generic";
		entries.push({
			offset: o,
			frameLength,
			key,
			keyLength: K,
			valueOffset,
			valueLength,
			memo: new DataView(trailer.buffer, trailer.byteOffset).getInt32(1, true),
			live: trailer[6] === LIVE,
			kind,
		});
		o = fend;
	}
	if (o !== end)
		throw new MalformedError("mmappickle: frames do not end at the terminator");
	return { version: header.version, commit: header.commit, size, entries };
}

/** The ndarray of an "ndarray" entry. */
export async function readArrayEntry(
	fh: FileHandle,
	e: Entry,
): Promise<ArrayFragment> {
	const frag = await readArrayFragment(
		fh,
		e.valueOffset,
		e.valueOffset + e.valueLength,
	);
	if (frag.end !== e.valueOffset + e.valueLength)
		throw new MalformedError(
			`mmappickle: value of ${JSON.stringify(e.key)} has trailing bytes`,
		);
	return frag;
}

/** Data and mask of a "masked" entry. */
export async function readMaskedEntry(
	fh: FileHandle,
	e: Entry,
): Promise<{ data: ArrayFragment; mask: ArrayFragment }> {
	const end = e.valueOffset + e.valueLength;
	const data = await readArrayFragment(
		fh,
		e.valueOffset + MASKED_PREFIX.length,
		end,
	);
	const mask = await readArrayFragment(fh, data.end, end);
	const close = await readAt(fh, mask.end, 2);
	if (close[0] !== 0x86 || close[1] !== 0x52 || mask.end + 2 !== end)
		throw new MalformedError(
			`mmappickle: masked value of ${JSON.stringify(e.key)} is malformed`,
		);
	return { data, mask };
}

/**
 * Parses `prefix, BINBYTES8 N, data, dtype str, TUPLE2 REDUCE, shape, TUPLE2 REDUCE` at `at`.
 * @throws {OutOfBoundsError} the payload runs past the value.
 * @throws {SizeMismatchError} N ≠ prod(shape) × itemsize.
 */
export async function readArrayFragment(
	fh: FileHandle,
	at: number,
	limit: number,
): Promise<ArrayFragment> {
	const pre = await readAt(
		fh,
		at,
		Math.min(ARRAY_PREFIX.length + 9, Math.max(0, limit - at)),
	);
	if (!startsWith(pre, ARRAY_PREFIX))
		throw new MalformedError(`mmappickle: no array prefix at ${at}`);
	let p = at + ARRAY_PREFIX.length;
	const op = pre[ARRAY_PREFIX.length];
	const lenBytes = op === 0x8e ? 8 : op === 0x42 ? 4 : op === 0x43 ? 1 : -1;
	if (lenBytes < 0)
		throw new MalformedError(
			`mmappickle: array data at ${p} is not a bytes opcode`,
		);
	if (p + 1 + lenBytes > limit)
		throw new OutOfBoundsError(
			`mmappickle: array length at ${p} runs past its frame`,
		);
	const lb = await readAt(fh, p + 1, lenBytes);
	const dv = new DataView(lb.buffer, lb.byteOffset, lb.byteLength);
	const N =
		lenBytes === 8
			? dv.getBigUint64(0, true)
			: BigInt(lenBytes === 4 ? dv.getUint32(0, true) : (lb[0] as number));
	const dataOffset = p + 1 + lenBytes;
	if (BigInt(dataOffset) + N > BigInt(limit))
		throw new OutOfBoundsError(
			`mmappickle: array payload of ${N} bytes at ${dataOffset} runs past its frame (ends ${limit})`,
		);
	const nbytes = Number(N);
	p = dataOffset + nbytes;
	const tail = await readAt(fh, p, Math.min(limit - p, 4096));
	let i = 0;
	const need = (n: number) => {
		if (i + n > tail.length)
			throw new MalformedError(`mmappickle: array value at ${at} ends early`);
	};
	need(2);
	if (tail[i] !== 0x8c)
		throw new MalformedError(
			`mmappickle: array dtype at ${p} is not a short string`,
		);
	const n = tail[i + 1] as number;
	need(2 + n);
	const dtypeText = Buffer.from(tail.subarray(i + 2, i + 2 + n)).toString(
		"latin1",
	);
	i += 2 + n;
	need(2);
	if (tail[i] !== 0x86 || tail[i + 1] !== 0x52)
		throw new MalformedError(
			`mmappickle: array value at ${at} lacks TUPLE2 REDUCE`,
		);
	i += 2;
	const shape: number[] = [];
	const readInt = (): boolean => {
		need(1);
		const c = tail[i] as number;
		const v = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
		if (c === 0x4b) {
			need(2);
			shape.push(tail[i + 1] as number);
			i += 2;
		} else if (c === 0x4d) {
			need(3);
			shape.push(v.getUint16(i + 1, true));
			i += 3;
		} else if (c === 0x4a) {
			need(5);
			const d = v.getInt32(i + 1, true);
			if (d < 0)
				throw new MalformedError(`mmappickle: negative dimension at ${p + i}`);
			shape.push(d);
			i += 5;
		} else if (c === 0x8a) {
			need(2);
			const k = tail[i + 1] as number;
			need(2 + k);
			let d = 0n;
			for (let j = k - 1; j >= 0; j--)
				d = (d << 8n) | BigInt(tail[i + 2 + j] as number);
			if (k > 0 && ((tail[i + 1 + k] as number) & 0x80) !== 0)
				throw new MalformedError(`mmappickle: negative dimension at ${p + i}`);
			if (d > BigInt(Number.MAX_SAFE_INTEGER))
				throw new MalformedError(`mmappickle: dimension too large at ${p + i}`);
			shape.push(Number(d));
			i += 2 + k;
		} else return false;
		return true;
	};
	need(1);
	if (tail[i] === 0x29) i++;
	else if (tail[i] === 0x28) {
		i++;
		while (readInt())
			if (shape.length > 64)
				throw new MalformedError("mmappickle: too many dimensions");
		need(1);
		if (tail[i] !== 0x74)
			throw new MalformedError(`mmappickle: bad shape tuple at ${p + i}`);
		i++;
	} else {
		while (shape.length < 3 && readInt());
		need(1);
		if (shape.length === 0 || tail[i] !== 0x85 + shape.length - 1)
			throw new MalformedError(`mmappickle: bad shape tuple at ${p + i}`);
		i++;
	}
	need(2);
	if (tail[i] !== 0x86 || tail[i + 1] !== 0x52)
		throw new MalformedError(
			`mmappickle: array value at ${at} lacks its final TUPLE2 REDUCE`,
		);
	i += 2;
	const count = shapeSize(shape);
	if (!Number.isSafeInteger(count))
		throw new MalformedError("mmappickle: array shape too large");
	const dtype = parseMmappickleDType(dtypeText);
	if (count * dtype.itemsize !== nbytes) {
		throw new SizeMismatchError(
			`mmappickle: array of shape (${shape.join(", ")}) ${dtypeText} needs ${count * dtype.itemsize} bytes, payload holds ${nbytes}`,
		);
	}
	return { dtype, shape, dataOffset, nbytes, end: p + i };
}

function startsWith(b: Uint8Array, prefix: Uint8Array): boolean {
	return b.length >= prefix.length && prefix.every((v, i) => b[i] === v);
}
