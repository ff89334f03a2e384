/**
 * The exact allowlist of pickle globals (formats.md §6.8). Names are matched exactly, never by
 * prefix: `numpy.testing._private.utils.runstring` lives inside numpy and runs `exec`.
 * Each entry names the one data-only handler that may apply it; the VM checks the call shape.
 */
import {
	ForbiddenGlobalError,
	UnsupportedDTypeError,
	UnsupportedError,
} from "@arraystore/core";

/** What an allowed global is, i.e. which handler may apply it and how. */
export type AllowKind =
	| "reconstruct" // _reconstruct(cls, (0,), b'b') then BUILD(state)
	| "ndarray-class" // only as an argument (cls, subclass, base class)
	| "masked-class" // first argument of _mareconstruct, or mmappickle's MaskedArray(data, mask)
	| "dtype" // dtype(typestr, align, copy) then BUILD(state)
	| "scalar" // scalar(dtype, bytes)
	| "frombuffer" // _frombuffer(buf, dtype, shape, order[, axis_order])
	| "mareconstruct" // _mareconstruct(MaskedArray, ndarray, (0,), 'b') then BUILD(7-tuple)
	| "reshape" // mmappickle: reshape(fromstring(...), shape)
	| "fromstring" // mmappickle: fromstring(bytes, dtypestr)
	| "codecs-encode" // _codecs.encode(str, 'latin1')
	| "bytes" // bytes() → b''
	| "bytearray" // bytearray(bytes) or bytearray(str, 'latin1')
	| "complex" // complex(re, im)
	| "set" // set(list)
	| "frozenset" // frozenset(list)
	| "ordereddict" // OrderedDict() then SETITEMS
	| "joblib-wrapper"; // NumpyArrayWrapper: NEWOBJ () then BUILD(dict) then raw bytes

/** One allowlist row. */
export interface AllowEntry {
	readonly kind: AllowKind;
}

const e = (kind: AllowKind): AllowEntry => Object.freeze({ kind });

const ALLOWED: ReadonlyMap<string, AllowEntry> = new Map<string, AllowEntry>([
	["numpy._core.multiarray._reconstruct", e("reconstruct")],
	["numpy.core.multiarray._reconstruct", e("reconstruct")],
	["numpy.ndarray", e("ndarray-class")],
	["numpy.memmap", e("ndarray-class")],
	["numpy.matrix", e("ndarray-class")],
	["numpy.dtype", e("dtype")],
	["numpy._core.multiarray.scalar", e("scalar")],
	["numpy.core.multiarray.scalar", e("scalar")],
	["numpy._core.numeric._frombuffer", e("frombuffer")],
	["numpy.core.numeric._frombuffer", e("frombuffer")],
	["numpy.ma.core._mareconstruct", e("mareconstruct")],
	["numpy.ma.MaskedArray", e("masked-class")],
	["numpy.ma.core.MaskedArray", e("masked-class")],
	["numpy.core.fromnumeric.reshape", e("reshape")],
	["numpy.core.multiarray.fromstring", e("fromstring")],
	["_codecs.encode", e("codecs-encode")],
	["__builtin__.bytes", e("bytes")],
	["builtins.bytes", e("bytes")],
	["__builtin__.bytearray", e("bytearray")],
	["builtins.bytearray", e("bytearray")],
	["__builtin__.complex", e("complex")],
	["builtins.complex", e("complex")],
	["__builtin__.set", e("set")],
	["builtins.set", e("set")],
	["__builtin__.frozenset", e("frozenset")],
	["builtins.frozenset", e("frozenset")],
	["collections.OrderedDict", e("ordereddict")],
	["joblib.numpy_pickle.NumpyArrayWrapper", e("joblib-wrapper")],
	[
		"sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
		e("joblib-wrapper"),
	],
]);

// joblib < 0.10 kept array data in companion files beside the pickle.
const OLD_JOBLIB = new Set([
	"joblib.numpy_pickle.NDArrayWrapper",
	"joblib.numpy_pickle.ZNDArrayWrapper",
	"joblib.numpy_pickle_compat.NDArrayWrapper",
	"joblib.numpy_pickle_compat.ZNDArrayWrapper",
	"sklearn.externals.joblib.numpy_pickle.NDArrayWrapper",
	"sklearn.externals.joblib.numpy_pickle.ZNDArrayWrapper",
	"sklearn.externals.joblib.numpy_pickle_compat.NDArrayWrapper",
	"sklearn.externals.joblib.numpy_pickle_compat.ZNDArrayWrapper",
]);

const STRING_DTYPE = "numpy._core._internal._convert_to_stringdtype_kwargs";

/**
 * Resolves `module.name` against the allowlist. Refusals throw before anything is applied.
 * @throws {ForbiddenGlobalError} anything not listed (the error's `global` names it).
 * @throws {UnsupportedError} joblib < 0.10 wrappers (data in companion files).
 * @throws {UnsupportedDTypeError} numpy 2 StringDType.
 */
export function resolveGlobal(module: string, name: string): AllowEntry {
	const full = `${module}.${name}`;
	const hit = ALLOWED.get(full);
	if (hit !== undefined) return hit;
	if (OLD_JOBLIB.has(full)) {
		throw new UnsupportedError(
			`${full}: joblib < 0.10 pickles keep array data in companion files, which are not supported`,
		);
	}
	if (full === STRING_DTYPE) {
		throw new UnsupportedDTypeError(
			"numpy StringDType arrays are variable-size and cannot be read from a pickle",
			{ dtype: "StringDType" },
		);
	}
	throw new ForbiddenGlobalError(
		`pickle global ${printable(full)} is not allowed (never executed)`,
		{ global: full },
	);
}

/** The allowlisted names (for documentation and tests). */
export function allowedGlobals(): string[] {
	return [...ALLOWED.keys()];
}

function printable(s: string): string {
	return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);
}
