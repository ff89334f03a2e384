/**
 * O_DIRECT writes for long runs: the page-aligned interior of a write goes to the disk without
 * passing through the page cache.
 *
 * Why: a buffered write of a fresh output makes the kernel allocate and fill one page-cache page
 * per 4 KiB, on the writing thread. On the benchmark machine that cost 1–3.3 CPU-seconds per
 * 2 GiB (it varies with how recently the memory was used), and it competes with the decoding of
 * the conversion for the same two cores. A direct write costs about 0.15 CPU-seconds per 2 GiB and
 * runs at the disk's speed (1.2–1.8 GB/s there), and a conversion of many gigabytes no longer
 * evicts the rest of the machine's page cache (nor piles up dirty pages for writeback to throttle).
 *
 * O_DIRECT wants the file offset, the length and the memory address aligned. The offsets and
 * lengths are rounded inwards to {@link DIRECT_ALIGN} by {@link directSpan}; the caller writes
 * the unaligned head and tail through its buffered handle (they never share a page with a direct
 * span, so the page cache and the disk stay coherent). The bytes are copied through page-aligned
 * staging buffers: WebAssembly memories, which V8 allocates on page boundaries (a Node Buffer's
 * address is not ours to choose). Where the file system refuses O_DIRECT, the writer is never
 * created or turns itself off, and every byte goes the buffered way.
 */
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { fromNodeError } from "@arraystore/core";

/** File offsets and lengths of direct writes are multiples of this (a page; ≥ any sector). */
export const DIRECT_ALIGN = 4096;
/**
 * Writes whose aligned interior is shorter than this stay buffered: the disk took 2.3 s per 2 GiB
 * in 1 MiB direct writes, 1.7 s in 2 MiB and 1.4 s in 4 MiB ones, against 1–3 s buffered.
 */
export const DIRECT_MIN_BYTES: number = 2 * 1024 * 1024;
/** One staging buffer; a longer span is written in slices of this size. */
export const STAGE_BYTES: number = 4 * 1024 * 1024;
/** Staging buffers at most (concurrent writes beyond this wait for one). */
export const MAX_STAGES = 4;

// The WebAssembly global as used here (this package's TypeScript libs do not declare it).
interface WasmGlobal {
	readonly Memory: new (d: { initial: number }) => { buffer: ArrayBuffer };
}

const stats = { bytes: 0, refused: 0 };

/**
 * Bytes written directly and refusals (EINVAL or a short write) since the process started, over
 * every writer: lets tests and benchmarks see which path the bytes took.
 */
export function directWriteStats(): {
	readonly bytes: number;
	readonly refused: number;
} {
	return { ...stats };
}

/** The page-aligned part `[start, end)` of the byte range `[position, position + length)`. */
export interface DirectSpan {
	readonly start: number;
	readonly end: number;
}

/** The part of a write worth writing directly, or null when it is shorter than {@link DIRECT_MIN_BYTES}. */
export function directSpan(
	position: number,
	length: number,
): DirectSpan | null {
	const start = Math.ceil(position / DIRECT_ALIGN) * DIRECT_ALIGN;
	const end = Math.floor((position + length) / DIRECT_ALIGN) * DIRECT_ALIGN;
	return end - start >= DIRECT_MIN_BYTES ? { start, end } : null;
}

/** A second, O_DIRECT handle on a file, with its staging buffers. */
export class DirectWriter {
	readonly #fh: FileHandle;
	readonly #target: string;
	readonly #wasm: WasmGlobal;
	readonly #free: Uint8Array[] = [];
	readonly #waiting: ((stage: Uint8Array) => void)[] = [];
	#stages = 0;
	#off = false;

	private constructor(fh: FileHandle, target: string, wasm: WasmGlobal) {
		this.#fh = fh;
		this.#target = target;
		this.#wasm = wasm;
	}

	/**
	 * Opens the file of `fh` a second time, for direct writes, through `/proc/self/fd` (the same
	 * file even when its path was renamed or replaced since). Null where that or O_DIRECT is
	 * refused (other platforms, tmpfs on older kernels, some FUSE file systems): the caller then
	 * writes everything buffered.
	 */
	static async open(
		fh: FileHandle,
		target: string,
	): Promise<DirectWriter | null> {
		const flag = constants.O_DIRECT;
		const wasm = (globalThis as { WebAssembly?: WasmGlobal }).WebAssembly;
		if (
			flag === undefined ||
			wasm === undefined ||
			process.platform !== "linux"
		)
			return null;
		try {
			return new DirectWriter(
				await open(`/proc/self/fd/${fh.fd}`, constants.O_WRONLY | flag),
				target,
				wasm,
			);
		} catch {
			return null;
		}
	}

	/** False once the kernel refused a direct write: everything then goes buffered. */
	get usable(): boolean {
		return !this.#off;
	}

	/**
	 * Writes `src[at, at + end - start)` to the file bytes `[start, end)` (a {@link directSpan}).
	 * Resolves false when the kernel refused (EINVAL: an alignment this file system wants and we
	 * did not guess); the writer is then off and the caller writes the whole span buffered,
	 * which also replaces any part written before the refusal. Other errors reject, typed.
	 */
	async write(
		src: Uint8Array,
		at: number,
		span: DirectSpan,
		signal?: AbortSignal,
	): Promise<boolean> {
		if (this.#off) return false;
		const stage = await this.#take();
		try {
			for (let pos = span.start; pos < span.end; ) {
				signal?.throwIfAborted();
				const n = Math.min(STAGE_BYTES, span.end - pos);
				const from = at + (pos - span.start);
				stage.set(src.subarray(from, from + n));
				let done = 0;
				while (done < n) {
					const { bytesWritten } = await this.#fh.write(
						stage,
						done,
						n - done,
						pos + done,
					);
					// A short write can leave an unaligned remainder: the caller finishes it buffered.
					if (bytesWritten <= 0 || bytesWritten % DIRECT_ALIGN !== 0)
						return this.#refused();
					done += bytesWritten;
				}
				stats.bytes += n;
				pos += n;
			}
			return true;
		} catch (err) {
			if ((err as { code?: string }).code === "EINVAL") return this.#refused();
			if ((err as { name?: string }).name === "AbortError") throw err;
			throw fromNodeError(err, { target: this.#target, adapter: "raw" });
		} finally {
			this.#give(stage);
		}
	}

	/** Closes the direct handle (the staging buffers go to the garbage collector). */
	async close(): Promise<void> {
		this.#off = true;
		this.#free.length = 0;
		await this.#fh.close();
	}

	#refused(): false {
		this.#off = true;
		stats.refused++;
		return false;
	}

	async #take(): Promise<Uint8Array> {
		const free = this.#free.pop();
		if (free !== undefined) return free;
		if (this.#stages < MAX_STAGES) {
			this.#stages++;
			// A WebAssembly memory starts on a page boundary, as O_DIRECT wants.
			return new Uint8Array(
				new this.#wasm.Memory({ initial: STAGE_BYTES / 65536 }).buffer,
			);
		}
		return new Promise((resolve) => this.#waiting.push(resolve));
	}

	#give(stage: Uint8Array): void {
		const next = this.#waiting.shift();
		if (next !== undefined) next(stage);
		else this.#free.push(stage);
	}
}
