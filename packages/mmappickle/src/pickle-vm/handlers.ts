/**
 * The data-only handlers behind REDUCE, NEWOBJ and BUILD (formats.md §6.8). Each checks the
 * exact call shape its allowlist row permits and returns data; a call outside those shapes is
 * a `ForbiddenGlobalError` naming the global. Nothing is ever called.
 */
import {
	MalformedError,
	shapeSize,
	UnsupportedDTypeError,
} from "@arraystore/core";
import { parseMmappickleDType } from "../mmappickle/dtype-string.js";
import {
	broadcastMask,
	frombuffer,
	maskedState,
	reconstructState,
} from "./array-state.js";
import {
	arrayRef,
	checkSize,
	dtypeOfValue,
	isClass,
	isFlag,
	isPendingDType,
	isTypecodeB,
	MAX_HANDLER_ALLOC,
	refuse,
	shapeOf,
} from "./call-checks.js";
import { dtypeFromState } from "./numpy-dtype.js";
import {
	ArrayRef,
	ByteRange,
	type DataRef,
	DTypeValue,
	MaskedArrayRef,
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
			checkSize(data, shapeSize(dims) * dtype.itemsize, "mmappickle array");
			return arrayRef(dtype, dims, false, data);
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

// --- internal ---

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
