/**
 * The data-only handlers behind REDUCE, NEWOBJ and BUILD (formats.md §6.8). Each checks the
 * exact call shape its allowlist row permits and returns data; a call outside those shapes is
 * a `ForbiddenGlobalError` naming the global. Nothing is ever called.
 */
import {
	type DType,
	type Field,
	ForbiddenGlobalError,
	MalformedError,
	parseDType,
	SizeMismatchError,
	structured,
	subarrayOf,
	UnsupportedDTypeError,
} from "@arraystore/core";
import { parseMmappickleDType } from "../mmappickle/dtype-string.js";
import { dtypeFromState, dtypeFromTypestr } from "./numpy-dtype.js";
import {
	ArrayRef,
	ByteRange,
	type DataRef,
	DTypeValue,
	dictGet,
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
	strOf,
} from "./values.js";

/** Largest inline buffer a handler may allocate (broadcast masks, latin-1 payloads). */
const MAX_HANDLER_ALLOC = 64 * 1024 * 1024;

function refuse(g: PyGlobal, why: string): never {
	throw new ForbiddenGlobalError(
		`pickle global ${g.name} used outside its allowed call shape: ${why}`,
		{ global: g.name },
	);
}

/** `callable(*args)` for REDUCE (and INST/OBJ, which are calls too). */
export function applyReduce(callable: PyValue, args: PyValue): PyValue {
	if (!(callable instanceof PyGlobal))
		throw new MalformedError(
			"REDUCE on something that is not an allowed global",
		);
	if (!(args instanceof PyTuple)) refuse(callable, "arguments are not a tuple");
	const a = args.items;
	const g = callable;
	switch (g.entry.kind) {
		case "reconstruct": {
			const [cls, shape, typecode] = a;
			if (a.length !== 3 || !isClass(cls ?? null, "ndarray-class"))
				refuse(g, "expected (ndarray class, (0,), b'b')");
			if (
				!(shape instanceof PyTuple) ||
				shape.items.length !== 1 ||
				shape.items[0] !== 0
			)
				refuse(g, "expected shape (0,)");
			if (!isTypecodeB(typecode ?? null)) refuse(g, "expected typecode 'b'");
			return new Pending("reconstruct", [cls ?? null]);
		}
		case "dtype": {
			const [typestrValue, align, copy] = a;
			const typestr = strOf(typestrValue);
			if (
				a.length < 1 ||
				a.length > 3 ||
				typestr === null ||
				!isFlag(align ?? false) ||
				!isFlag(copy ?? true)
			) {
				refuse(g, "expected (typestr, align, copy)");
			}
			return new Pending("dtype", [typestr]);
		}
		case "scalar": {
			const [dt, data] = a;
			if (
				a.length !== 2 ||
				!(dt instanceof DTypeValue || isPendingDType(dt ?? null))
			)
				refuse(g, "expected (dtype, bytes)");
			const dtype = dtypeOfValue(dt ?? null);
			if (dtype === null)
				throw new UnsupportedDTypeError(
					"object-dtype numpy scalars hold Python objects",
					{ dtype: "|O" },
				);
			if (!(data instanceof PyBytes || data instanceof ByteRange))
				refuse(g, "expected (dtype, bytes)");
			checkSize(data, dtype.itemsize, "numpy scalar");
			return new ArrayRef(dtype, [], [], data);
		}
		case "frombuffer":
			return frombuffer(g, a);
		case "mareconstruct": {
			const [cls, base, shape, typecode] = a;
			if (
				a.length !== 4 ||
				!isClass(cls ?? null, "masked-class") ||
				!isClass(base ?? null, "ndarray-class")
			)
				refuse(g, "expected (MaskedArray, ndarray, (0,), 'b')");
			if (
				!(shape instanceof PyTuple) ||
				shape.items.length !== 1 ||
				shape.items[0] !== 0 ||
				!isTypecodeB(typecode ?? null)
			)
				refuse(g, "expected (MaskedArray, ndarray, (0,), 'b')");
			return new Pending("mareconstruct", []);
		}
		case "masked-class": {
			// mmappickle: MaskedArray(data, mask) with two complete arrays.
			const [data, mask] = a;
			if (
				a.length !== 2 ||
				!(data instanceof ArrayRef) ||
				!(mask instanceof ArrayRef)
			)
				refuse(g, "expected (ndarray, bool ndarray)");
			return new MaskedArrayRef(data, broadcastMask(mask, data), null);
		}
		case "fromstring": {
			const [data, dt] = a;
			if (
				a.length !== 2 ||
				!(data instanceof PyBytes || data instanceof ByteRange) ||
				typeof dt !== "string"
			)
				refuse(g, "expected (bytes, dtype string)");
			return new Pending("fromstring", [data, dt]);
		}
		case "reshape": {
			const [inner, shape] = a;
			if (
				a.length !== 2 ||
				!(inner instanceof Pending) ||
				inner.kind !== "fromstring"
			)
				refuse(g, "only reshape(fromstring(bytes, dtype), shape) is allowed");
			const [data, dt] = inner.args as [DataRef, string];
			const dims = shapeOf(shape ?? null, true);
			const dtype = parseMmappickleDType(dt);
			checkSize(data, count(dims) * dtype.itemsize, "mmappickle array");
			return new ArrayRef(dtype, dims, identity(dims.length), data);
		}
		case "codecs-encode": {
			const [text, enc] = a;
			if (a.length !== 2 || typeof text !== "string" || enc !== "latin1")
				refuse(g, "expected (str, 'latin1')");
			return new PyBytes(latin1(g, text));
		}
		case "bytes":
			if (a.length !== 0) refuse(g, "only bytes() is allowed");
			return new PyBytes(new Uint8Array(0));
		case "bytearray": {
			const [x, enc] = a;
			if (a.length === 0) return new PyBytes(new Uint8Array(0), true);
			if (a.length === 1 && x instanceof PyBytes)
				return new PyBytes(x.bytes.slice(), true);
			if (a.length === 2 && typeof x === "string" && enc === "latin1")
				return new PyBytes(latin1(g, x), true);
			return refuse(g, "expected (bytes) or (str, 'latin1')");
		}
		case "complex": {
			const [re, im] = a;
			const num = (v: PyValue | undefined): number | null =>
				v === undefined
					? 0
					: v instanceof PyFloat
						? v.value
						: typeof v === "number"
							? v
							: null;
			const r = num(re);
			const i = num(im);
			if (a.length < 1 || a.length > 2 || r === null || i === null)
				refuse(g, "expected (re, im)");
			return new PyComplex(r, i);
		}
		case "set":
		case "frozenset": {
			const s = new PySet(g.entry.kind === "frozenset");
			const [items] = a;
			if (a.length === 0) return s;
			if (a.length !== 1 || !Array.isArray(items))
				refuse(g, "expected (list,)");
			try {
				for (const item of items) s.add(item);
			} catch (err) {
				throw new MalformedError("pickle: unhashable set item", { cause: err });
			}
			return s;
		}
		case "ordereddict":
			if (a.length !== 0) refuse(g, "only OrderedDict() is allowed");
			return new PyDict();
		default:
			return refuse(g, "it is not callable");
	}
}

/** NEWOBJ `cls.__new__(cls, *args)`: only joblib's wrapper and OrderedDict. */
export function applyNewObj(cls: PyValue, args: PyValue): PyValue {
	if (!(cls instanceof PyGlobal))
		throw new MalformedError(
			"NEWOBJ on something that is not an allowed global",
		);
	if (!(args instanceof PyTuple) || args.items.length !== 0)
		refuse(cls, "expected no arguments");
	if (cls.entry.kind === "joblib-wrapper") return new Pending("wrapper", []);
	if (cls.entry.kind === "ordereddict") return new PyDict();
	if (cls.entry.kind === "set" || cls.entry.kind === "frozenset")
		return new PySet(cls.entry.kind === "frozenset");
	return refuse(cls, "NEWOBJ is not allowed");
}

/** BUILD `obj.__setstate__(state)` for the pending objects that accept it. */
export function applyBuild(obj: PyValue, state: PyValue): PyValue {
	if (!(obj instanceof Pending)) {
		if (obj instanceof PyDict && state === null) return obj;
		throw new MalformedError(
			"BUILD on an object that was not made by an allowed constructor",
		);
	}
	switch (obj.kind) {
		case "dtype":
			return dtypeFromState(obj.args[0] as string, state);
		case "reconstruct":
			return reconstructState(state);
		case "mareconstruct":
			return maskedState(state);
		default:
			throw new MalformedError(`BUILD is not allowed here (${obj.kind})`);
	}
}

/** The validated state dict of joblib's NumpyArrayWrapper (formats.md §6.7). */
export interface WrapperState {
	readonly dtype: DType | null;
	readonly shape: readonly number[];
	readonly order: "C" | "F";
	/** 16 when a pad byte precedes the data, null when the key is present but None, undefined when absent. */
	readonly alignment: number | null | undefined;
}

/** Checks a NumpyArrayWrapper BUILD state. */
export function wrapperState(state: PyValue): WrapperState {
	if (!(state instanceof PyDict))
		throw new MalformedError("joblib NumpyArrayWrapper state is not a dict");
	const get = (k: string): PyValue | undefined => dictGet(state, k);
	for (const [, [key]] of state.entries) {
		const k = strOf(key);
		if (
			k === null ||
			![
				"subclass",
				"shape",
				"order",
				"dtype",
				"allow_mmap",
				"numpy_array_alignment_bytes",
			].includes(k)
		) {
			throw new MalformedError(
				`joblib NumpyArrayWrapper state has an unknown key ${JSON.stringify(String(k ?? key)).slice(0, 80)}`,
			);
		}
	}
	const subclass = get("subclass");
	if (!isClass(subclass ?? null, "ndarray-class")) {
		if (subclass instanceof PyGlobal)
			throw new ForbiddenGlobalError(
				`joblib subclass ${subclass.name} is not an ndarray class`,
				{ global: subclass.name },
			);
		throw new MalformedError(
			"joblib NumpyArrayWrapper: subclass is not an allowed ndarray class",
		);
	}
	const shape = shapeOf(get("shape") ?? null, true);
	const order = strOf(get("order"));
	if (order !== "C" && order !== "F")
		throw new MalformedError(
			"joblib NumpyArrayWrapper: order must be 'C' or 'F'",
		);
	const dt = get("dtype");
	if (!(dt instanceof DTypeValue || isPendingDType(dt ?? null)))
		throw new MalformedError(
			"joblib NumpyArrayWrapper: dtype is not a numpy dtype",
		);
	const allow = get("allow_mmap");
	if (allow !== undefined && typeof allow !== "boolean")
		throw new MalformedError(
			"joblib NumpyArrayWrapper: allow_mmap is not a bool",
		);
	const align = get("numpy_array_alignment_bytes");
	if (align !== undefined && align !== null && align !== 16)
		throw new MalformedError(
			"joblib NumpyArrayWrapper: numpy_array_alignment_bytes must be 16 or None",
		);
	return {
		dtype: dtypeOfValue(dt ?? null),
		shape,
		order,
		alignment: align as number | null | undefined,
	};
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
	if (!Number.isSafeInteger(count(dims)))
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

// --- internal ---

function frombuffer(g: PyGlobal, a: readonly PyValue[]): ArrayRef {
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
	checkSize(buf, count(dims) * dtype.itemsize, "protocol-5 array");
	if (order === "C" && a.length === 4)
		return new ArrayRef(dtype, dims, identity(dims.length), buf);
	if (order === "F" && a.length === 4)
		return new ArrayRef(dtype, [...dims].reverse(), reversed(dims.length), buf);
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

function reconstructState(state: PyValue): ArrayRef | ObjectArrayRef {
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
	if (!isFlag(fortran))
		throw new MalformedError("ndarray state: is_fortran is not a bool");
	const isF = fortran === true || fortran === 1;
	if (dtype === null) {
		if (!Array.isArray(raw))
			throw new MalformedError("object ndarray state: data is not a list");
		if (raw.length !== count(dims))
			throw new SizeMismatchError(
				`object ndarray of shape (${dims.join(", ")}) holds ${raw.length} elements`,
			);
		return new ObjectArrayRef(dims, isF, raw);
	}
	if (!(raw instanceof PyBytes || raw instanceof ByteRange))
		throw new MalformedError("ndarray state: data is not bytes");
	checkSize(raw, count(dims) * dtype.itemsize, "ndarray");
	return isF && dims.length > 1
		? new ArrayRef(dtype, [...dims].reverse(), reversed(dims.length), raw)
		: new ArrayRef(dtype, dims, identity(dims.length), raw);
}

function maskedState(state: PyValue): MaskedArrayRef {
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
	if (!isFlag(fortran))
		throw new MalformedError("MaskedArray state: is_fortran is not a bool");
	if (
		!(data instanceof PyBytes || data instanceof ByteRange) ||
		!(mask instanceof PyBytes || mask instanceof ByteRange)
	)
		throw new MalformedError("MaskedArray state: data or mask is not bytes");
	const maskType = maskDType(dtype);
	checkSize(data, count(dims) * dtype.itemsize, "masked array data");
	checkSize(mask, count(dims) * maskType.itemsize, "masked array mask");
	const isF = (fortran === true || fortran === 1) && dims.length > 1;
	const stored = isF ? [...dims].reverse() : dims;
	const perm = isF ? reversed(dims.length) : identity(dims.length);
	return new MaskedArrayRef(
		new ArrayRef(dtype, stored, perm, data),
		new ArrayRef(maskType, stored, perm, mask),
		fill,
	);
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

function broadcastMask(mask: ArrayRef, data: ArrayRef): ArrayRef {
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
	const n = count(data.shape);
	if (n > MAX_HANDLER_ALLOC)
		throw new MalformedError(
			"masked array too large to broadcast its 0-d mask",
		);
	const bytes = new Uint8Array(n).fill(mask.data.bytes[0] ?? 0);
	return new ArrayRef(
		mask.dtype,
		[...data.shape],
		identity(data.shape.length),
		new PyBytes(bytes),
	);
}

function checkSize(data: DataRef, expected: number, what: string): void {
	const n = data instanceof PyBytes ? data.bytes.length : data.length;
	if (n !== expected)
		throw new SizeMismatchError(
			`${what}: payload holds ${n} bytes, shape × itemsize is ${expected}`,
		);
}

function latin1(g: PyGlobal, text: string): Uint8Array {
	if (text.length > MAX_HANDLER_ALLOC)
		throw new MalformedError("latin-1 payload too large");
	const out = new Uint8Array(text.length);
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c > 0xff) refuse(g, "latin1 text holds a code point above 0xFF");
		out[i] = c;
	}
	return out;
}

function isClass(v: PyValue, kind: "ndarray-class" | "masked-class"): boolean {
	return v instanceof PyGlobal && v.entry.kind === kind;
}

function isPendingDType(v: PyValue): boolean {
	return v instanceof Pending && v.kind === "dtype";
}

function isTypecodeB(v: PyValue): boolean {
	return (
		v === "b" ||
		(v instanceof PyBytes && v.bytes.length === 1 && v.bytes[0] === 0x62)
	);
}

function isFlag(v: PyValue): boolean {
	return typeof v === "boolean" || v === 0 || v === 1;
}

function count(dims: readonly number[]): number {
	return dims.reduce((a, b) => a * b, 1);
}

function identity(n: number): number[] {
	return Array.from({ length: n }, (_, i) => i);
}

function reversed(n: number): number[] {
	return Array.from({ length: n }, (_, i) => n - 1 - i);
}
