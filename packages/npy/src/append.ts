/**
 * Appending to an `.npy` file, so a stream of unknown length can be written block by block.
 * C-order files grow along axis 0 (numpy users' `np.concatenate(axis=0)` and what
 * npy-append-array does); F-order files grow along their last axis, which is where numpy's
 * growth padding leaves room (`GROWTH_AXIS` is `shape[-1]` for `fortran_order`) and the only
 * axis whose growth does not move existing data.
 */
import { access } from "node:fs/promises";
import {
	type ArrayData,
	type DType,
	DTypeMismatchError,
	nativeToStored,
	ShapeMismatchError,
	sameLayout,
	UnsupportedDTypeError,
	UnsupportedError,
} from "@arraystore/core";
import {
	createNpy,
	NPY_ADAPTER,
	type NpyDriver,
	openNpy,
} from "./npy-driver.js";
import { checkNpyDType, type NpyReadTuning } from "./options.js";

/** Options of {@link appendNpy}. */
export interface AppendNpyOptions extends NpyReadTuning {
	/**
	 * When the file does not exist, create it with this stored dtype (same layout as the data;
	 * default: the data's dtype). false: a missing file is a NotFoundError.
	 */
	readonly create?: boolean;
	/** Stored dtype of a file created here (e.g. big-endian); must have the data's layout. */
	readonly dtype?: DType;
	readonly signal?: AbortSignal;
}

/**
 * Appends `data` (C order, native byte order, as `read()` returns it) to an `.npy` file along
 * its growth axis: axis 0 for C-order files, the last axis for F-order files. The other
 * dimensions must match. The shape is rewritten in place inside the header's padding; when it
 * no longer fits, the header is rewritten and the data moved. Creates the file when missing.
 * @returns the new shape.
 * @throws {ShapeMismatchError} other dimensions differ, or a 0-d file.
 * @throws {DTypeMismatchError} the data's layout differs from the file's dtype.
 */
export async function appendNpy<D extends DType>(
	path: string,
	data: ArrayData<D>,
	options: AppendNpyOptions = {},
): Promise<readonly number[]> {
	const details = { target: path, adapter: NPY_ADAPTER };
	const stored = options.dtype ?? data.dtype;
	if (!sameLayout(stored, data.dtype))
		throw new DTypeMismatchError(
			`data of ${data.dtype.str} cannot be stored as ${stored.str}`,
			details,
		);
	let driver: NpyDriver;
	if (options.create !== false && !(await exists(path))) {
		const support = checkNpyDType(stored);
		if (!support.ok)
			throw new UnsupportedDTypeError(
				`npy cannot store ${stored.str}: ${support.reason}`,
				{ ...details, dtype: stored.str, format: NPY_ADAPTER },
			);
		if (data.shape.length === 0)
			throw new ShapeMismatchError(
				"cannot append a 0-d value; give it a leading axis",
				details,
			);
		driver = await createNpy(path, {
			...options,
			dtype: stored,
			shape: data.shape,
			exclusive: true,
		});
		try {
			await driver.write(
				{ start: data.shape.map(() => 0), shape: data.shape },
				nativeToStored(data.bytes, data.shape, stored, "C"),
				options.signal,
			);
			await driver.flush();
		} finally {
			await driver.close();
		}
		return driver.header.shape;
	}
	driver = await openNpy(path, { ...options, mode: "r+" });
	try {
		const h = driver.header;
		if (!sameLayout(h.dtype, data.dtype))
			throw new DTypeMismatchError(
				`the file holds ${h.dtype.str}; cannot append ${data.dtype.str}`,
				details,
			);
		if (h.shape.length === 0)
			throw new UnsupportedError("a 0-d npy file cannot grow", details);
		const axis = h.fortranOrder ? h.shape.length - 1 : 0;
		if (
			data.shape.length !== h.shape.length ||
			data.shape.some((d, i) => i !== axis && d !== h.shape[i])
		) {
			throw new ShapeMismatchError(
				`cannot append shape [${data.shape}] to [${h.shape}] along axis ${axis}`,
				details,
			);
		}
		const grown = h.shape.map((d, i) =>
			i === axis ? d + (data.shape[axis] as number) : d,
		);
		const start = h.shape.map((d, i) => (i === axis ? d : 0));
		await driver.resize(grown);
		const order = h.fortranOrder ? "F" : "C";
		await driver.write(
			{ start, shape: data.shape },
			nativeToStored(data.bytes, data.shape, h.dtype, order),
			options.signal,
		);
		await driver.flush();
		return driver.header.shape;
	} finally {
		await driver.close();
	}
}

// --- internal ---

async function exists(path: string): Promise<boolean> {
	try {
		await access(path);
		return true;
	} catch {
		return false;
	}
}
