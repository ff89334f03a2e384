/**
 * Block plan of one array copy: the block shape (whole target chunks, under the memory
 * budget), the grid it makes, and the estimated peak memory. Computed before any output
 * exists, so impossible budgets are refused up front.
 */
import { gridShape, planBlocks } from "../blocks.js";
import type { DType } from "../dtype/model.js";
import { shapeSize } from "../dtype/typed.js";
import type { Order } from "../types.js";
import {
	type BudgetInputs,
	DEFAULT_CONCURRENCY,
	DEFAULT_MAX_MEMORY,
	type MemoryBudget,
	memoryBudget,
	peakMemory,
} from "./budget.js";

/**
 * Largest block of a copy between two unchunked (contiguous) layouts. Bytes that pass through
 * a buffer that stays in the CPU cache copy several times faster than through one that does
 * not: on the 2-core benchmark machine, 2 GiB file to file with 4 reads+writes in flight takes
 * 0.6 s through 1 MiB buffers and 1.1–3 s through 2–4 MiB ones (`dd` alike: 0.5–0.8 s with
 * bs=1M, 1.6–5 s with 16M). Nothing is gained from larger blocks when no chunk has to be whole.
 */
export const STREAM_BLOCK_BYTES: number = 1024 * 1024;

// Variable-length strings have no itemsize; JS strings cost about this much each.
const VLEN_BYTES_ESTIMATE = 64;

/** What a block plan needs to know about the source and the target. */
export interface ArrayPlanInputs {
	readonly shape: readonly number[];
	/** Source dtype (its itemsize sizes the blocks). */
	readonly dtype: DType;
	/** Target dtype when a cast changes the itemsize. */
	readonly targetDType?: DType;
	readonly sourceChunks?: readonly number[] | null;
	readonly targetChunks?: readonly number[] | null;
	/** Storage order of the target (slabs of unchunked targets follow it). */
	readonly targetOrder?: Order;
	readonly sourceFormat?: string;
	readonly targetFormat?: string;
}

/** Budget settings of a copy. */
export interface PlanBudgetOptions {
	/** Default 256 MiB. */
	readonly maxMemory?: number;
	/** Blocks written at once; default 2. */
	readonly concurrency?: number;
	/** Blocks read ahead; default 1. */
	readonly prefetch?: number;
	/** Fixed bytes the caller knows of beyond the engine's reserve (codec worker threads). */
	readonly extraReserveBytes?: number;
	/**
	 * Largest block between two unchunked layouts; default {@link STREAM_BLOCK_BYTES}. A target
	 * written past the page cache wants larger ones (its disk writes are slower in small pieces).
	 */
	readonly streamBlockBytes?: number;
}

/** The plan of one array. */
export interface ArrayCopyPlan {
	readonly shape: readonly number[];
	readonly blockShape: readonly number[];
	readonly gridShape: readonly number[];
	readonly blockCount: number;
	/** Bytes of one full block (the largest one). */
	readonly blockBytes: number;
	/** Total bytes of the array in the target dtype (an estimate for vlen strings). */
	readonly totalBytes: number;
	/** Estimated peak memory of copying it. */
	readonly peakMemory: number;
	readonly budget: MemoryBudget;
}

/** Bytes per element used for planning (vlen strings get an estimate). */
export function planItemsize(dtype: DType): number {
	return dtype.itemsize > 0 ? dtype.itemsize : VLEN_BYTES_ESTIMATE;
}

/**
 * Plans the blocks of one array copy.
 * @throws {LimitExceededError} one target chunk (or one source chunk's decode scratch) does
 * not fit the budget.
 */
export function planArrayCopy(
	inputs: ArrayPlanInputs,
	options: PlanBudgetOptions = {},
): ArrayCopyPlan {
	const shape = inputs.shape;
	const itemsize = Math.max(
		planItemsize(inputs.dtype),
		planItemsize(inputs.targetDType ?? inputs.dtype),
	);
	const targetChunks = usable(inputs.targetChunks, shape);
	const sourceChunks = usable(inputs.sourceChunks, shape);
	const budgetInputs: BudgetInputs = {
		maxMemory: options.maxMemory ?? DEFAULT_MAX_MEMORY,
		concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
		prefetch: options.prefetch ?? 1,
		extraReserveBytes: options.extraReserveBytes ?? 0,
		sourceFormat: inputs.sourceFormat,
		targetFormat: inputs.targetFormat,
		sourceChunkBytes: sourceChunks
			? clampedSize(sourceChunks, shape) * planItemsize(inputs.dtype)
			: 0,
		targetChunkBytes: targetChunks
			? clampedSize(targetChunks, shape) * itemsize
			: 0,
	};
	const budget = memoryBudget(budgetInputs);
	const cap =
		sourceChunks || targetChunks
			? budget.maxBlockBytes
			: Math.min(
					budget.maxBlockBytes,
					options.streamBlockBytes ?? STREAM_BLOCK_BYTES,
				);
	const blockShape =
		shape.length === 0
			? []
			: planBlocks(shape, itemsize, {
					sourceChunks,
					targetChunks,
					maxBlockBytes: Math.max(itemsize, cap),
					order: inputs.targetOrder ?? "C",
				});
	const grid = gridShape(shape, blockShape);
	const empty = shape.some((n) => n === 0);
	const blockCount = empty ? 0 : shapeSize(grid);
	const blockBytes =
		clampedSize(blockShape, shape) * itemsize * (empty ? 0 : 1);
	return {
		shape: [...shape],
		blockShape,
		gridShape: grid,
		blockCount,
		blockBytes,
		totalBytes:
			shapeSize(shape) * planItemsize(inputs.targetDType ?? inputs.dtype),
		peakMemory: peakMemory(budget, blockBytes),
		budget,
	};
}

// --- internal ---

// Chunk shapes of the wrong rank (or with zeros) cannot guide a plan.
function usable(
	chunks: readonly number[] | null | undefined,
	shape: readonly number[],
): readonly number[] | null {
	if (!chunks || chunks.length !== shape.length || shape.length === 0)
		return null;
	return chunks.every((c) => Number.isSafeInteger(c) && c > 0) ? chunks : null;
}

// Size of a chunk or block, clamped to the array (edge-free arrays smaller than a chunk).
function clampedSize(
	chunk: readonly number[],
	shape: readonly number[],
): number {
	return chunk.reduce(
		(a, c, d) => a * Math.max(1, Math.min(c, Math.max(1, shape[d] ?? 1))),
		1,
	);
}
