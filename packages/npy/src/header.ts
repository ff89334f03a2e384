/**
 * Reading `.npy` headers (NEP 1): the magic, the version, HEADER_LEN, and the header dict
 * `{'descr': ..., 'fortran_order': ..., 'shape': ...}` parsed by our strict literal parser.
 * Every number read from the file is checked against the file size before it sizes anything.
 */
import type { FileHandle } from "node:fs/promises";
import {
	type Descr,
	type DescrField,
	type DType,
	isArrayStoreError,
	LimitExceededError,
	MalformedError,
	parseDType,
	TruncatedError,
	UnsupportedDTypeError,
	UnsupportedVersionError,
} from "@arraystore/core";
import { readFully } from "./file-bytes.js";
import {
	DEFAULT_MAX_DEPTH,
	isPyDict,
	isPyTuple,
	type PyValue,
	parsePyLiteral,
} from "./literal.js";

/** `\x93NUMPY`. */
export const NPY_MAGIC: Uint8Array = Uint8Array.of(
	0x93,
	0x4e,
	0x55,
	0x4d,
	0x50,
	0x59,
);

/** Default cap on HEADER_LEN: our parser is safe, so far above numpy's 10000-character limit. */
export const DEFAULT_MAX_HEADER_BYTES: number = 16 * 1024 * 1024;

/** npy format versions we read and write. */
export type NpyVersion = "1.0" | "2.0" | "3.0";

/** A parsed header. */
export interface NpyHeader {
	readonly version: NpyVersion;
	/** The HEADER_LEN field. */
	readonly headerLen: number;
	/** First data byte: preamble (10 or 12) + HEADER_LEN. */
	readonly dataOffset: number;
	readonly dtype: DType;
	readonly fortranOrder: boolean;
	readonly shape: readonly number[];
	/** Elements: the product of `shape`. */
	readonly size: number;
	/** Data bytes: `size * dtype.itemsize`. */
	readonly nbytes: number;
}

/** Options of the header readers. */
export interface ReadNpyHeaderOptions {
	/** Largest HEADER_LEN accepted; default 16 MiB. */
	readonly maxHeaderBytes?: number;
	/** Deepest literal nesting; default 64. */
	readonly maxDepth?: number;
	/** Bytes available for the header and data (the file size, or a zip member's size). */
	readonly available?: number;
}

/** The fixed part before the header text. */
export interface NpyPreamble {
	readonly version: NpyVersion;
	/** 10 for 1.0, 12 for 2.0 and 3.0. */
	readonly preambleLen: number;
	readonly headerLen: number;
}

/**
 * Parses the magic, version and HEADER_LEN from the first bytes of a file.
 * @throws {MalformedError} wrong magic.
 * @throws {UnsupportedVersionError} a version other than 1.0, 2.0, 3.0.
 * @throws {TruncatedError} fewer bytes than the preamble needs.
 */
export function parseNpyPreamble(head: Uint8Array): NpyPreamble {
	for (let i = 0; i < NPY_MAGIC.length; i++) {
		if (i >= head.length)
			throw new TruncatedError(
				`file ends inside the npy magic (${head.length} bytes)`,
			);
		if (head[i] !== NPY_MAGIC[i])
			throw new MalformedError(
				"not an npy file: the magic \\x93NUMPY is missing",
			);
	}
	if (head.length < 8)
		throw new TruncatedError("file ends inside the npy version");
	const major = head[6] as number;
	const minor = head[7] as number;
	if (minor !== 0 || major < 1 || major > 3)
		throw new UnsupportedVersionError(
			`unsupported npy format version ${major}.${minor}`,
		);
	const version = `${major}.0` as NpyVersion;
	const preambleLen = major === 1 ? 10 : 12;
	if (head.length < preambleLen)
		throw new TruncatedError("file ends inside the npy HEADER_LEN field");
	const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
	const headerLen =
		major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
	return { version, preambleLen, headerLen };
}

/**
 * Decodes and interprets header text (the bytes after the preamble).
 * @throws {MalformedError} not a dict, wrong keys, wrong value types, negative dimensions.
 * @throws {UnsupportedDTypeError} object or otherwise unsupported dtypes.
 * @throws {LimitExceededError} a shape or element size beyond 2^53 − 1, nesting too deep.
 */
export function parseNpyHeaderText(
	bytes: Uint8Array,
	version: NpyVersion,
	options: { readonly maxDepth?: number } = {},
): {
	dtype: DType;
	fortranOrder: boolean;
	shape: number[];
	size: number;
	nbytes: number;
} {
	const text = decodeHeader(bytes, version);
	const dict = parsePyLiteral(text, {
		maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
	});
	if (!isPyDict(dict)) throw new MalformedError("npy header is not a dict");
	const keys = [...dict.entries.keys()].sort();
	if (
		keys.length !== 3 ||
		keys[0] !== "descr" ||
		keys[1] !== "fortran_order" ||
		keys[2] !== "shape"
	) {
		throw new MalformedError(
			`npy header must have exactly the keys descr, fortran_order, shape; got ${keys.map((k) => JSON.stringify(k.slice(0, 40))).join(", ")}`,
		);
	}
	const fortran = dict.entries.get("fortran_order");
	if (typeof fortran !== "boolean")
		throw new MalformedError("npy header: fortran_order is not True or False");
	const shapeValue = dict.entries.get("shape") as PyValue;
	if (!isPyTuple(shapeValue))
		throw new MalformedError("npy header: shape is not a tuple");
	const shape: number[] = [];
	let size = 1;
	for (const d of shapeValue.items) {
		if (typeof d !== "bigint")
			throw new MalformedError(
				"npy header: shape holds a value that is not an int",
			);
		if (d < 0n) throw new MalformedError(`npy header: negative dimension ${d}`);
		if (d > BigInt(Number.MAX_SAFE_INTEGER))
			throw new LimitExceededError(
				`npy header: dimension ${d} exceeds 2^53 - 1`,
			);
		shape.push(Number(d));
	}
	// A zero dimension makes the array empty whatever the others say (numpy agrees).
	if (!shape.includes(0)) {
		for (const d of shape) {
			size *= d;
			if (size > Number.MAX_SAFE_INTEGER)
				throw new LimitExceededError(
					`npy header: shape ${shape.join("x")} has more than 2^53 - 1 elements`,
				);
		}
	} else size = 0;
	const dtype = toDType(dict.entries.get("descr") as PyValue);
	const nbytes = size * dtype.itemsize;
	if (!Number.isSafeInteger(nbytes))
		throw new LimitExceededError(
			`npy header: ${size} elements of ${dtype.itemsize} bytes exceed 2^53 - 1 bytes`,
		);
	return { dtype, fortranOrder: fortran, shape, size, nbytes };
}

/**
 * Parses a whole header from the first bytes of a file (`head` must hold the preamble and the
 * header text), checking the sizes against `available` when given.
 */
export function parseNpyHeader(
	head: Uint8Array,
	options: ReadNpyHeaderOptions = {},
): NpyHeader {
	const pre = parseNpyPreamble(head);
	const dataOffset = checkHeaderLen(pre, options);
	if (head.length < dataOffset)
		throw new TruncatedError(
			`file ends inside the npy header (${dataOffset} bytes needed)`,
		);
	return finish(pre, head.subarray(pre.preambleLen, dataOffset), options);
}

/**
 * Reads and parses the header of an open file. Reads only the preamble and HEADER_LEN bytes,
 * after checking HEADER_LEN against `available` (default: the file size) and `maxHeaderBytes`.
 * @param position Where the npy content starts (0 for files, the member offset in a zip).
 */
export async function readNpyHeader(
	fh: FileHandle,
	position = 0,
	options: ReadNpyHeaderOptions = {},
): Promise<NpyHeader> {
	const available = options.available ?? (await fh.stat()).size - position;
	return readNpyHeaderFrom(
		async (at, length) => {
			const into = new Uint8Array(length);
			await readFully(
				fh,
				into,
				position + at,
				() => new TruncatedError("file ends inside the npy header"),
			);
			return into;
		},
		{ ...options, available },
	);
}

/**
 * Like {@link readNpyHeader} over any byte source (an inflating zip member): `read(at, length)`
 * returns `length` bytes at offset `at` of the npy content; `available` bounds every request.
 */
export async function readNpyHeaderFrom(
	read: (at: number, length: number) => Promise<Uint8Array>,
	options: ReadNpyHeaderOptions & { readonly available: number },
): Promise<NpyHeader> {
	const head = await read(0, Math.max(0, Math.min(12, options.available)));
	const pre = parseNpyPreamble(head);
	checkHeaderLen(pre, options);
	const text = await read(pre.preambleLen, pre.headerLen);
	return finish(pre, text, options);
}

// --- internal ---

function checkHeaderLen(
	pre: NpyPreamble,
	options: ReadNpyHeaderOptions,
): number {
	const dataOffset = pre.preambleLen + pre.headerLen;
	if (options.available !== undefined && dataOffset > options.available) {
		throw new TruncatedError(
			`npy HEADER_LEN ${pre.headerLen} points past the end of the file (${options.available} bytes)`,
		);
	}
	const max = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
	if (pre.headerLen > max)
		throw new LimitExceededError(
			`npy header of ${pre.headerLen} bytes exceeds maxHeaderBytes (${max})`,
		);
	return dataOffset;
}

function finish(
	pre: NpyPreamble,
	text: Uint8Array,
	options: ReadNpyHeaderOptions,
): NpyHeader {
	const parsed = parseNpyHeaderText(text, pre.version, options);
	const dataOffset = pre.preambleLen + pre.headerLen;
	if (
		options.available !== undefined &&
		dataOffset + parsed.nbytes > options.available
	) {
		throw new TruncatedError(
			`npy data is truncated: the header claims ${parsed.nbytes} bytes at offset ${dataOffset}, the file has ${options.available - dataOffset}`,
		);
	}
	return {
		version: pre.version,
		headerLen: pre.headerLen,
		dataOffset,
		...parsed,
	};
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function decodeHeader(bytes: Uint8Array, version: NpyVersion): string {
	if (version === "3.0") {
		try {
			return utf8.decode(bytes);
		} catch (err) {
			throw new MalformedError("npy 3.0 header is not valid UTF-8", {
				cause: err,
			});
		}
	}
	// latin-1 (not WHATWG "latin1", which is windows-1252): every byte is its code point.
	let s = "";
	for (let i = 0; i < bytes.length; i += 8192)
		s += String.fromCharCode(...bytes.subarray(i, i + 8192));
	return s;
}

function toDType(descr: PyValue): DType {
	const d = toDescr(descr, 0);
	let dtype: DType;
	try {
		dtype = parseDType(d);
	} catch (err) {
		if (isArrayStoreError(err, "UNSUPPORTED_DTYPE")) {
			throw new UnsupportedDTypeError(`npy header: ${err.message}`, {
				cause: err,
				dtype: typeof d === "string" ? d : undefined,
				format: "npy",
			});
		}
		throw new MalformedError("npy header: descr is not a valid dtype", {
			cause: err,
		});
	}
	if (!Number.isSafeInteger(dtype.itemsize))
		throw new LimitExceededError(
			`npy header: element size ${dtype.itemsize} exceeds 2^53 - 1`,
		);
	if (dtype.itemsize === 0)
		throw new UnsupportedDTypeError(
			"npy header: zero-size elements are not supported",
			{ dtype: dtype.str, format: "npy" },
		);
	return dtype;
}

/** Converts the literal into core's `Descr`, checking its structure (numpy's `descr_to_dtype`). */
function toDescr(v: PyValue, depth: number): Descr {
	if (typeof v === "string") return v;
	if (!Array.isArray(v))
		throw new MalformedError(
			"npy header: descr must be a string or a list of fields",
		);
	const fields: DescrField[] = [];
	for (const f of v as readonly PyValue[]) {
		if (!isPyTuple(f) || f.items.length < 2 || f.items.length > 3)
			throw new MalformedError(
				"npy header: a descr field must be a (name, type[, shape]) tuple",
			);
		const [nameV, typeV, shapeV] = f.items as [
			PyValue,
			PyValue,
			PyValue | undefined,
		];
		let name: DescrField[0];
		if (typeof nameV === "string") name = nameV;
		else if (
			isPyTuple(nameV) &&
			nameV.items.length === 2 &&
			typeof nameV.items[0] === "string" &&
			typeof nameV.items[1] === "string"
		) {
			name = [nameV.items[0], nameV.items[1]];
		} else
			throw new MalformedError(
				"npy header: a field name must be a string or a (title, name) pair",
			);
		const type = toDescr(typeV, depth + 1);
		if (shapeV === undefined) {
			fields.push([name, type]);
			continue;
		}
		const dims =
			typeof shapeV === "bigint"
				? [shapeV]
				: isPyTuple(shapeV)
					? shapeV.items
					: null;
		if (
			dims === null ||
			!dims.every(
				(x) =>
					typeof x === "bigint" &&
					x >= 0n &&
					x <= BigInt(Number.MAX_SAFE_INTEGER),
			)
		) {
			throw new MalformedError(
				"npy header: a field's sub-array shape must be a tuple of non-negative ints",
			);
		}
		const shape = dims.map((x) => Number(x));
		let n = 1;
		for (const x of shape) {
			n *= x;
			if (n > Number.MAX_SAFE_INTEGER)
				throw new LimitExceededError(
					"npy header: a field's sub-array is too large",
				);
		}
		fields.push([name, type, shape]);
	}
	return fields;
}
