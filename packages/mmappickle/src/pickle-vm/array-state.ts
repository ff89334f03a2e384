/**
 * numpy arrays from pickled state: `ndarray.__setstate__` (plain and object arrays),
 * `MaskedArray.__setstate__` with numpy's mask dtype, protocol 5's
 * `_frombuffer(buffer, dtype, shape, order)`, and old mmappickle's 0-d masks broadcast to
 * their data. Every payload is checked against shape × itemsize.
 */
import {
	type DType,
	type Field,
	MalformedError,
	parseDType,
	SizeMismatchError,
	shapeSize,
	structured,
	subarrayOf,
	UnsupportedDTypeError,
} from "@arraystore/core";
import {
	arrayRef,
	checkSize,
	dtypeOfValue,
	fortranFlag,
	isPendingDType,
	MAX_HANDLER_ALLOC,
	refuse,
	shapeOf,
	storedLayout,
} from "./call-checks.js";
import {
	ArrayRef,
	ByteRange,
	DTypeValue,
	MaskedArrayRef,
	ObjectArrayRef,
	PyBytes,
	type PyGlobal,
	PyTuple,
	type PyValue,
} from "./values.js";

/** `numpy.core.numeric._frombuffer(buffer, dtype, shape, order[, axis_order])` (protocol 5). */
export function frombuffer(g: PyGlobal, a: readonly PyValue[]): ArrayRef {
	const [buf, dt, shape, order, axes] = a;
	if (
		a.length < 4 ||
		a.length > 5 ||
		!(buf instanceof PyBytes || buf instanceof ByteRange)
	)
		refuse(g, "expected (buffer, dtype, shape, order[, axis_order])");
	if (!(dt instanceof DTypeValue || isPendingDType(dt ?? null)))
		refuse(g, "expected a dtype");
	const dtype = dtypeOfValue(dt ?? null);
	if (dtype === null)
		throw new UnsupportedDTypeError("object arrays cannot come from a buffer", {
			dtype: "|O",
		});
	const dims = shapeOf(shape ?? null, true);
	checkSize(buf, shapeSize(dims) * dtype.itemsize, "protocol-5 array");
	if ((order === "C" || order === "F") && a.length === 4)
		return arrayRef(dtype, dims, order === "F", buf);
	if (order === "K" && a.length === 5) {
		const perm = shapeOf(axes ?? null);
		if (
			perm.length !== dims.length ||
			new Set(perm).size !== perm.length ||
			perm.some((p) => p >= dims.length)
		)
			refuse(g, "axis_order is not a permutation");
		return new ArrayRef(dtype, dims, perm, buf);
	}
	return refuse(
		g,
		"order must be 'C' or 'F' (four arguments) or 'K' with an axis order",
	);
}

/** `ndarray.__setstate__((version,) shape, dtype, is_fortran, data)`. */
export function reconstructState(state: PyValue): ArrayRef | ObjectArrayRef {
	if (!(state instanceof PyTuple))
		throw new MalformedError("ndarray state is not a tuple");
	let items = state.items;
	if (items.length === 5) {
		if (items[0] !== 1)
			throw new MalformedError("ndarray state version is not 1");
		items = items.slice(1);
	} else if (items.length !== 4)
		throw new MalformedError(`ndarray state of ${items.length} items`);
	const [shapeValue, dt, fortran, raw] = items as [
		PyValue,
		PyValue,
		PyValue,
		PyValue,
	];
	const dims = shapeOf(shapeValue);
	const dtype = dtypeOfValue(dt);
	const isF = fortranFlag(fortran, "ndarray state");
	if (dtype === null) {
		if (!Array.isArray(raw))
			throw new MalformedError("object ndarray state: data is not a list");
		if (raw.length !== shapeSize(dims))
			throw new SizeMismatchError(
				`object ndarray of shape (${dims.join(", ")}) holds ${raw.length} elements`,
			);
		return new ObjectArrayRef(dims, isF, raw);
	}
	if (!(raw instanceof PyBytes || raw instanceof ByteRange))
		throw new MalformedError("ndarray state: data is not bytes");
	checkSize(raw, shapeSize(dims) * dtype.itemsize, "ndarray");
	return arrayRef(dtype, dims, isF, raw);
}

/** `MaskedArray.__setstate__((1, shape, dtype, is_fortran, data, mask, fill_value))`. */
export function maskedState(state: PyValue): MaskedArrayRef {
	if (
		!(state instanceof PyTuple) ||
		state.items.length !== 7 ||
		state.items[0] !== 1
	)
		throw new MalformedError(
			"MaskedArray state is not (1, shape, dtype, is_fortran, data, mask, fill_value)",
		);
	const [, shapeValue, dt, fortran, data, mask, fill] = state.items as [
		PyValue,
		PyValue,
		PyValue,
		PyValue,
		PyValue,
		PyValue,
		PyValue,
	];
	const dims = shapeOf(shapeValue);
	const dtype = dtypeOfValue(dt);
	if (dtype === null)
		throw new UnsupportedDTypeError(
			"object masked arrays hold Python objects",
			{ dtype: "|O" },
		);
	const isF = fortranFlag(fortran, "MaskedArray state");
	if (
		!(data instanceof PyBytes || data instanceof ByteRange) ||
		!(mask instanceof PyBytes || mask instanceof ByteRange)
	)
		throw new MalformedError("MaskedArray state: data or mask is not bytes");
	const maskType = maskDType(dtype);
	checkSize(data, shapeSize(dims) * dtype.itemsize, "masked array data");
	checkSize(mask, shapeSize(dims) * maskType.itemsize, "masked array mask");
	const { shape, perm } = storedLayout(dims, isF);
	return new MaskedArrayRef(
		new ArrayRef(dtype, shape, perm, data),
		new ArrayRef(maskType, shape, perm, mask),
		fill,
	);
}

/** mmappickle's `MaskedArray(data, mask)`: the mask as stored, or a 0-d mask broadcast. */
export function broadcastMask(mask: ArrayRef, data: ArrayRef): ArrayRef {
	if (
		mask.shape.length === data.shape.length &&
		mask.shape.every((d, i) => d === data.shape[i])
	)
		return mask;
	// mmappickle ≤ 1.0.0 stored `obj.mask`, a 0-d bool for nomask arrays.
	if (
		mask.shape.length !== 0 ||
		!(mask.data instanceof PyBytes) ||
		mask.dtype.itemsize !== 1
	)
		throw new MalformedError(
			"masked array mask does not match its data's shape",
		);
	const n = shapeSize(data.shape);
	if (n > MAX_HANDLER_ALLOC)
		throw new MalformedError(
			"masked array too large to broadcast its 0-d mask",
		);
	const bytes = new Uint8Array(n).fill(mask.data.bytes[0] ?? 0);
	return arrayRef(mask.dtype, data.shape, false, new PyBytes(bytes));
}

/** numpy's `make_mask_descr`: bool, or the same record of bools. */
function maskDType(dtype: DType): DType {
	if (dtype.fields) {
		let at = 0;
		const fields: Field[] = dtype.fields.map((f) => {
			const d = maskDType(f.dtype);
			const field = {
				name: f.name,
				offset: at,
				dtype: d,
				...(f.title !== undefined ? { title: f.title } : {}),
			};
			at += d.itemsize;
			return field;
		});
		return structured(fields, at);
	}
	if (dtype.subarray)
		return subarrayOf(maskDType(dtype.subarray.base), dtype.subarray.shape);
	return parseDType("|b1");
}
