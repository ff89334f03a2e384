/**
 * What a dataset's header says beyond h5wasm's metadata: the numpy dtype behind h5py's tagged
 * OPAQUE types (datetime64, timedelta64) and the fill value.
 */
import {
	type DType,
	decodeElement,
	isVString,
	parseDType,
	type Scalar,
} from "@arraystore/core";
import type { H5File } from "./file-handle.js";
import { readFillBytes, readOpaqueTag } from "./header-patch.js";

// h5py stores datetime64/timedelta64 as OPAQUE tagged "NUMPY:" + dtype.str.
/** The dtype of an OPAQUE dataset h5py tagged with a numpy dtype, else `dtype`. */
export function opaqueDType(file: H5File, path: string, dtype: DType): DType {
	if (dtype.kind !== "V" || dtype.fields || dtype.subarray) return dtype;
	const tag = readOpaqueTag(file, path);
	const m =
		tag === undefined ? null : /^NUMPY:([<>|=]?[Mm]8(\[\w+\])?)$/.exec(tag);
	if (!m) return dtype;
	try {
		const parsed = parseDType(m[1] as string);
		return parsed.itemsize === dtype.itemsize ? parsed : dtype;
	} catch {
		return dtype;
	}
}

/** The dataset's fill value (null when its header could not be read or does not fit). */
export function fillValueOf(
	file: H5File,
	path: string,
	dtype: DType,
): Scalar | null {
	if (isVString(dtype)) return "";
	const bytes = readFillBytes(file, path);
	if (bytes === undefined) return null;
	if (bytes !== null && bytes.length !== dtype.itemsize) return null;
	return decodeElement(dtype, bytes ?? new Uint8Array(dtype.itemsize));
}
