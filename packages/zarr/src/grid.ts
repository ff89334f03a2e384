/**
 * Regular chunk grids: which chunks a box touches, their overlaps with it, and the element
 * strides of a chunk stored in any dimension order.
 */
import type { Region } from "@arraystore/core";

/** Per dimension: first chunk index and one past the last one a region touches. */
export function chunkRanges(
	region: Region,
	chunkShape: readonly number[],
): [number, number][] {
	return region.shape.map((n, d) => {
		if (n === 0) return [0, 0];
		const c = chunkShape[d] as number;
		const s = region.start[d] as number;
		return [Math.floor(s / c), Math.floor((s + n - 1) / c) + 1];
	});
}

/** Every index of the box `ranges` (per dim `[lo, hi)`), in C order. */
export function* gridCoords(
	ranges: readonly (readonly [number, number])[],
): Generator<number[]> {
	const n = ranges.length;
	if (ranges.some(([lo, hi]) => hi <= lo)) return;
	const idx = ranges.map(([lo]) => lo);
	for (;;) {
		yield [...idx];
		let d = n - 1;
		for (; d >= 0; d--) {
			const r = ranges[d] as readonly [number, number];
			idx[d] = (idx[d] as number) + 1;
			if ((idx[d] as number) < r[1]) break;
			idx[d] = r[0];
		}
		if (d < 0) return;
	}
}

/** The overlap of a box with a chunk at grid `coords`, or null. Positions are absolute. */
export function overlap(
	region: Region,
	chunkShape: readonly number[],
	coords: readonly number[],
): Region | null {
	const start: number[] = [];
	const shape: number[] = [];
	for (let d = 0; d < coords.length; d++) {
		const c = chunkShape[d] as number;
		const o = (coords[d] as number) * c;
		const lo = Math.max(region.start[d] as number, o);
		const hi = Math.min(
			(region.start[d] as number) + (region.shape[d] as number),
			o + c,
		);
		if (hi <= lo) return null;
		start.push(lo);
		shape.push(hi - lo);
	}
	return { start, shape };
}

/** The part of a chunk at `coords` that lies inside an array of `shape`. */
export function chunkInBounds(
	shape: readonly number[],
	chunkShape: readonly number[],
	coords: readonly number[],
): Region | null {
	return overlap({ start: shape.map(() => 0), shape }, chunkShape, coords);
}

/** True when `inner` equals `outer` (same start and shape). */
export function sameRegion(a: Region, b: Region): boolean {
	return (
		a.start.every((s, i) => s === b.start[i]) &&
		a.shape.every((s, i) => s === b.shape[i])
	);
}

/**
 * Element strides (per logical dimension) of a chunk stored in C order over its dimensions
 * permuted by `perm` (`perm[k]` = the logical dimension stored k-th).
 */
export function permutedStrides(
	chunkShape: readonly number[],
	perm: readonly number[],
): number[] {
	const strides = new Array<number>(chunkShape.length).fill(0);
	let s = 1;
	for (let k = perm.length - 1; k >= 0; k--) {
		const d = perm[k] as number;
		strides[d] = s;
		s *= chunkShape[d] as number;
	}
	return strides;
}

/** Element offset of `pos` with `strides` relative to `origin`. */
export function offsetOf(
	pos: readonly number[],
	origin: readonly number[],
	strides: readonly number[],
): number {
	let o = 0;
	for (let d = 0; d < pos.length; d++)
		o += ((pos[d] as number) - (origin[d] as number)) * (strides[d] as number);
	return o;
}

/** Product of a shape. */
export function prod(shape: readonly number[]): number {
	let n = 1;
	for (const s of shape) n *= s;
	return n;
}
