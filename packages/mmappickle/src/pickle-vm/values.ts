/**
 * What the pickle VM builds: plain Python data as small JS classes, and data-only descriptions
 * of numpy objects (`ArrayRef`, `MaskedArrayRef`, `ObjectArrayRef`). Nothing here can call
 * anything: a global is a name plus its allowlist entry.
 */
import { type DType, shapeSize } from "@arraystore/core";
import type { AllowEntry } from "./allowlist.js";

/** Python `float` (kept apart from `int`, which is a JS number or bigint). */
export class PyFloat {
	readonly value: number;
	constructor(value: number) {
		this.value = value;
	}
}

/** Python `complex`. */
export class PyComplex {
	readonly re: number;
	readonly im: number;
	constructor(re: number, im: number) {
		this.re = re;
		this.im = im;
	}
}

/** Python `tuple`. */
export class PyTuple {
	readonly items: readonly PyValue[];
	constructor(items: readonly PyValue[]) {
		this.items = items;
	}
}

/** Python `bytes` / `bytearray` read into memory (small payloads). */
export class PyBytes {
	readonly bytes: Uint8Array;
	readonly bytearray: boolean;
	/** Where the payload sits in the file or stream, when it was copied verbatim from there. */
	readonly offset: number | null;
	readonly space: ByteSpace | null;
	constructor(
		bytes: Uint8Array,
		bytearray = false,
		at: { offset: number; space: ByteSpace } | null = null,
	) {
		this.bytes = bytes;
		this.bytearray = bytearray;
		this.offset = at?.offset ?? null;
		this.space = at?.space ?? null;
	}
}

/** Where a payload's bytes are: in the file, or in the decompressed stream of a compressed file. */
export type ByteSpace = "file" | "stream";

/** A large `bytes` payload that was not read: `[offset, offset + length)` of its space. */
export class ByteRange {
	readonly offset: number;
	readonly length: number;
	readonly space: ByteSpace;
	readonly bytearray: boolean;
	constructor(
		offset: number,
		length: number,
		space: ByteSpace,
		bytearray = false,
	) {
		this.offset = offset;
		this.length = length;
		this.space = space;
		this.bytearray = bytearray;
	}
}

/** Python `dict` (and `OrderedDict`): insertion-ordered, keys hashed by {@link hashKey}. */
export class PyDict {
	readonly entries: Map<string, readonly [PyValue, PyValue]> = new Map();
	set(key: PyValue, value: PyValue): void {
		const h = hashKey(key);
		if (h === null) throw new TypeError("unhashable dict key");
		this.entries.set(h, [key, value]);
	}
}

/** Python `set` / `frozenset`. */
export class PySet {
	readonly items: Map<string, PyValue> = new Map();
	readonly frozen: boolean;
	constructor(frozen = false) {
		this.frozen = frozen;
	}
	add(value: PyValue): void {
		const h = hashKey(value);
		if (h === null) throw new TypeError("unhashable set item");
		this.items.set(h, value);
	}
}

/** A resolved, allowlisted global (never a callable). */
export class PyGlobal {
	readonly name: string;
	readonly entry: AllowEntry;
	constructor(name: string, entry: AllowEntry) {
		this.name = name;
		this.entry = entry;
	}
}

/** A numpy dtype object; `dtype` is null for the object dtype (`O8`). */
export class DTypeValue {
	readonly dtype: DType | null;
	constructor(dtype: DType | null) {
		this.dtype = dtype;
	}
}

/** An array's bytes: in memory, or a range of the file or stream. */
export type DataRef = PyBytes | ByteRange;

/**
 * A numpy array described by data only. `storedShape` is the C-contiguous shape of the bytes;
 * logical axis `i` is stored axis `perm[i]` (identity for C, reversed for F, any permutation
 * for protocol-5 `'K'`).
 */
export class ArrayRef {
	readonly dtype: DType;
	readonly shape: readonly number[];
	readonly storedShape: readonly number[];
	readonly perm: readonly number[];
	readonly data: DataRef;
	constructor(
		dtype: DType,
		storedShape: readonly number[],
		perm: readonly number[],
		data: DataRef,
	) {
		this.dtype = dtype;
		this.storedShape = storedShape;
		this.perm = perm;
		this.shape = perm.map((p) => storedShape[p] as number);
		this.data = data;
	}
	/** "C", "F", or null for another permutation. */
	get order(): "C" | "F" | null {
		const n = this.perm.length;
		if (this.perm.every((p, i) => p === i)) return "C";
		if (this.perm.every((p, i) => p === n - 1 - i)) return "F";
		return null;
	}
	/** Position of element 0's byte in its space, or null when the bytes were decoded (protocol 2). */
	get byteOffset(): number | null {
		return this.data.offset;
	}
	get nbytes(): number {
		return shapeSize(this.storedShape) * this.dtype.itemsize;
	}
}

/** An object-dtype array: its elements are Python values (exposed as plain data, never mapped). */
export class ObjectArrayRef {
	readonly shape: readonly number[];
	readonly fortran: boolean;
	readonly values: readonly PyValue[];
	constructor(
		shape: readonly number[],
		fortran: boolean,
		values: readonly PyValue[],
	) {
		this.shape = shape;
		this.fortran = fortran;
		this.values = values;
	}
}

/** `numpy.ma.MaskedArray`: data, a full boolean mask of the same shape, and a fill value. */
export class MaskedArrayRef {
	readonly data: ArrayRef;
	readonly mask: ArrayRef;
	readonly fillValue: PyValue;
	constructor(data: ArrayRef, mask: ArrayRef, fillValue: PyValue) {
		this.data = data;
		this.mask = mask;
		this.fillValue = fillValue;
	}
}

/** An object made by an allowed call that still waits for its BUILD (or its second call). */
export class Pending {
	readonly kind:
		| "reconstruct"
		| "dtype"
		| "mareconstruct"
		| "wrapper"
		| "fromstring";
	readonly args: readonly PyValue[];
	constructor(kind: Pending["kind"], args: readonly PyValue[]) {
		this.kind = kind;
		this.args = args;
	}
}

/** Everything the VM can put on its stack. Lists are plain JS arrays. */
export type PyValue =
	| null
	| boolean
	| number
	| bigint
	| string
	| PyFloat
	| PyComplex
	| PyTuple
	| PyValue[]
	| PyDict
	| PySet
	| PyBytes
	| ByteRange
	| PyGlobal
	| DTypeValue
	| ArrayRef
	| ObjectArrayRef
	| MaskedArrayRef
	| Pending;

/**
 * A Python 3 `str`, or a Python 2 `str` (raw bytes, read as latin-1) as old pickles carry them
 * for dtype codes, byte orders and dict keys; null for anything else.
 */
export function strOf(v: PyValue | undefined): string | null {
	if (typeof v === "string") return v;
	if (v instanceof PyBytes && !v.bytearray && v.bytes.length <= 1024)
		return Buffer.from(v.bytes).toString("latin1");
	return null;
}

/** The value of a dict entry whose key is the (Python 2 or 3) string `key`. */
export function dictGet(d: PyDict, key: string): PyValue | undefined {
	const hit = d.entries.get(`s${key}`);
	if (hit) return hit[1];
	for (const [k, v] of d.entries.values())
		if (k instanceof PyBytes && strOf(k) === key) return v;
	return undefined;
}

/** True for Python `int` (JS integer number or bigint); bools are not ints here. */
export function isInt(v: PyValue): v is number | bigint {
	return (
		(typeof v === "number" && Number.isInteger(v)) || typeof v === "bigint"
	);
}

/**
 * A string identifying a hashable value as Python's `==` would (1 == 1.0 == True), or null when
 * the value is unhashable (list, dict, set, arrays).
 */
export function hashKey(v: PyValue): string | null {
	return hashInner(v, { left: HASH_BUDGET }, 0);
}

// Memo sharing can make a tiny pickle hold a tuple of 2^50 leaves: hashing is budgeted.
const HASH_BUDGET = 100_000;

function hashInner(
	v: PyValue,
	budget: { left: number },
	depth: number,
): string | null {
	if (--budget.left < 0 || depth > 64)
		throw new TypeError("dict key too large to hash");
	if (v === null) return "N";
	if (typeof v === "boolean") return v ? "i1" : "i0";
	if (typeof v === "number") return `i${v}`;
	if (typeof v === "bigint") return `i${v}`;
	if (typeof v === "string") return `s${v}`;
	if (v instanceof PyFloat)
		return Number.isInteger(v.value) ? `i${v.value}` : `f${v.value}`;
	if (v instanceof PyComplex)
		return v.im === 0
			? hashInner(new PyFloat(v.re), budget, depth)
			: `c${v.re},${v.im}`;
	if (v instanceof PyBytes)
		return v.bytearray ? null : `b${Buffer.from(v.bytes).toString("hex")}`;
	if (v instanceof PyTuple) {
		const parts: string[] = [];
		for (const item of v.items) {
			const h = hashInner(item, budget, depth + 1);
			if (h === null) return null;
			parts.push(h);
		}
		return `t(${parts.join(",")})`;
	}
	if (v instanceof PySet && v.frozen)
		return `z{${[...v.items.keys()].sort().join(",")}}`;
	if (v instanceof PyGlobal) return `g${v.name}`;
	return null;
}
