/**
 * Attribute values ↔ typed element bytes. The rule is lossless: `attrs()` returns a plain JS
 * value exactly when `setAttrs` of that value writes the same HDF5 type and shape again
 * (string → variable-length UTF-8, boolean → h5py's bool ENUM, integer number or bigint →
 * int64, other number → float64, nested arrays → arrays, null → empty attribute); any other
 * attribute comes back as `ArrayData` with its exact dtype.
 */
import {
	type ArrayData,
	type AttrValue,
	type DType,
	makeArrayData,
	parseDType,
	shapeSize,
	UnsupportedError,
	vstringDType,
} from "@arraystore/core";
import { ADAPTER } from "./errors.js";

/** An attribute ready to be written: dtype, shape and elements (bytes, or strings for vlen). */
export interface AttrPayload {
	readonly dtype: DType;
	readonly shape: readonly number[];
	/** Little-endian element bytes (fixed-size types). */
	readonly bytes?: Uint8Array;
	/** Variable-length strings, C order. */
	readonly strings?: readonly string[];
	/** Empty attribute (null dataspace). */
	readonly empty?: boolean;
}

const F8 = parseDType("<f8");
const I8 = parseDType("<i8");
const B1 = parseDType("|b1");

function isArrayData(v: unknown): v is ArrayData {
	return (
		typeof v === "object" &&
		v !== null &&
		"dtype" in v &&
		"shape" in v &&
		"bytes" in v &&
		(v as ArrayData).bytes instanceof Uint8Array
	);
}

type Leaf = string | boolean | number | bigint;

function flatten(
	value: AttrValue,
	name: string,
): { shape: number[]; leaves: Leaf[] } {
	if (!Array.isArray(value)) return { shape: [], leaves: [value as Leaf] };
	const parts = (value as readonly AttrValue[]).map((v) => flatten(v, name));
	const first = parts[0];
	if (first === undefined) return { shape: [0], leaves: [] };
	for (const p of parts) {
		if (
			p.shape.length !== first.shape.length ||
			p.shape.some((d, i) => d !== first.shape[i])
		) {
			throw new UnsupportedError(
				`attribute ${JSON.stringify(name)}: nested lists must be rectangular`,
				{ adapter: ADAPTER },
			);
		}
	}
	return {
		shape: [parts.length, ...first.shape],
		leaves: parts.flatMap((p) => p.leaves),
	};
}

/**
 * The HDF5 attribute a value becomes.
 * @throws {UnsupportedError} objects, mixed lists, ragged lists.
 */
export function attrPayload(name: string, value: AttrValue): AttrPayload {
	if (value === null) return { dtype: I8, shape: [], empty: true };
	if (isArrayData(value))
		return {
			dtype: value.dtype,
			shape: value.shape,
			...(value.dtype.kind === "O"
				? { strings: value.data as unknown as string[] }
				: { bytes: value.bytes }),
		};
	if (typeof value === "object" && !Array.isArray(value)) {
		throw new UnsupportedError(
			`attribute ${JSON.stringify(name)}: objects cannot be stored as HDF5 attributes; pass ArrayData for records`,
			{ adapter: ADAPTER },
		);
	}
	const { shape, leaves } = flatten(value, name);
	if (leaves.length === 0)
		return { dtype: F8, shape, bytes: new Uint8Array(0) };
	if (leaves.every((l) => typeof l === "string"))
		return { dtype: vstringDType("utf8"), shape, strings: leaves as string[] };
	if (leaves.every((l) => typeof l === "boolean"))
		return {
			dtype: B1,
			shape,
			bytes: Uint8Array.from(leaves as boolean[], (b) => (b ? 1 : 0)),
		};
	if (leaves.every((l) => typeof l === "number" || typeof l === "bigint")) {
		const integral = leaves.every(
			(l) =>
				typeof l === "bigint" || (Number.isSafeInteger(l) && !Object.is(l, -0)),
		);
		if (integral) {
			const out = new BigInt64Array(leaves.length);
			leaves.forEach((l, i) => {
				out[i] = BigInt.asIntN(64, BigInt(l as number | bigint));
			});
			return { dtype: I8, shape, bytes: new Uint8Array(out.buffer) };
		}
		if (leaves.some((l) => typeof l === "bigint")) {
			throw new UnsupportedError(
				`attribute ${JSON.stringify(name)}: cannot mix bigint and fractional numbers`,
				{ adapter: ADAPTER },
			);
		}
		return {
			dtype: F8,
			shape,
			bytes: new Uint8Array(Float64Array.from(leaves as number[]).buffer),
		};
	}
	throw new UnsupportedError(
		`attribute ${JSON.stringify(name)}: lists must hold one kind of value (strings, booleans or numbers)`,
		{ adapter: ADAPTER },
	);
}

function nest(
	leaves: readonly AttrValue[],
	shape: readonly number[],
): AttrValue {
	if (shape.length === 0) return leaves[0] ?? null;
	if (shape.length === 1) return [...leaves];
	const [d0, ...rest] = shape as [number, ...number[]];
	const step = shapeSize(rest);
	const out: AttrValue[] = [];
	for (let i = 0; i < d0; i++)
		out.push(nest(leaves.slice(i * step, (i + 1) * step), rest));
	return out;
}

/** The plain value of string attributes. */
export function stringsValue(
	strings: readonly string[],
	shape: readonly number[],
): AttrValue {
	return nest(strings, shape);
}

/**
 * The value of a fixed-size attribute, given little-endian bytes and the native dtype: a plain
 * value when that round-trips exactly, else `ArrayData`.
 */
export function bytesValue(
	dtype: DType,
	shape: readonly number[],
	bytes: Uint8Array,
): AttrValue {
	const data = makeArrayData(dtype, shape, bytes);
	const n = shapeSize(shape);
	if (n === 0) return dtype.str === "<f8" ? nest([], shape) : data;
	let leaves: AttrValue[] | null = null;
	if (dtype.str === "|b1" && !dtype.fields)
		leaves = Array.from(bytes, (b) => b !== 0);
	else if (dtype.str === "<f8" && !dtype.fields) {
		const f = data.data as Float64Array;
		// Integral doubles would come back as int64: keep them typed.
		if (!f.every((x) => Number.isSafeInteger(x) && !Object.is(x, -0)))
			leaves = Array.from(f);
	} else if (dtype.str === "<i8" && !dtype.fields) {
		leaves = Array.from(data.data as BigInt64Array, (x) =>
			x >= BigInt(Number.MIN_SAFE_INTEGER) &&
			x <= BigInt(Number.MAX_SAFE_INTEGER)
				? Number(x)
				: x,
		);
	}
	if (leaves === null) return data;
	return nest(leaves, shape);
}
