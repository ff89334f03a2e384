/**
 * The contiguous byte runs of a step-1 box inside a C- or F-order array, in storage order (so
 * positions ascend and the bytes land in the driver contract's layout: C order of the box for
 * C storage, F order for F storage). Used where raw's mapped region cannot be (deflated members).
 */
import {
	InvalidSelectionError,
	type Order,
	type Region,
	ShapeMismatchError,
} from "@arraystore/core";
import type { ByteRun } from "./zip/inflate-cursor.js";

/**
 * Checks `region` against `shape` and `bytes` (its byte length), then yields its runs.
 * @throws {InvalidSelectionError} the box leaves the array.
 * @throws {ShapeMismatchError} `bytes` is not the box's size.
 */
export function boxRuns(
	shape: readonly number[],
	order: Order,
	itemsize: number,
	base: number,
	region: Region,
	bytes: number,
): Iterable<ByteRun> {
	const n = shape.length;
	if (region.start.length !== n || region.shape.length !== n)
		throw new InvalidSelectionError(
			`region has ${region.start.length} dimensions, the array has ${n}`,
		);
	let count = 1;
	for (let d = 0; d < n; d++) {
		const s = region.start[d] as number;
		const c = region.shape[d] as number;
		if (
			!Number.isSafeInteger(s) ||
			!Number.isSafeInteger(c) ||
			s < 0 ||
			c < 0 ||
			s + c > (shape[d] as number)
		) {
			throw new InvalidSelectionError(
				`region [${region.start}] + [${region.shape}] is outside shape [${shape}]`,
			);
		}
		count *= c;
	}
	if (count * itemsize !== bytes)
		throw new ShapeMismatchError(
			`region needs ${count * itemsize} bytes, got ${bytes}`,
		);
	return runs(shape, order, itemsize, base, region, count);
}

function* runs(
	shape: readonly number[],
	order: Order,
	itemsize: number,
	base: number,
	region: Region,
	count: number,
): Generator<ByteRun> {
	if (count === 0) return;
	// F order is C order of the reversed axes.
	const s = order === "C" ? shape : [...shape].reverse();
	const b = order === "C" ? region.start : [...region.start].reverse();
	const c = order === "C" ? region.shape : [...region.shape].reverse();
	const n = s.length;
	const strides = new Array<number>(n);
	let acc = itemsize;
	for (let d = n - 1; d >= 0; d--) {
		strides[d] = acc;
		acc *= s[d] as number;
	}
	let first = base;
	for (let d = 0; d < n; d++)
		first += (b[d] as number) * (strides[d] as number);
	// Merge the inner dimensions the box covers completely into one run.
	let j = n - 1;
	let elems = n === 0 ? 1 : (c[j] as number);
	while (j > 0 && c[j] === s[j]) {
		j--;
		elems *= c[j] as number;
	}
	const length = elems * itemsize;
	const outer = n === 0 ? 0 : j;
	const idx = new Array<number>(outer).fill(0);
	let position = first;
	for (let outOffset = 0; ; outOffset += length) {
		yield { position, length, outOffset };
		let d = outer - 1;
		for (; d >= 0; d--) {
			const i = (idx[d] as number) + 1;
			if (i < (c[d] as number)) {
				idx[d] = i;
				position += strides[d] as number;
				break;
			}
			position -= (i - 1) * (strides[d] as number);
			idx[d] = 0;
		}
		if (d < 0) return;
	}
}

/** Default block: contiguous slabs of about `maxBytes`, along axis 0 (C) or the last axis (F). */
export function slabShape(
	shape: readonly number[],
	itemsize: number,
	order: Order,
	maxBytes: number = 8 * 1024 * 1024,
): number[] {
	const n = shape.length;
	const block = shape.map((d) => Math.max(1, d));
	// Axes from the fastest-varying in storage to the slowest.
	const axes = [...Array(n).keys()];
	if (order === "C") axes.reverse();
	let inner = itemsize;
	for (let i = 0; i < n; i++) {
		const d = axes[i] as number;
		const extent = block[d] as number;
		if (inner * extent > maxBytes) {
			block[d] = Math.max(1, Math.min(extent, Math.floor(maxBytes / inner)));
			for (let k = i + 1; k < n; k++) block[axes[k] as number] = 1;
			break;
		}
		inner *= extent;
	}
	return block;
}
