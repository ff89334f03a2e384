/**
 * Plain Python values as attribute values (architecture.md §4.1 `AttrValue`): None → null,
 * bool, int (number or bigint), float → number, str, list/tuple/set → arrays, dict → object
 * (keys as strings), complex → [re, im], bytes → a `|u1` ArrayData, numpy arrays and scalars →
 * ArrayData (native byte order, C order), object arrays → nested lists.
 */
import {
	type ArrayData,
	type AttrValue,
	copyElements,
	type DType,
	isBigEndian,
	LimitExceededError,
	MalformedError,
	makeArrayData,
	parseDType,
	stridesOf,
	swapInPlace,
	withByteOrder,
} from "@arraystore/core";
import {
	ArrayRef,
	ByteRange,
	type DataRef,
	DTypeValue,
	MaskedArrayRef,
	ObjectArrayRef,
	Pending,
	PyBytes,
	PyComplex,
	PyDict,
	PyFloat,
	PyGlobal,
	PySet,
	PyTuple,
	type PyValue,
} from "./pickle-vm/values.js";
import { keyName } from "./tree.js";

/** Reads the bytes behind a data reference. */
export type ReadData = (ref: DataRef) => Promise<Uint8Array>;

/** Limits of one conversion. */
const MAX_NODES = 1_000_000;
const MAX_DEPTH = 200;
/** Largest array or bytes value read into an attribute. */
export const MAX_ATTR_BYTES: number = 64 * 1024 * 1024;

/** Converts a decoded value into an attribute value. */
export async function toAttr(v: PyValue, read: ReadData): Promise<AttrValue> {
	const budget = { nodes: 0 };
	return convert(v, read, budget, 0);
}

async function convert(
	v: PyValue,
	read: ReadData,
	budget: { nodes: number },
	depth: number,
): Promise<AttrValue> {
	if (++budget.nodes > MAX_NODES)
		throw new LimitExceededError(
			`pickle value has more than ${MAX_NODES} parts`,
		);
	if (depth > MAX_DEPTH)
		throw new LimitExceededError(
			"pickle value nested too deeply (or self-referencing)",
		);
	if (
		v === null ||
		typeof v === "boolean" ||
		typeof v === "number" ||
		typeof v === "bigint" ||
		typeof v === "string"
	)
		return v;
	if (v instanceof PyFloat) return v.value;
	if (v instanceof PyComplex) return [v.re, v.im];
	const list = async (items: readonly PyValue[]): Promise<AttrValue[]> => {
		const out: AttrValue[] = [];
		for (const x of items) out.push(await convert(x, read, budget, depth + 1));
		return out;
	};
	if (Array.isArray(v)) return list(v);
	if (v instanceof PyTuple) return list(v.items);
	if (v instanceof PySet) return list([...v.items.values()]);
	if (v instanceof PyDict) {
		const out: Record<string, AttrValue> = {};
		for (const [k, x] of v.entries.values())
			out[keyName(k)] = await convert(x, read, budget, depth + 1);
		return out;
	}
	if (v instanceof PyBytes || v instanceof ByteRange) {
		const n = v instanceof PyBytes ? v.bytes.length : v.length;
		if (n > MAX_ATTR_BYTES)
			throw new LimitExceededError(
				`bytes value of ${n} bytes is too large for an attribute`,
			);
		const bytes = new Uint8Array(n);
		bytes.set(await read(v));
		return makeArrayData(parseDType("|u1") as DType, [n], bytes) as ArrayData;
	}
	if (v instanceof ArrayRef) return arrayData(v, read);
	if (v instanceof MaskedArrayRef) {
		return {
			data: await arrayData(v.data, read),
			mask: await arrayData(v.mask, read),
			fill_value: await convert(v.fillValue, read, budget, depth + 1),
		};
	}
	if (v instanceof ObjectArrayRef) return objectArray(v, await list(v.values));
	if (v instanceof DTypeValue) return v.dtype === null ? "|O" : v.dtype.str;
	if (v instanceof PyGlobal) return v.name;
	if (v instanceof Pending)
		throw new MalformedError(
			`pickle value holds an incomplete ${v.kind} object`,
		);
	throw new MalformedError("pickle value of an unknown kind");
}

/** An array's logical elements, C order and native byte order. */
export async function arrayData(
	ref: ArrayRef,
	read: ReadData,
): Promise<ArrayData> {
	if (ref.nbytes > MAX_ATTR_BYTES)
		throw new LimitExceededError(
			`array of ${ref.nbytes} bytes is too large for an attribute`,
		);
	const stored = await read(ref.data);
	const out = new Uint8Array(new ArrayBuffer(ref.nbytes));
	if (ref.order === "C" || ref.shape.length < 2)
		out.set(stored.subarray(0, ref.nbytes));
	else {
		const sStrides = stridesOf(ref.storedShape, "C");
		copyElements(
			{
				bytes: stored,
				base: 0,
				strides: ref.perm.map((p) => sStrides[p] as number),
			},
			{ bytes: out, base: 0, strides: stridesOf(ref.shape, "C") },
			ref.shape,
			ref.dtype.itemsize,
		);
	}
	if (isBigEndian(ref.dtype)) swapInPlace(ref.dtype, out);
	return makeArrayData(withByteOrder(ref.dtype, "native"), ref.shape, out);
}

function objectArray(v: ObjectArrayRef, flat: AttrValue[]): AttrValue {
	const shape = v.shape;
	if (shape.length === 0) return flat[0] ?? null;
	// The state list follows memory order: F order when is_fortran.
	const strides = stridesOf(shape, v.fortran ? "F" : "C");
	const build = (dim: number, base: number): AttrValue[] => {
		const out: AttrValue[] = [];
		for (let i = 0; i < (shape[dim] as number); i++) {
			const at = base + i * (strides[dim] as number);
			out.push(
				dim === shape.length - 1 ? (flat[at] ?? null) : build(dim + 1, at),
			);
		}
		return out;
	};
	return build(0, 0);
}
