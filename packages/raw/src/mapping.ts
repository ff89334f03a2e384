/**
 * Windowed memory mappings. One mmap-io mapping is one Node Buffer, capped at 4 GiB, and
 * mmap-io has no explicit unmap; so the file is mapped in page-aligned windows (1 GiB by
 * default) on demand, a bounded number of them stay live (LRU), and a dropped window is released
 * with MADV_DONTNEED and left to the garbage collector. Runs that span windows are copied piecewise.
 */
import type { FileHandle } from "node:fs/promises";
import { ClosedError, fromNodeError, OutOfBoundsError } from "@arraystore/core";
import type { ByteIo, ByteIoMode } from "./byte-io.js";
import { type MmapLib, mmapError } from "./mmap-lib.js";
import type { RunCursor } from "./runs.js";

/** Default window: 1 GiB (mmap-io's sync/advise take 32-bit offsets inside a window). */
export const DEFAULT_WINDOW_BYTES: number = 2 ** 30;
/** Largest window accepted: 1 GiB. */
export const MAX_WINDOW_BYTES: number = 2 ** 30;
/** Default number of live (unpinned) windows. */
export const DEFAULT_MAX_WINDOWS = 4;

// Check the abort signal after about this many bytes of copying.
const CHECK_BYTES = 64 * 1024 * 1024;
const DONE: Promise<void> = Promise.resolve();
// Boxes up to this size take the single native strided copy (see #strided).
const STRIDED_MAX_BYTES = 64 * 1024 * 1024;
// Runs this short are copied byte by byte: cheaper than Buffer#copy's call overhead.
const SMALL_RUN = 16;

/** Tuning of {@link WindowedMapping}. */
export interface MappingOptions {
	/** Window length in bytes; rounded down to whole pages, at most {@link MAX_WINDOW_BYTES}. */
	readonly windowBytes?: number;
	/** Live windows kept mapped (windows written in mode c are pinned on top of these). */
	readonly maxWindows?: number;
}

interface Window {
	readonly start: number;
	readonly length: number;
	readonly buf: Buffer;
	// The same bytes as a plain Uint8Array: `out.set(view.subarray(…))` copies a run with less
	// per-call work than Buffer#copy (≈ 20 % faster for the 1 KiB runs of a slab read).
	readonly view: Uint8Array;
	// Written byte range inside the window, [dirtyLo, dirtyHi); dirtyLo === -1 when clean.
	dirtyLo: number;
	dirtyHi: number;
	// Mode c: a private window holds the only copy of its writes, so it is never dropped.
	pinned: boolean;
}

/** {@link ByteIo} over windowed mmap-io mappings. */
export class WindowedMapping implements ByteIo {
	readonly kind = "mmap" as const;
	readonly #lib: MmapLib;
	readonly #fh: FileHandle;
	readonly #target: string;
	readonly #mode: ByteIoMode;
	readonly #windowBytes: number;
	readonly #maxWindows: number;
	// Insertion order is recency order (least recent first).
	readonly #windows = new Map<number, Window>();
	#last: { index: number; window: Window } | null = null;
	#size: number;
	#released = false;

	constructor(
		lib: MmapLib,
		fh: FileHandle,
		size: number,
		mode: ByteIoMode,
		target: string,
		options: MappingOptions = {},
	) {
		this.#lib = lib;
		this.#fh = fh;
		this.#size = size;
		this.#mode = mode;
		this.#target = target;
		const page = lib.PAGESIZE;
		const wanted = Math.min(
			options.windowBytes ?? DEFAULT_WINDOW_BYTES,
			MAX_WINDOW_BYTES,
		);
		this.#windowBytes = Math.max(page, Math.floor(wanted / page) * page);
		this.#maxWindows = Math.max(
			1,
			Math.floor(options.maxWindows ?? DEFAULT_MAX_WINDOWS),
		);
	}

	get size(): number {
		return this.#size;
	}

	/** Window length in bytes (page-aligned). */
	get windowBytes(): number {
		return this.#windowBytes;
	}

	/** Number of windows currently mapped (for tests and diagnostics). */
	get liveWindows(): number {
		return this.#windows.size;
	}

	// Not async: the copy is synchronous, and a small read should not pay for another promise
	// and microtask turn.
	read(runs: RunCursor, out: Uint8Array, signal?: AbortSignal): Promise<void> {
		try {
			this.#readSync(runs, out, signal);
			return DONE;
		} catch (err) {
			return Promise.reject(err);
		}
	}

	// The copy of `read`, on the calling thread: mappings are plain memory.
	#readSync(runs: RunCursor, out: Uint8Array, signal?: AbortSignal): void {
		signal?.throwIfAborted();
		if (this.#strided(runs, out, false)) return;
		let sinceCheck = 0;
		while (runs.next()) {
			this.#copy(runs.fileOffset, out, runs.bufOffset, runs.runLength, false);
			sinceCheck += runs.runLength + 64;
			if (sinceCheck >= CHECK_BYTES) {
				signal?.throwIfAborted();
				sinceCheck = 0;
			}
		}
	}

	async write(
		runs: RunCursor,
		src: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		signal?.throwIfAborted();
		if (this.#strided(runs, src, true)) return;
		let sinceCheck = 0;
		while (runs.next()) {
			this.#copy(runs.fileOffset, src, runs.bufOffset, runs.runLength, true);
			sinceCheck += runs.runLength + 64;
			if (sinceCheck >= CHECK_BYTES) {
				signal?.throwIfAborted();
				sinceCheck = 0;
			}
		}
	}

	async flush(): Promise<void> {
		if (this.#mode.private) return;
		for (const w of this.#windows.values()) this.#sync(w);
	}

	async setLength(length: number): Promise<void> {
		await this.flush();
		this.#dropAll();
		try {
			await this.#fh.truncate(length);
		} catch (err) {
			throw fromNodeError(err, { target: this.#target, adapter: "raw" });
		}
		this.#size = length;
	}

	async release(): Promise<void> {
		if (this.#released) return;
		try {
			await this.flush();
		} finally {
			this.#dropAll();
			this.#released = true;
		}
	}

	// A box of several runs inside one window and at most STRIDED_MAX_BYTES: one native call
	// (the patched addon's copyStrided) instead of one JS copy per run. A 64-row slab is 64 runs;
	// per run, JS pays a subarray, a window lookup and a call, which before the optimiser has
	// warmed up (the first thousands of reads) cost more than the copy. Larger boxes keep the
	// run loop, which checks the abort signal between runs. Answers false when not taken.
	#strided(runs: RunCursor, buf: Uint8Array, toFile: boolean): boolean {
		const copy = this.#lib.copyStrided;
		if (copy === undefined || runs.count < 2) return false;
		const bytes = runs.count * runs.runLength;
		if (bytes > STRIDED_MAX_BYTES || bytes !== buf.byteLength) return false;
		const lo = runs.first;
		const hi = runs.end;
		const index = Math.floor(lo / this.#windowBytes);
		if (hi > this.#size || Math.floor((hi - 1) / this.#windowBytes) !== index)
			return false;
		const w = this.#window(index);
		const from = lo - w.start;
		const strides = runs.bufStrides();
		if (toFile) {
			copy(
				buf,
				0,
				w.buf,
				from,
				runs.runLength,
				runs.counts,
				strides,
				runs.strides,
			);
			if (w.dirtyLo < 0 || from < w.dirtyLo) w.dirtyLo = from;
			if (hi - w.start > w.dirtyHi) w.dirtyHi = hi - w.start;
			if (this.#mode.private) w.pinned = true;
		} else {
			copy(
				w.buf,
				from,
				buf,
				0,
				runs.runLength,
				runs.counts,
				runs.strides,
				strides,
			);
		}
		return true;
	}

	// Copies between the file at `pos` and `buf` at `at`, window by window.
	#copy(
		pos: number,
		buf: Uint8Array,
		at: number,
		length: number,
		toFile: boolean,
	): void {
		if (pos + length > this.#size) {
			throw new OutOfBoundsError(
				`bytes [${pos}, ${pos + length}) are past the end of the file (${this.#size} bytes)`,
				{
					target: this.#target,
					adapter: "raw",
				},
			);
		}
		let p = pos;
		let a = at;
		let left = length;
		while (left > 0) {
			const index = Math.floor(p / this.#windowBytes);
			const w = this.#window(index);
			const off = p - w.start;
			const n = Math.min(left, w.length - off);
			if (toFile) {
				if (n <= SMALL_RUN)
					for (let i = 0; i < n; i++) w.buf[off + i] = buf[a + i] as number;
				else w.buf.set(buf.subarray(a, a + n), off);
				if (w.dirtyLo < 0 || off < w.dirtyLo) w.dirtyLo = off;
				if (off + n > w.dirtyHi) w.dirtyHi = off + n;
				if (this.#mode.private) w.pinned = true;
			} else if (n <= SMALL_RUN) {
				for (let i = 0; i < n; i++) buf[a + i] = w.buf[off + i] as number;
			} else {
				buf.set(w.view.subarray(off, off + n), a);
			}
			p += n;
			a += n;
			left -= n;
		}
	}

	#window(index: number): Window {
		const last = this.#last;
		if (last !== null && last.index === index) return last.window;
		let w = this.#windows.get(index);
		if (w !== undefined) {
			// Refresh recency.
			this.#windows.delete(index);
			this.#windows.set(index, w);
		} else {
			w = this.#map(index);
			this.#windows.set(index, w);
			this.#evict();
		}
		this.#last = { index, window: w };
		return w;
	}

	#map(index: number): Window {
		if (this.#released)
			throw new ClosedError("the raw file is closed", {
				target: this.#target,
				adapter: "raw",
			});
		const start = index * this.#windowBytes;
		// Never map pages past the end of the file: touching them raises SIGBUS.
		const length = Math.min(this.#windowBytes, this.#size - start);
		const lib = this.#lib;
		const prot = this.#mode.writable
			? lib.PROT_READ | lib.PROT_WRITE
			: lib.PROT_READ;
		const flags = this.#mode.private ? lib.MAP_PRIVATE : lib.MAP_SHARED;
		let buf: Buffer;
		try {
			buf = lib.map(length, prot, flags, this.#fh.fd, start);
		} catch (err) {
			throw mmapError(err, `mmap of ${length} bytes at ${start}`, this.#target);
		}
		return {
			start,
			length,
			buf,
			view: new Uint8Array(buf.buffer, buf.byteOffset, buf.length),
			dirtyLo: -1,
			dirtyHi: 0,
			pinned: false,
		};
	}

	#evict(): void {
		let unpinned = 0;
		for (const w of this.#windows.values()) if (!w.pinned) unpinned++;
		if (unpinned <= this.#maxWindows) return;
		for (const [index, w] of this.#windows) {
			if (unpinned <= this.#maxWindows) break;
			if (w.pinned) continue;
			this.#drop(index, w);
			unpinned--;
		}
	}

	#sync(w: Window): void {
		if (w.dirtyLo < 0) return;
		const page = this.#lib.PAGESIZE;
		const lo = Math.floor(w.dirtyLo / page) * page;
		try {
			this.#lib.sync(w.buf, lo, w.dirtyHi - lo, true, false);
		} catch (err) {
			throw mmapError(err, "msync", this.#target);
		}
		w.dirtyLo = -1;
		w.dirtyHi = 0;
	}

	#drop(index: number, w: Window): void {
		if (!this.#mode.private) this.#sync(w);
		try {
			// The mapping itself lives until its Buffer is collected; give its pages back now.
			this.#lib.advise(w.buf, this.#lib.MADV_DONTNEED);
		} catch {
			// Advice only: a failure costs memory, not correctness.
		}
		this.#windows.delete(index);
		if (this.#last?.index === index) this.#last = null;
	}

	#dropAll(): void {
		for (const [index, w] of [...this.#windows]) {
			// Private (mode c) windows are dropped only here, when their writes are discarded anyway.
			this.#drop(index, w);
		}
		this.#last = null;
	}
}
