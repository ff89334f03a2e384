/**
 * Block grids and block planning. A block grid tiles a region with boxes of one shape (edge
 * boxes truncated, never padded), visited in C order of their grid index.
 */

import type { Region } from "./driver.js";
import { LimitExceededError } from "./errors.js";

/** Default slab size for stores without chunks. */
export const DEFAULT_BLOCK_BYTES: number = 8 * 1024 * 1024;

/** One box of a grid. */
export interface GridBlock {
	readonly index: readonly number[];
	readonly region: Region;
}

/** Number of blocks per dimension. */
export function gridShape(
	shape: readonly number[],
	blockShape: readonly number[],
): number[] {
	return shape.map((n, d) => Math.ceil(n / Math.max(1, blockShape[d] ?? n)));
}

/**
 * Every block of `region` tiled by `blockShape`, in C order of block index. A 0-d region
 * yields one block; a region with a zero dimension yields none.
 */
export function* gridBlocks(
	region: Region,
	blockShape: readonly number[],
): Generator<GridBlock> {
	const n = region.shape.length;
	if (region.shape.some((s) => s === 0)) return;
	const counts = gridShape(region.shape, blockShape);
	const idx = new Array<number>(n).fill(0);
	for (;;) {
		const start: number[] = [];
		const shape: number[] = [];
		for (let d = 0; d < n; d++) {
			const b = Math.max(1, blockShape[d] as number);
			const s = (idx[d] as number) * b;
			start.push((region.start[d] as number) + s);
			shape.push(Math.min(b, (region.shape[d] as number) - s));
		}
		yield { index: [...idx], region: { start, shape } };
		let k = n - 1;
		for (; k >= 0; k--) {
			idx[k] = (idx[k] as number) + 1;
			if ((idx[k] as number) < (counts[k] as number)) break;
			idx[k] = 0;
		}
		if (k < 0) return;
	}
}

/**
 * The default block of an unchunked store: slabs of about `maxBytes` along axis 0 for C-order
 * storage (along the last axis for F order), so each block is contiguous on disk.
 */
export function slabShape(
	shape: readonly number[],
	itemsize: number,
	order: "C" | "F",
	maxBytes: number = DEFAULT_BLOCK_BYTES,
): number[] {
	const n = shape.length;
	const block = [...shape].map((s) => Math.max(1, s));
	const dims =
		order === "C" ? [...Array(n).keys()] : [...Array(n).keys()].reverse();
	// Shrink the slowest-varying dimensions first until the slab fits the budget.
	for (const d of dims) {
		const rest =
			block.reduce((a, b, i) => (i === d ? a : a * b), 1) *
			Math.max(1, itemsize);
		const fit = Math.max(1, Math.floor(maxBytes / rest));
		if (fit >= (block[d] as number)) break;
		block[d] = fit;
		if (rest <= maxBytes) break;
		block[d] = 1;
	}
	return block;
}

/** Inputs of {@link planBlocks}. */
export interface PlanOptions {
	/** Chunks of the source (reads aligned to them are cheaper). */
	readonly sourceChunks?: readonly number[] | null;
	/** Chunks of the target: blocks are made of whole target chunks. */
	readonly targetChunks?: readonly number[] | null;
	/** Byte cap of one block. */
	readonly maxBlockBytes: number;
	/** Storage order of an unchunked target (slabs follow it). */
	readonly order?: "C" | "F";
}

/**
 * Picks a block shape for copying: whole target chunks (so every target chunk is written
 * exactly once, with no read-modify-write), aligned to source chunks as far as the budget
 * allows, growing from the fastest-varying dimension.
 * @throws {LimitExceededError} one target chunk alone exceeds `maxBlockBytes`.
 */
export function planBlocks(
	shape: readonly number[],
	itemsize: number,
	options: PlanOptions,
): number[] {
	const n = shape.length;
	if (n === 0) return [];
	const { targetChunks, sourceChunks, maxBlockBytes } = options;
	const size = Math.max(1, itemsize);
	const unit = shape.map((s, d) =>
		Math.max(1, Math.min(targetChunks?.[d] ?? 1, Math.max(1, s))),
	);
	const unitBytes = unit.reduce((a, b) => a * b, size);
	if (targetChunks && unitBytes > maxBlockBytes) {
		throw new LimitExceededError(
			`one target chunk [${targetChunks.join(", ")}] is ${unitBytes} bytes, over the ${maxBlockBytes}-byte memory budget; use smaller chunks or a larger budget`,
		);
	}
	if (!targetChunks && !sourceChunks)
		return slabShape(shape, itemsize, options.order ?? "C", maxBlockBytes);
	// Prefer steps that cover whole source chunks too (lcm), when that still fits.
	const step = unit.map((u, d) => {
		const s = sourceChunks?.[d];
		if (!s) return u;
		const l = lcm(u, s);
		return l <= Math.max(u, shape[d] as number) ? l : u;
	});
	const block = [...unit];
	const bytes = (): number => block.reduce((a, b) => a * b, size);
	for (let d = n - 1; d >= 0; d--) {
		const extent = Math.max(1, shape[d] as number);
		const st = step[d] as number;
		const others = bytes() / (block[d] as number);
		const maxMult = Math.floor(maxBlockBytes / (others * st));
		if (maxMult >= 1) {
			block[d] = Math.min(roundUp(extent, unit[d] as number), maxMult * st);
		} else {
			const u = unit[d] as number;
			block[d] = Math.max(u, Math.floor(maxBlockBytes / (others * u)) * u);
		}
		if ((block[d] as number) < extent) break;
	}
	return block.map((b, d) =>
		Math.max(
			1,
			Math.min(b, roundUp(Math.max(1, shape[d] as number), unit[d] as number)),
		),
	);
}

function gcd(a: number, b: number): number {
	while (b) [a, b] = [b, a % b];
	return a;
}

function lcm(a: number, b: number): number {
	return (a / gcd(a, b)) * b;
}

function roundUp(x: number, m: number): number {
	return Math.ceil(x / m) * m;
}
