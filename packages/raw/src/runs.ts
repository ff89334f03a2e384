/**
 * Box geometry of a contiguous (C or F order) array region: the box is walked as a sequence of
 * maximal contiguous byte runs in the file, in the box's own storage order, so the bytes land in
 * the driver contract's layout (C order of the box for C storage, F order for F storage).
 */

import type { Order, Region } from "@arraystore/core";
import { InvalidSelectionError, ShapeMismatchError } from "@arraystore/core";

/**
 * A cursor over the contiguous runs of a box. After each successful `next()`,
 * `fileOffset` is where the run starts in the file and `bufOffset` where it starts in the box
 * buffer; every run has `runLength` bytes.
 */
export class RunCursor {
	/** Bytes in each run. */
	readonly runLength: number;
	/** Number of runs. */
	readonly count: number;
	/** File offset of the first run. */
	readonly first: number;
	/** Runs along each outer dimension (last fastest); their product is {@link count}. */
	readonly counts: readonly number[];
	/** File byte stride of each outer dimension. */
	readonly strides: readonly number[];
	/** File offset of the current run. */
	fileOffset = 0;
	/** Offset of the current run in the box buffer. */
	bufOffset = 0;
	#idx: number[];
	#done = 0;

	constructor(
		first: number,
		runLength: number,
		counts: readonly number[],
		strides: readonly number[],
	) {
		this.runLength = runLength;
		this.first = first;
		this.counts = counts;
		this.strides = strides;
		this.#idx = new Array<number>(counts.length).fill(0);
		let count = 1;
		for (const c of counts) count *= c;
		this.count = runLength === 0 ? 0 : count;
	}

	/** Advances to the next run; false when every run has been visited. */
	next(): boolean {
		if (this.#done >= this.count) return false;
		if (this.#done === 0) {
			this.fileOffset = this.first;
			this.bufOffset = 0;
		} else {
			// Odometer over the outer dimensions, last one fastest.
			let d = this.counts.length - 1;
			for (;;) {
				const i = (this.#idx[d] as number) + 1;
				const stride = this.strides[d] as number;
				if (i < (this.counts[d] as number)) {
					this.#idx[d] = i;
					this.fileOffset += stride;
					break;
				}
				this.fileOffset -= (i - 1) * stride;
				this.#idx[d] = 0;
				d--;
			}
			this.bufOffset += this.runLength;
		}
		this.#done++;
		return true;
	}

	/** File offset one past the last byte of the last run (the box's file span is [first, end)). */
	get end(): number {
		let last = this.first;
		for (let d = 0; d < this.counts.length; d++)
			last += ((this.counts[d] as number) - 1) * (this.strides[d] as number);
		return last + this.runLength;
	}

	/** Byte stride of each outer dimension in the box buffer (the runs lie back to back there). */
	bufStrides(): number[] {
		const out = new Array<number>(this.counts.length);
		let acc = this.runLength;
		for (let d = this.counts.length - 1; d >= 0; d--) {
			out[d] = acc;
			acc *= this.counts[d] as number;
		}
		return out;
	}

	/** An independent cursor in the same position (for a second pass over a span of runs). */
	clone(): RunCursor {
		const c = new RunCursor(
			this.first,
			this.runLength,
			this.counts,
			this.strides,
		);
		c.#idx = [...this.#idx];
		c.#done = this.#done;
		c.fileOffset = this.fileOffset;
		c.bufOffset = this.bufOffset;
		return c;
	}
}

/** Number of elements of a shape (1 for 0-d). */
export function elementCount(shape: readonly number[]): number {
	let n = 1;
	for (const d of shape) n *= d;
	return n;
}

/**
 * Checks that `region` is a step-1 box inside `shape` and that `bytes` holds exactly its
 * elements; returns the box's byte length.
 */
export function checkRegion(
	shape: readonly number[],
	itemsize: number,
	region: Region,
	bytes: number,
	target: string,
): number {
	const n = shape.length;
	if (region.start.length !== n || region.shape.length !== n) {
		throw new InvalidSelectionError(
			`region has ${region.start.length} dimensions, the array has ${n}`,
			{ target, adapter: "raw" },
		);
	}
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
				{
					target,
					adapter: "raw",
				},
			);
		}
	}
	const expected = elementCount(region.shape) * itemsize;
	if (bytes !== expected) {
		throw new ShapeMismatchError(
			`region needs ${expected} bytes, got ${bytes}`,
			{ target, adapter: "raw" },
		);
	}
	return expected;
}

/**
 * The runs of `region` inside an array of `shape` stored in `order` at file offset `base`.
 * The innermost dimensions the box covers completely merge with the first partial one into one
 * run, so a slab of whole rows is a single copy.
 */
export function regionRuns(
	shape: readonly number[],
	order: Order,
	itemsize: number,
	base: number,
	region: Region,
): RunCursor {
	// F order is C order of the reversed axes; the box bytes are then in F order of the box.
	const s = order === "C" ? shape : [...shape].reverse();
	const b = order === "C" ? region.start : [...region.start].reverse();
	const c = order === "C" ? region.shape : [...region.shape].reverse();
	const n = s.length;
	if (n === 0) return new RunCursor(base, itemsize, [], []);
	const strides = new Array<number>(n);
	let acc = itemsize;
	for (let d = n - 1; d >= 0; d--) {
		strides[d] = acc;
		acc *= s[d] as number;
	}
	let first = base;
	for (let d = 0; d < n; d++)
		first += (b[d] as number) * (strides[d] as number);
	for (const x of c) if (x === 0) return new RunCursor(first, 0, [], []);
	let j = n - 1;
	let elems = c[j] as number;
	while (j > 0 && c[j] === s[j]) {
		j--;
		elems *= c[j] as number;
	}
	return new RunCursor(
		first,
		elems * itemsize,
		c.slice(0, j),
		strides.slice(0, j),
	);
}
