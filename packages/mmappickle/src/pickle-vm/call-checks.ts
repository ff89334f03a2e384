/**
 * Checks shared by the data-only handlers: refusing a call outside its allowed shape, the
 * shape, dtype and flag arguments that describe arrays, payload sizes, and the stored layout
 * of C- and F-order arrays.
 */
import {
	type DType,
	ForbiddenGlobalError,
	MalformedError,
	SizeMismatchError,
	shapeSize,
} from "@arraystore/core";
import { dtypeFromTypestr } from "./numpy-dtype.js";
import {
	ArrayRef,
	type DataRef,
	DTypeValue,
	Pending,
	PyBytes,
	PyGlobal,
	PyTuple,
	type PyValue,
} from "./values.js";

/** Largest inline buffer a handler may allocate (broadcast masks, latin-1 payloads). */
export const MAX_HANDLER_ALLOC: number = 64 * 1024 * 1024;

/** A `ForbiddenGlobalError` naming `g` and why its call shape is not allowed. */
export function refuse(g: PyGlobal, why: string): never {
	throw new ForbiddenGlobalError(
		`pickle global ${g.name} used outside its allowed call shape: ${why}`,
		{ global: g.name },
	);
}

/** Shape from a tuple of non-negative ints (with a size check). */
export function shapeOf(v: PyValue, allowInt = false): number[] {
	const items =
		v instanceof PyTuple
			? v.items
			: allowInt && typeof v === "number"
				? [v]
				: null;
	if (items === null) throw new MalformedError("array shape is not a tuple");
	if (items.length > 64)
		throw new MalformedError(`array of ${items.length} dimensions`);
	const dims: number[] = [];
	for (const d of items) {
		if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0)
			throw new MalformedError(
				"array shape holds a negative or non-integer dimension",
			);
		dims.push(d);
	}
	if (!Number.isSafeInteger(shapeSize(dims)))
		throw new MalformedError("array shape is too large");
	return dims;
}

/** The dtype of a dtype value (null for object), building pending dtypes with their defaults. */
export function dtypeOfValue(v: PyValue): DType | null {
	if (v instanceof DTypeValue) return v.dtype;
	if (isPendingDType(v))
		return dtypeFromTypestr((v as Pending).args[0] as string).dtype;
	throw new MalformedError("expected a numpy dtype");
}

/** An array state's `is_fortran` flag (`what` names the state in the error). */
export function fortranFlag(v: PyValue, what: string): boolean {
	if (!isFlag(v)) throw new MalformedError(`${what}: is_fortran is not a bool`);
	return v === true || v === 1;
}

/** Checks that a payload holds exactly `expected` bytes. */
export function checkSize(data: DataRef, expected: number, what: string): void {
	const n = data instanceof PyBytes ? data.bytes.length : data.length;
	if (n !== expected)
		throw new SizeMismatchError(
			`${what}: payload holds ${n} bytes, shape × itemsize is ${expected}`,
		);
}

/** The stored (C-order) shape and axis order of an array of `dims`; F order reverses both. */
export function storedLayout(
	dims: readonly number[],
	fortran: boolean,
): { readonly shape: number[]; readonly perm: number[] } {
	const n = dims.length;
	return fortran
		? {
				shape: [...dims].reverse(),
				perm: Array.from({ length: n }, (_, i) => n - 1 - i),
			}
		: { shape: [...dims], perm: Array.from({ length: n }, (_, i) => i) };
}

/** An array of `dims` over `data`, stored in C or F order. */
export function arrayRef(
	dtype: DType,
	dims: readonly number[],
	fortran: boolean,
	data: DataRef,
): ArrayRef {
	const { shape, perm } = storedLayout(dims, fortran);
	return new ArrayRef(dtype, shape, perm, data);
}

/** A global of the ndarray or MaskedArray class. */
export function isClass(
	v: PyValue,
	kind: "ndarray-class" | "masked-class",
): boolean {
	return v instanceof PyGlobal && v.entry.kind === kind;
}

/** A `numpy.dtype(...)` call still waiting for its BUILD state. */
export function isPendingDType(v: PyValue): boolean {
	return v instanceof Pending && v.kind === "dtype";
}

/** The typecode `'b'` (as str or bytes) of `_reconstruct` calls. */
export function isTypecodeB(v: PyValue): boolean {
	return (
		v === "b" ||
		(v instanceof PyBytes && v.bytes.length === 1 && v.bytes[0] === 0x62)
	);
}

/** A bool or 0/1, as pickled flags are. */
export function isFlag(v: PyValue): boolean {
	return typeof v === "boolean" || v === 0 || v === 1;
}
