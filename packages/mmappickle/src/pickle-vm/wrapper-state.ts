/**
 * The BUILD state of joblib's NumpyArrayWrapper (formats.md §6.7): a dict of exactly known
 * keys naming the array's class, shape, order and dtype, whose bytes follow in the stream.
 */
import {
	type DType,
	ForbiddenGlobalError,
	MalformedError,
} from "@arraystore/core";
import {
	dtypeOfValue,
	isClass,
	isPendingDType,
	shapeOf,
} from "./call-checks.js";
import {
	DTypeValue,
	dictGet,
	PyDict,
	PyGlobal,
	type PyValue,
	strOf,
} from "./values.js";

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
