/**
 * Memory budget of a copy: how large one block may be so that the blocks alive at once, their
 * conversion and codec scratch, and the adapters' own buffers stay under `maxMemory`.
 *
 * The model (architecture.md §5): `concurrency` blocks are being written while `prefetch`
 * more are read ahead; each live block costs its bytes about three times (the block read,
 * the byte-order/transposition copy made for storage, the encoded chunks); decoding a source
 * chunk costs it twice (compressed + decoded); an HDF5 side costs one more block, because the
 * h5wasm heap grows to the largest block and never shrinks. Freed blocks are garbage until
 * the collector runs: the engine asks for a collection (`releaseMemory`) after every
 * {@link GARBAGE_BLOCKS} blocks, which the model counts as that many more live blocks. A
 * fixed reserve covers codec state (zstd/blosc wasm memories), the HDF5 chunk cache, heap
 * growth and allocator slack; callers add what they know more (codec worker threads).
 */
import { LimitExceededError } from "../errors.js";

/** Default `maxMemory`: 256 MiB. */
export const DEFAULT_MAX_MEMORY: number = 256 * 1024 * 1024;
/** Default number of blocks written concurrently. */
export const DEFAULT_CONCURRENCY = 2;
/** Fixed part of the budget kept for codec state, adapter caches and allocator slack. */
export const BUDGET_RESERVE_BYTES: number = 40 * 1024 * 1024;
/** Blocks of garbage allowed between two `releaseMemory` calls. */
export const GARBAGE_BLOCKS = 2;
/** Live copies of one in-flight block: the block, its stored-order copy, its encoded form. */
export const COPIES_PER_BLOCK = 3;
// A decoded source chunk and its compressed bytes.
const COPIES_PER_SOURCE_CHUNK = 2;
// Formats whose block buffers also live in a wasm heap that never shrinks.
const HEAP_FORMATS: ReadonlySet<string> = new Set(["hdf5"]);

/** What the budget depends on. */
export interface BudgetInputs {
	/** Bytes the copy may use on top of the runtime's baseline. */
	readonly maxMemory: number;
	/** Blocks written at once (k). */
	readonly concurrency?: number;
	/** Blocks read ahead of the writers (iterBlocks prefetch). */
	readonly prefetch?: number;
	/** Source adapter name ("hdf5" counts its blocks twice). */
	readonly sourceFormat?: string;
	/** Target adapter name. */
	readonly targetFormat?: string;
	/** Decoded bytes of one source chunk (0 or absent when unchunked). */
	readonly sourceChunkBytes?: number;
	/** Bytes of one target chunk (0 or absent when unchunked): the smallest possible block. */
	readonly targetChunkBytes?: number;
	/** More fixed bytes the caller knows of (e.g. codec worker threads). */
	readonly extraReserveBytes?: number;
}

/** The result: the block cap and how peak memory follows from a block size. */
export interface MemoryBudget {
	readonly maxMemory: number;
	readonly concurrency: number;
	readonly prefetch: number;
	/** How many block-sized buffers can be alive at the peak. */
	readonly blockMultiplier: number;
	/** Bytes outside the blocks: reserve and source-chunk scratch. */
	readonly fixedBytes: number;
	/** Largest block the budget allows. */
	readonly maxBlockBytes: number;
}

/**
 * Computes the block cap of a copy.
 * @throws {LimitExceededError} the budget cannot hold even one target chunk (or one source
 * chunk's scratch), with the sizes in the message.
 */
export function memoryBudget(inputs: BudgetInputs): MemoryBudget {
	const maxMemory = inputs.maxMemory;
	if (!(Number.isFinite(maxMemory) && maxMemory > 0))
		throw new LimitExceededError(
			`the memory budget must be a positive number of bytes, got ${maxMemory}`,
		);
	const concurrency = Math.max(1, Math.floor(inputs.concurrency ?? 1));
	const prefetch = Math.max(0, Math.floor(inputs.prefetch ?? 1));
	const heap =
		(HEAP_FORMATS.has(inputs.sourceFormat ?? "") ? 1 : 0) +
		(HEAP_FORMATS.has(inputs.targetFormat ?? "") ? 1 : 0);
	const blockMultiplier =
		(concurrency + prefetch) * COPIES_PER_BLOCK + heap + GARBAGE_BLOCKS;
	const sourceChunk = Math.max(0, inputs.sourceChunkBytes ?? 0);
	const fixedBytes =
		BUDGET_RESERVE_BYTES +
		Math.max(0, inputs.extraReserveBytes ?? 0) +
		sourceChunk * COPIES_PER_SOURCE_CHUNK * (prefetch + 1);
	const free = maxMemory - fixedBytes;
	const maxBlockBytes = Math.floor(free / blockMultiplier);
	if (maxBlockBytes < 1) {
		throw new LimitExceededError(
			`a memory budget of ${formatBytes(maxMemory)} is too small: codec state, caches${sourceChunk > 0 ? ` and decoding one source chunk of ${formatBytes(sourceChunk)}` : ""} need ${formatBytes(fixedBytes)} before any block; raise --max-memory`,
		);
	}
	const targetChunk = Math.max(0, inputs.targetChunkBytes ?? 0);
	if (targetChunk > maxBlockBytes) {
		throw new LimitExceededError(
			`one target chunk is ${formatBytes(targetChunk)}, but a memory budget of ${formatBytes(maxMemory)} allows blocks of at most ${formatBytes(maxBlockBytes)} (${blockMultiplier} live copies); use smaller chunks or raise --max-memory to at least ${formatBytes(peakMemory({ fixedBytes, blockMultiplier }, targetChunk))}`,
		);
	}
	return {
		maxMemory,
		concurrency,
		prefetch,
		blockMultiplier,
		fixedBytes,
		maxBlockBytes,
	};
}

/** Estimated peak memory of a copy with blocks of `blockBytes`. */
export function peakMemory(
	budget: Pick<MemoryBudget, "fixedBytes" | "blockMultiplier">,
	blockBytes: number,
): number {
	return budget.fixedBytes + budget.blockMultiplier * blockBytes;
}

/** "256 MiB", "1.5 GiB", "512 B". */
export function formatBytes(n: number): string {
	const units = ["B", "KiB", "MiB", "GiB", "TiB"];
	let v = n;
	let u = 0;
	while (Math.abs(v) >= 1024 && u < units.length - 1) {
		v /= 1024;
		u++;
	}
	const text =
		u === 0 || Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1);
	return `${text} ${units[u]}`;
}

/**
 * Parses a byte size: "256MiB", "1.5 GiB", "64M", "4096", "2g" (binary units; K/M/G/T and
 * KB/MB/GB/TB are read as powers of 1024 too, as most tools do).
 * @returns the size, or null when `text` is not a size.
 */
export function parseBytes(text: string): number | null {
	const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$/i.exec(text);
	if (!m) return null;
	const value = Number(m[1]);
	const unit = (m[2] ?? "").toLowerCase();
	if (unit === "" && (m[3] ?? "").toLowerCase() === "i") return null;
	const power = unit === "" ? 0 : "kmgt".indexOf(unit) + 1;
	const n = Math.round(value * 1024 ** power);
	return Number.isSafeInteger(n) ? n : null;
}
