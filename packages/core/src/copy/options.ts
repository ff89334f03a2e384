/**
 * Options, progress events and results shared by `copyArray` and `copyTree`.
 */
import type { CopyJournal } from "./journal.js";
import type { PlanBudgetOptions } from "./plan.js";

/** One progress event. Byte counts are in the target's element size (estimated for vlen strings). */
export interface CopyProgress {
	/** "copy" while writing, "verify" while reading back. */
	readonly phase: "copy" | "verify";
	/** Target path of the array being copied ("" for a single-array target). */
	readonly array: string;
	/** Position of that array among all arrays of the copy (0-based) and their count. */
	readonly arrayIndex: number;
	readonly arrayCount: number;
	/** Blocks of this array finished (including blocks a resumed run skipped) and in total. */
	readonly blocksDone: number;
	readonly blocksTotal: number;
	/** Bytes of this array finished and in total. */
	readonly arrayBytesDone: number;
	readonly arrayBytesTotal: number;
	/** Bytes of the whole copy finished and in total (each phase counted separately). */
	readonly bytesDone: number;
	readonly bytesTotal: number;
}

/** Options every copy takes. */
export interface CopyOptions extends PlanBudgetOptions {
	readonly signal?: AbortSignal;
	readonly onProgress?: (progress: CopyProgress) => void;
	/** Resume journal; blocks it records as durable are skipped. */
	readonly journal?: CopyJournal;
	/** Read the target back and compare a SHA-256 per block. */
	readonly verify?: boolean;
	/** Allow lossy casts when the target dtype differs from the source's. */
	readonly unsafeCast?: boolean;
	/**
	 * Wait for the disk: checkpoints and the end of every array flush durably (fsync), so the
	 * output and the journal survive a crash of the machine. Default true; the CLI turns it
	 * off unless `--fsync` (as cp, it leaves writeback to the kernel: a durable flush every
	 * second holds an uncompressed copy to the disk's speed). Without it, journal lines count
	 * only until the machine restarts (`JournalStorage.epoch`).
	 */
	readonly durable?: boolean;
	/**
	 * Milliseconds between checkpoints (flush, then journal append); default 1000.
	 * 0 checkpoints after every block.
	 */
	readonly checkpointInterval?: number;
	/**
	 * Asks the runtime to collect garbage (e.g. `global.gc` under `--expose-gc`). Called after
	 * every two blocks' worth of bytes (see `budgetBlockBytes`), so freed buffers never pile up
	 * beyond what the budget counts, with the bytes of garbage the budget allows: a runtime that
	 * can measure its garbage (the CLI watches `process.memoryUsage().arrayBuffers`) collects
	 * only when more than that has accumulated — a forced full collection costs 8–25 ms, and
	 * copies through reused block buffers often leave none.
	 */
	readonly releaseMemory?: (garbageBytes: number) => void;
}

/** Options of `copyArray`. */
export interface CopyArrayOptions extends CopyOptions {
	/** A block shape planned earlier (`planArrayCopy`); planned here when absent. */
	readonly blockShape?: readonly number[];
	/**
	 * The largest block the memory budget allows (`plan.budget.maxBlockBytes`); default the
	 * block's own size. Blocks smaller than that (streamed contiguous copies) then collect
	 * garbage only every two budget blocks' worth of bytes and keep more writes in flight.
	 */
	readonly budgetBlockBytes?: number;
	/** The array's key in the journal; default the target's `target` string. */
	readonly journalKey?: string;
	/** Passed through to progress events (set by `copyTree`). */
	readonly progressContext?: {
		readonly array: string;
		readonly arrayIndex: number;
		readonly arrayCount: number;
		readonly bytesBefore: number;
		readonly bytesTotal: number;
	};
}

/** What `copyArray` did. */
export interface ArrayCopyResult {
	readonly source: string;
	readonly target: string;
	readonly shape: readonly number[];
	/** Target dtype as stored. */
	readonly dtype: string;
	readonly blockShape: readonly number[];
	/** Blocks written by this run. */
	readonly blocksWritten: number;
	/** Blocks an earlier run had already made durable. */
	readonly blocksSkipped: number;
	/** Bytes written by this run. */
	readonly bytesWritten: number;
	/** Blocks read back and compared (0 without `verify`). */
	readonly blocksVerified: number;
}
