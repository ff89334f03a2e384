/**
 * numpy basic indexing: integers (negative from the end; drop the dimension), slices with any
 * non-zero step (negative included), `null` for a whole dimension, and short lists (trailing
 * dimensions whole). Everything reduces to step-1 boxes for drivers; core gathers the rest.
 */

import type { Region } from "./driver.js";
import { InvalidSelectionError } from "./errors.js";

/** A numpy slice; omitted or null parts take numpy's defaults. */
export interface Slice {
	readonly start?: number | null;
	readonly stop?: number | null;
	readonly step?: number | null;
}

/** One index per leading dimension. */
export type Selection = readonly (number | Slice | null)[];

/** `slice(start, stop, step)` as in Python. */
export function slice(
	start?: number | null,
	stop?: number | null,
	step?: number | null,
): Slice {
	return { start: start ?? null, stop: stop ?? null, step: step ?? null };
}

/** One dimension of a resolved selection: indices `start + i*step` for `i < count`. */
export interface DimSelection {
	readonly start: number;
	readonly step: number;
	readonly count: number;
	/** An integer index: the dimension is dropped from the result. */
	readonly dropped: boolean;
}

/** A selection checked against a shape. */
export interface ResolvedSelection {
	readonly dims: readonly DimSelection[];
	/** Shape of the result (dropped dimensions removed). */
	readonly outShape: readonly number[];
	/** Shape of the result with dropped dimensions kept as 1. */
	readonly fullShape: readonly number[];
	/** Smallest step-1 box holding every selected element. */
	readonly box: Region;
	/** True when every step is 1 (the result is exactly the box). */
	readonly contiguous: boolean;
	readonly size: number;
}

/**
 * Checks `selection` against `shape` with numpy's rules.
 * @throws {InvalidSelectionError} too many indices, out-of-range integers, step 0, non-integers.
 */
export function resolveSelection(
	shape: readonly number[],
	selection: Selection = [],
): ResolvedSelection {
	if (!Array.isArray(selection))
		throw new InvalidSelectionError(
			"a selection is a list of indices, slices or null",
		);
	if (selection.length > shape.length) {
		throw new InvalidSelectionError(
			`too many indices: ${selection.length} for ${shape.length}-d array`,
		);
	}
	const dims: DimSelection[] = [];
	for (let d = 0; d < shape.length; d++)
		dims.push(resolveDim(selection[d] ?? null, shape[d] as number, d));
	const outShape: number[] = [];
	const fullShape: number[] = [];
	const start: number[] = [];
	const boxShape: number[] = [];
	let size = 1;
	let contiguous = true;
	for (const dim of dims) {
		if (!dim.dropped) outShape.push(dim.count);
		fullShape.push(dim.count);
		size *= dim.count;
		if (dim.count > 1 && dim.step !== 1) contiguous = false;
		if (dim.count === 0) {
			start.push(0);
			boxShape.push(0);
		} else {
			const last = dim.start + (dim.count - 1) * dim.step;
			start.push(Math.min(dim.start, last));
			boxShape.push(Math.abs(last - dim.start) + 1);
		}
	}
	return {
		dims,
		outShape,
		fullShape,
		box: { start, shape: boxShape },
		contiguous,
		size,
	};
}

function resolveDim(
	index: number | Slice | null,
	n: number,
	d: number,
): DimSelection {
	if (index === null) return { start: 0, step: 1, count: n, dropped: false };
	if (typeof index === "number") {
		if (!Number.isInteger(index))
			throw new InvalidSelectionError(
				`index ${index} on axis ${d} is not an integer`,
			);
		const i = index < 0 ? index + n : index;
		if (i < 0 || i >= n)
			throw new InvalidSelectionError(
				`index ${index} is out of bounds for axis ${d} with size ${n}`,
			);
		return { start: i, step: 1, count: 1, dropped: true };
	}
	if (typeof index !== "object")
		throw new InvalidSelectionError(`axis ${d}: not an index, slice or null`);
	const step = index.step ?? 1;
	if (!Number.isInteger(step))
		throw new InvalidSelectionError(
			`slice step on axis ${d} is not an integer`,
		);
	if (step === 0)
		throw new InvalidSelectionError(`slice step cannot be zero (axis ${d})`);
	for (const v of [index.start, index.stop]) {
		if (v !== null && v !== undefined && !Number.isInteger(v))
			throw new InvalidSelectionError(
				`slice bound on axis ${d} is not an integer`,
			);
	}
	// Python's slice.indices(n).
	let start: number;
	let stop: number;
	if (step > 0) {
		start = clampPos(index.start, n, 0);
		stop = clampPos(index.stop, n, n);
	} else {
		start = clampNeg(index.start, n, n - 1);
		stop = clampNeg(index.stop, n, -1);
	}
	const count =
		step > 0
			? Math.max(0, Math.ceil((stop - start) / step))
			: Math.max(0, Math.ceil((start - stop) / -step));
	return { start: count === 0 ? 0 : start, step, count, dropped: false };
}

function clampPos(
	v: number | null | undefined,
	n: number,
	dflt: number,
): number {
	if (v === null || v === undefined) return dflt;
	const x = v < 0 ? v + n : v;
	return Math.min(Math.max(x, 0), n);
}

function clampNeg(
	v: number | null | undefined,
	n: number,
	dflt: number,
): number {
	if (v === null || v === undefined) return dflt;
	const x = v < 0 ? v + n : v;
	return Math.min(Math.max(x, -1), n - 1);
}

/** A selection that is exactly one step-1 box (see {@link simpleBox}). */
export interface SimpleBox {
	readonly box: Region;
	/** Shape of the result (integer-indexed dimensions dropped). */
	readonly outShape: readonly number[];
	/** Elements in the box. */
	readonly size: number;
}

/**
 * The box of a selection made only of in-range integers, `null` and slices of step 1 (or no
 * step), with integer or absent bounds — the selections of most reads — computed in one pass
 * without {@link resolveSelection}'s per-dimension objects: small reads are dominated by this
 * bookkeeping until the JIT has warmed up. Anything else (other steps, out-of-range integers,
 * non-integers, too many indices) answers null, for the general path and its errors.
 */
export function simpleBox(
	shape: readonly number[],
	selection: Selection,
): SimpleBox | null {
	if (!Array.isArray(selection) || selection.length > shape.length) return null;
	const n = shape.length;
	const start = new Array<number>(n);
	const count = new Array<number>(n);
	const outShape: number[] = [];
	let size = 1;
	for (let d = 0; d < n; d++) {
		const len = shape[d] as number;
		const index = d < selection.length ? selection[d] : null;
		if (index === null || index === undefined) {
			start[d] = 0;
			count[d] = len;
			outShape.push(len);
			size *= len;
		} else if (typeof index === "number") {
			if (!Number.isInteger(index)) return null;
			const i = index < 0 ? index + len : index;
			if (i < 0 || i >= len) return null;
			start[d] = i;
			count[d] = 1;
		} else if (typeof index === "object") {
			const step = index.step;
			if (step !== null && step !== undefined && step !== 1) return null;
			const a = index.start;
			const b = index.stop;
			if (a !== null && a !== undefined && !Number.isInteger(a)) return null;
			if (b !== null && b !== undefined && !Number.isInteger(b)) return null;
			const lo = clampPos(a, len, 0);
			const c = Math.max(0, clampPos(b, len, len) - lo);
			start[d] = c === 0 ? 0 : lo;
			count[d] = c;
			outShape.push(c);
			size *= c;
		} else return null;
	}
	return { box: { start, shape: count }, outShape, size };
}

/** The selection (slices only) that addresses exactly `region`. */
export function regionToSelection(region: Region): Selection {
	return region.start.map((s, i) => ({
		start: s,
		stop: s + (region.shape[i] as number),
		step: 1,
	}));
}

/** Region size in elements. */
export function regionSize(region: Region): number {
	let n = 1;
	for (const d of region.shape) n *= d;
	return n;
}
