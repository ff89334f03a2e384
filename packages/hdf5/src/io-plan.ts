/**
 * Block planning for HDF5 datasets: default block shapes made of whole chunks (or row slabs
 * for contiguous data) of about {@link BLOCK_BYTES}, the check of a requested box against the
 * dataset, and its split into heap-sized pieces that are each one contiguous run of the
 * caller's C-order buffer, transferred one at a time.
 */
import {
	InvalidSelectionError,
	type Region,
	shapeSize,
} from "@arraystore/core";
import { ADAPTER } from "./errors.js";

/** Target size of a default block (`info.blockShape`). */
export const BLOCK_BYTES: number = 16 * 1024 * 1024;
/** Largest piece moved through the wasm heap in one call. */
export const PIECE_BYTES: number = 32 * 1024 * 1024;

/**
 * A chunk-aligned block shape of about `budget` bytes: trailing dimensions whole while they
 * fit, then a multiple of the chunk along the first dimension that does not, and single
 * chunks along the dimensions before it.
 */
export function blockShapeFor(
	shape: readonly number[],
	itemsize: number,
	chunks: readonly number[] | null,
	budget: number = BLOCK_BYTES,
): number[] {
	const n = shape.length;
	if (n === 0) return [];
	const unit = chunks ?? shape.map(() => 1);
	const block = shape.map((d) => Math.max(1, d));
	let inner = Math.max(1, itemsize);
	for (let d = n - 1; d >= 0; d--) {
		const outer = shapeSize(unit.slice(0, d));
		const full = Math.max(1, shape[d] as number);
		if (inner * full * outer <= budget) {
			inner *= full;
			continue;
		}
		const c = Math.max(1, unit[d] as number);
		const m = Math.max(1, Math.floor(budget / (inner * c * outer)));
		block[d] = Math.min(full, m * c);
		for (let j = 0; j < d; j++)
			block[j] = Math.min(
				Math.max(1, shape[j] as number),
				Math.max(1, unit[j] as number),
			);
		break;
	}
	return block;
}

/** One piece of a box: where it sits in the dataset and where its bytes go in the box buffer. */
export interface Piece {
	readonly start: readonly number[];
	readonly shape: readonly number[];
	/** Byte offset inside the box's C-order buffer. */
	readonly byteOffset: number;
	readonly byteLength: number;
}

/**
 * Splits `region` into pieces of at most `maxBytes` (when possible), each a contiguous run of
 * the region's C-order buffer; cuts along the splitting dimension fall on chunk boundaries
 * when `chunks` is given, so no chunk is decompressed twice by one read.
 */
export function splitRegion(
	region: Region,
	itemsize: number,
	maxBytes: number,
	chunks: readonly number[] | null,
): Piece[] {
	const { start, shape } = region;
	const n = shape.length;
	const total = shapeSize(shape) * itemsize;
	if (total === 0) return [];
	if (total <= maxBytes || n === 0)
		return [{ start, shape, byteOffset: 0, byteLength: total }];
	// k: the outermost dimension that must be cut; dimensions after it stay whole.
	let k = n - 1;
	let inner = itemsize;
	while (k > 0 && inner * (shape[k] as number) <= maxBytes) {
		inner *= shape[k] as number;
		k--;
	}
	const dk = shape[k] as number;
	let step = Math.max(1, Math.floor(maxBytes / inner));
	const c = chunks?.[k];
	if (c !== undefined && c > 0 && step >= c) step -= step % c;
	const pieces: Piece[] = [];
	const outerShape = shape.slice(0, k);
	const outerCount = shapeSize(outerShape);
	const idx = outerShape.map(() => 0);
	for (let o = 0; o < outerCount; o++) {
		// Align the first cut to the chunk grid of the dataset, not of the region.
		const s0 = start[k] as number;
		let at = 0;
		while (at < dk) {
			let len = Math.min(step, dk - at);
			if (c !== undefined && c > 0 && step >= c) {
				const next = Math.floor((s0 + at + step) / c) * c - s0;
				if (next > at && next < dk) len = next - at;
			}
			const pStart = [
				...idx.map((v, j) => (start[j] as number) + v),
				s0 + at,
				...start.slice(k + 1),
			];
			const pShape = [...idx.map(() => 1), len, ...shape.slice(k + 1)];
			pieces.push({
				start: pStart,
				shape: pShape,
				byteOffset: (o * dk + at) * inner,
				byteLength: len * inner,
			});
			at += len;
		}
		for (let j = k - 1; j >= 0; j--) {
			idx[j] = (idx[j] as number) + 1;
			if ((idx[j] as number) < (shape[j] as number)) break;
			idx[j] = 0;
		}
	}
	return pieces;
}

/**
 * Checks that `region` has the rank of `shape` and lies inside it.
 * @throws {InvalidSelectionError} another rank, or a box outside the dataset.
 */
export function checkRegion(
	region: Region,
	shape: readonly number[],
	target: string,
): void {
	if (
		region.start.length !== shape.length ||
		region.shape.length !== shape.length
	) {
		throw new InvalidSelectionError(
			`${target}: region rank ${region.start.length} ≠ ${shape.length}`,
			{ adapter: ADAPTER, target },
		);
	}
	region.start.forEach((s, i) => {
		const n = region.shape[i] as number;
		if (
			!(
				Number.isInteger(s) &&
				Number.isInteger(n) &&
				s >= 0 &&
				n >= 0 &&
				s + n <= (shape[i] as number)
			)
		) {
			throw new InvalidSelectionError(`${target}: region outside the dataset`, {
				adapter: ADAPTER,
				target,
			});
		}
	});
}

/**
 * Runs `transfer` (one synchronous binding call) on each piece of `region` (elements of
 * `itemsize` bytes, pieces of at most `maxBytes`, see {@link splitRegion}), checking for an
 * abort before each and letting other work run after it.
 */
export async function forEachPiece(
	region: Region,
	itemsize: number,
	maxBytes: number,
	chunks: readonly number[] | null,
	signal: AbortSignal | undefined,
	transfer: (piece: Piece) => void,
): Promise<void> {
	for (const piece of splitRegion(region, itemsize, maxBytes, chunks)) {
		signal?.throwIfAborted();
		transfer(piece);
		await yieldToLoop();
	}
}

// Everything in h5wasm is synchronous: let other work run between pieces.
function yieldToLoop(): Promise<void> {
	return new Promise((resolve) => setImmediate(resolve));
}
