/**
 * Chunk-aligned boxes of a region: the units of work handed to read workers (and of chunk
 * pre-encoding on write). Every cut falls on the dataset's chunk grid, so no chunk is decoded
 * by two workers; boxes need not be contiguous runs of the region's buffer, so bytes are moved
 * in and out with strided copies.
 */
import {
	copyElements,
	type Region,
	shapeSize,
	stridesOf,
} from "@arraystore/core";

/** One box of a region: absolute start and shape, and its start relative to the region. */
export interface ChunkBox {
	readonly start: readonly number[];
	readonly shape: readonly number[];
	/** `start - region.start`. */
	readonly offset: readonly number[];
}

/**
 * The step of the box grid along each dimension (in elements, a multiple of the chunk, or the
 * whole region): trailing dimensions whole while a box stays within `target` bytes, then as
 * many chunks as fit along the first dimension that does not, single chunks before it.
 */
export function boxSteps(
	region: Region,
	chunks: readonly number[],
	itemsize: number,
	target: number,
): number[] {
	const n = region.shape.length;
	const steps = region.shape.map((s) => Math.max(1, s));
	let inner = itemsize;
	for (let d = n - 1; d >= 0; d--) {
		// Dimensions before d will be cut into single chunks (or the region, if smaller).
		const outer = shapeSize(
			chunks
				.slice(0, d)
				.map((c, j) => Math.max(1, Math.min(c, region.shape[j] as number))),
		);
		const whole = Math.max(1, region.shape[d] as number);
		if (inner * whole * outer <= target) {
			inner *= whole;
			continue;
		}
		const c = Math.max(1, chunks[d] as number);
		const m = Math.max(1, Math.floor(target / (inner * c * outer)));
		steps[d] = m * c;
		for (let j = 0; j < d; j++) steps[j] = Math.max(1, chunks[j] as number);
		break;
	}
	return steps;
}

// Cuts of [start, start + len) at multiples of `step` (absolute), or none when step covers it.
function cuts(
	start: number,
	len: number,
	step: number,
	whole: boolean,
): number[][] {
	if (whole) return [[start, len]];
	const out: number[][] = [];
	let at = start;
	const end = start + len;
	while (at < end) {
		const next = Math.min(end, (Math.floor(at / step) + 1) * step);
		out.push([at, next - at]);
		at = next;
	}
	return out;
}

/**
 * Splits `region` into boxes of about `target` bytes (at least one chunk's worth along the
 * split dimension) whose edges lie on the chunk grid, in C order.
 */
export function chunkBoxes(
	region: Region,
	chunks: readonly number[],
	itemsize: number,
	target: number,
): ChunkBox[] {
	return gridBoxes(region, boxSteps(region, chunks, itemsize, target));
}

/**
 * The boxes of `region` cut at multiples of `steps` (absolute coordinates; a step equal to the
 * region's extent leaves that dimension whole), in C order.
 */
export function gridBoxes(
	region: Region,
	steps: readonly number[],
): ChunkBox[] {
	if (region.shape.some((s) => s === 0)) return [];
	const perDim = region.shape.map((len, d) =>
		cuts(
			region.start[d] as number,
			len,
			steps[d] as number,
			steps[d] === Math.max(1, len),
		),
	);
	const boxes: ChunkBox[] = [];
	const n = perDim.length;
	const idx = new Array<number>(n).fill(0);
	for (;;) {
		const start: number[] = [];
		const shape: number[] = [];
		for (let d = 0; d < n; d++) {
			const cut = (perDim[d] as number[][])[idx[d] as number] as number[];
			start.push(cut[0] as number);
			shape.push(cut[1] as number);
		}
		boxes.push({
			start,
			shape,
			offset: start.map((s, d) => s - (region.start[d] as number)),
		});
		let d = n - 1;
		for (; d >= 0; d--) {
			idx[d] = (idx[d] as number) + 1;
			if ((idx[d] as number) < (perDim[d] as number[][]).length) break;
			idx[d] = 0;
		}
		if (d < 0) break;
	}
	return boxes;
}

/** Copies a box's C-order bytes into the C-order buffer of its region. */
export function placeBox(
	out: Uint8Array,
	regionShape: readonly number[],
	box: ChunkBox,
	bytes: Uint8Array,
	itemsize: number,
): void {
	const strides = stridesOf(regionShape, "C");
	const base = box.offset.reduce(
		(a, o, d) => a + o * (strides[d] as number),
		0,
	);
	copyElements(
		{ bytes, base: 0, strides: stridesOf(box.shape, "C") },
		{ bytes: out, base, strides },
		box.shape,
		itemsize,
	);
}

/** Copies a box out of the C-order buffer of its region (C order). */
export function takeBox(
	src: Uint8Array,
	regionShape: readonly number[],
	box: ChunkBox,
	itemsize: number,
): Uint8Array {
	const strides = stridesOf(regionShape, "C");
	const base = box.offset.reduce(
		(a, o, d) => a + o * (strides[d] as number),
		0,
	);
	const out = new Uint8Array(shapeSize(box.shape) * itemsize);
	copyElements(
		{ bytes: src, base, strides },
		{ bytes: out, base: 0, strides: stridesOf(box.shape, "C") },
		box.shape,
		itemsize,
	);
	return out;
}
