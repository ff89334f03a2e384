/**
 * `ArrayData`: elements in memory as bytes of a known dtype, always native (little-endian)
 * byte order and C order, with a typed-array view for numeric kinds.
 */
import { LimitExceededError } from "../errors.js";
import type { DType } from "./model.js";

interface TypedByCode {
	b1: Uint8Array;
	i1: Int8Array;
	i2: Int16Array;
	i4: Int32Array;
	i8: BigInt64Array;
	u1: Uint8Array;
	u2: Uint16Array;
	u4: Uint32Array;
	u8: BigUint64Array;
	/** Raw IEEE half bits: Node 20 has no Float16Array. */
	f2: Uint16Array;
	f4: Float32Array;
	f8: Float64Array;
	/** Interleaved re, im (length 2n). */
	c8: Float32Array;
	c16: Float64Array;
	/** Variable-length strings. */
	O: string[];
}

/** Any typed array a numeric dtype can be viewed as. */
export type AnyTypedArray = Exclude<TypedByCode[keyof TypedByCode], string[]>;

/** Numeric kinds get a typed view; every other kind is its raw element bytes. */
export type TypedArrayFor<D extends DType> = string extends D["code"]
	? AnyTypedArray | string[]
	: D["code"] extends keyof TypedByCode
		? TypedByCode[D["code"]]
		: Uint8Array;

/** One element: boolean (b1), bigint (i8/u8, M/m), [re, im] (complex), number, string (S/U), object (records), bytes (V). */
export type Scalar =
	| boolean
	| number
	| bigint
	| string
	| readonly [number, number]
	| Uint8Array
	| { readonly [field: string]: Scalar };

/** The scalar type of a dtype. */
export type ScalarFor<D extends DType> = string extends D["code"]
	? Scalar
	: D["code"] extends "b1"
		? boolean
		: D["code"] extends "i8" | "u8" | "M8" | "m8"
			? bigint
			: D["code"] extends "c8" | "c16"
				? readonly [number, number]
				: D["code"] extends `${"i" | "u" | "f"}${number}`
					? number
					: Scalar;

/** The byte part of any `ArrayData`, whatever its dtype parameter (what writes accept). */
export interface ArrayBytes {
	readonly dtype: DType;
	readonly shape: readonly number[];
	readonly bytes: Uint8Array;
}

/** Any `ArrayData` whatever its dtype parameter, with its view typed loosely. */
export interface AnyArrayData extends ArrayBytes {
	readonly data: AnyTypedArray | Uint8Array | string[];
}

/** Elements in memory: C order, native byte order. */
export interface ArrayData<D extends DType = DType> extends ArrayBytes {
	/** Native-byte-order version of the stored dtype. */
	readonly dtype: D;
	readonly shape: readonly number[];
	/** size × itemsize bytes, over a fresh ArrayBuffer (so typed views are aligned). */
	readonly bytes: Uint8Array;
	/** View over `bytes` (numeric kinds), or `bytes` itself. */
	readonly data: TypedArrayFor<D>;
}

type TypedCtor = new (
	buffer: ArrayBufferLike,
	byteOffset: number,
	length: number,
) => AnyTypedArray;
const CTORS: Readonly<Record<string, readonly [TypedCtor, number]>> = {
	b1: [Uint8Array, 1],
	i1: [Int8Array, 1],
	i2: [Int16Array, 2],
	i4: [Int32Array, 4],
	i8: [BigInt64Array, 8],
	u1: [Uint8Array, 1],
	u2: [Uint16Array, 2],
	u4: [Uint32Array, 4],
	u8: [BigUint64Array, 8],
	f2: [Uint16Array, 2],
	f4: [Float32Array, 4],
	f8: [Float64Array, 8],
	c8: [Float32Array, 4],
	c16: [Float64Array, 8],
};

/** The typed-array constructor and element width for a numeric dtype code, if any. */
export function typedCtorFor(
	dtype: DType,
): readonly [TypedCtor, number] | undefined {
	return dtype.byteOrder === ">" ? undefined : CTORS[dtype.code];
}

/**
 * A typed view over native-order bytes (numeric kinds), or the bytes themselves. Copies when
 * `bytes` is not aligned for the view.
 */
export function typedView<D extends DType>(
	dtype: D,
	bytes: Uint8Array,
): TypedArrayFor<D> {
	const entry = typedCtorFor(dtype);
	if (!entry) return bytes as TypedArrayFor<D>;
	const [Ctor, width] = entry;
	let b = bytes;
	if (b.byteOffset % width !== 0) b = b.slice();
	return new Ctor(
		b.buffer,
		b.byteOffset,
		b.byteLength / width,
	) as TypedArrayFor<D>;
}

/** Product of a shape (1 for 0-d). */
export function shapeSize(shape: readonly number[]): number {
	let n = 1;
	for (const d of shape) n *= d;
	return n;
}

/** Largest `ArrayData` allowed: Node 20 caps one Buffer at 4 GiB. */
export const MAX_ARRAY_BYTES: number = 2 ** 32;

/** Builds an `ArrayData` over `bytes` (which must be native order, C order). */
export function makeArrayData<D extends DType>(
	dtype: D,
	shape: readonly number[],
	bytes: Uint8Array,
): ArrayData<D> {
	return {
		dtype,
		shape: Object.freeze([...shape]),
		bytes,
		data: typedView(dtype, bytes),
	};
}

/** A zero-filled `ArrayData` on a fresh ArrayBuffer. */
export function allocArrayData<D extends DType>(
	dtype: D,
	shape: readonly number[],
): ArrayData<D> {
	const n = shapeSize(shape) * dtype.itemsize;
	if (n > MAX_ARRAY_BYTES)
		throw new LimitExceededError(
			`one array of ${n} bytes exceeds the 4 GiB limit; use iterBlocks`,
		);
	return makeArrayData(dtype, shape, new Uint8Array(new ArrayBuffer(n)));
}

/** The bytes behind any typed array, as a Uint8Array view. */
export function bytesOf(a: ArrayBufferView): Uint8Array {
	return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

const probe = new Uint8Array(new Uint16Array([1]).buffer);
if (probe[0] !== 1)
	throw new Error("arraystore supports little-endian hosts only");
