/**
 * The fallback byte layer when mmap-io is unavailable: positional reads and writes on a
 * FileHandle. Nearby runs are read as one span (one syscall instead of thousands for column
 * reads). Mode c keeps written pages privately in memory, so the file is never touched.
 */
import type { FileHandle } from "node:fs/promises";
import {
	fromNodeError,
	LimitExceededError,
	OutOfBoundsError,
	TruncatedError,
} from "@arraystore/core";
import type { ByteIo, ByteIoMode } from "./byte-io.js";
import { DirectWriter, directSpan } from "./direct-write.js";
import type { RunCursor } from "./runs.js";

/** Granule of the private copy in mode c. */
export const PRIVATE_PAGE_BYTES: number = 64 * 1024;
/** Default cap on the private copy in mode c (the overlay budget of core). */
export const DEFAULT_MAX_PRIVATE_BYTES: number = 256 * 1024 * 1024;

// Runs closer than MAX_GAP are read together, as long as the span stays under SPAN_BYTES.
const SPAN_BYTES = 4 * 1024 * 1024;
const MAX_GAP = 64 * 1024;
// One pread/pwrite moves at most this much (the kernel caps a call near 2 GiB).
const IO_CHUNK = 2 ** 30;

/** Tuning of {@link PositionalFileIo}. */
export interface FileIoOptions {
	/** Mode c: cap on privately held written pages; beyond it writes throw LimitExceededError. */
	readonly maxPrivateBytes?: number;
	/** Long writes bypass the page cache (O_DIRECT) where the file system allows; see direct-write.ts. */
	readonly directWrites?: boolean;
}

/** {@link ByteIo} over positional FileHandle reads and writes. */
export class PositionalFileIo implements ByteIo {
	readonly kind = "file" as const;
	readonly #fh: FileHandle;
	readonly #mode: ByteIoMode;
	readonly #target: string;
	readonly #maxPrivateBytes: number;
	// Mode c: written pages by page index, and pages being loaded (so concurrent writers share one copy).
	readonly #pages = new Map<number, Uint8Array>();
	readonly #loading = new Map<number, Promise<Uint8Array>>();
	readonly #directWrites: boolean;
	// Opened on the first write long enough for it; null when the file system refuses O_DIRECT.
	#direct: Promise<DirectWriter | null> | null = null;
	#size: number;

	constructor(
		fh: FileHandle,
		size: number,
		mode: ByteIoMode,
		target: string,
		options: FileIoOptions = {},
	) {
		this.#fh = fh;
		this.#size = size;
		this.#mode = mode;
		this.#target = target;
		this.#maxPrivateBytes =
			options.maxPrivateBytes ?? DEFAULT_MAX_PRIVATE_BYTES;
		this.#directWrites = options.directWrites === true && !mode.private;
	}

	get size(): number {
		return this.#size;
	}

	/** Bytes held privately (mode c). */
	get privateBytes(): number {
		return this.#pages.size * PRIVATE_PAGE_BYTES;
	}

	async read(
		runs: RunCursor,
		out: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		signal?.throwIfAborted();
		// `follow` replays the runs of each span found by `runs`. The scratch buffer belongs to this
		// call: reads run concurrently (iterBlocks prefetches).
		const follow = runs.clone();
		const scratch: { buf: Uint8Array | null } = { buf: null };
		let count = 0;
		let spanStart = 0;
		let spanEnd = 0;
		while (runs.next()) {
			const s = runs.fileOffset;
			const e = s + runs.runLength;
			if (count > 0 && s - spanEnd <= MAX_GAP && e - spanStart <= SPAN_BYTES) {
				spanEnd = e;
				count++;
				continue;
			}
			if (count > 0)
				await this.#readSpan(
					follow,
					count,
					spanStart,
					spanEnd,
					out,
					scratch,
					signal,
				);
			spanStart = s;
			spanEnd = e;
			count = 1;
		}
		if (count > 0)
			await this.#readSpan(
				follow,
				count,
				spanStart,
				spanEnd,
				out,
				scratch,
				signal,
			);
	}

	async write(
		runs: RunCursor,
		src: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		signal?.throwIfAborted();
		while (runs.next()) {
			this.#checkBounds(runs.fileOffset, runs.runLength);
			if (this.#mode.private)
				await this.#writePrivate(
					runs.fileOffset,
					src,
					runs.bufOffset,
					runs.runLength,
				);
			else
				await this.#pwrite(
					src,
					runs.bufOffset,
					runs.runLength,
					runs.fileOffset,
					signal,
				);
		}
	}

	async flush(): Promise<void> {
		// pwrite already handed the bytes to the kernel: other readers see them. fsync is the driver's (durable).
	}

	async setLength(length: number): Promise<void> {
		try {
			await this.#fh.truncate(length);
		} catch (err) {
			throw fromNodeError(err, { target: this.#target, adapter: "raw" });
		}
		this.#size = length;
	}

	async release(): Promise<void> {
		this.#pages.clear();
		const direct = this.#direct;
		this.#direct = null;
		await (await direct?.catch(() => null))?.close();
	}

	#checkBounds(pos: number, length: number): void {
		if (pos + length > this.#size) {
			throw new OutOfBoundsError(
				`bytes [${pos}, ${pos + length}) are past the end of the file (${this.#size} bytes)`,
				{
					target: this.#target,
					adapter: "raw",
				},
			);
		}
	}

	async #readSpan(
		follow: RunCursor,
		count: number,
		start: number,
		end: number,
		out: Uint8Array,
		scratchRef: { buf: Uint8Array | null },
		signal?: AbortSignal,
	): Promise<void> {
		this.#checkBounds(start, end - start);
		if (count === 1) {
			follow.next();
			await this.#pread(
				out,
				follow.bufOffset,
				follow.runLength,
				follow.fileOffset,
				signal,
			);
			this.#overlay(follow.fileOffset, out, follow.bufOffset, follow.runLength);
			return;
		}
		if (scratchRef.buf === null || scratchRef.buf.length < end - start)
			scratchRef.buf = new Uint8Array(end - start);
		const scratch = scratchRef.buf;
		await this.#pread(scratch, 0, end - start, start, signal);
		this.#overlay(start, scratch, 0, end - start);
		for (let i = 0; i < count; i++) {
			follow.next();
			const at = follow.fileOffset - start;
			out.set(scratch.subarray(at, at + follow.runLength), follow.bufOffset);
		}
	}

	async #pread(
		buf: Uint8Array,
		at: number,
		length: number,
		position: number,
		signal?: AbortSignal,
	): Promise<void> {
		let done = 0;
		while (done < length) {
			signal?.throwIfAborted();
			let n: number;
			try {
				({ bytesRead: n } = await this.#fh.read(
					buf,
					at + done,
					Math.min(length - done, IO_CHUNK),
					position + done,
				));
			} catch (err) {
				throw fromNodeError(err, { target: this.#target, adapter: "raw" });
			}
			if (n === 0) {
				throw new TruncatedError(
					`file ended at ${position + done}, expected ${length - done} more bytes (was it truncated?)`,
					{
						target: this.#target,
						adapter: "raw",
					},
				);
			}
			done += n;
		}
	}

	// A long write: its page-aligned interior goes through the DirectWriter, the unaligned head and
	// tail (and everything, where O_DIRECT is refused) through the buffered handle.
	async #pwrite(
		buf: Uint8Array,
		at: number,
		length: number,
		position: number,
		signal?: AbortSignal,
	): Promise<void> {
		const span = this.#directWrites ? directSpan(position, length) : null;
		const direct = span === null ? null : await this.#directWriter();
		if (span === null || direct === null || !direct.usable)
			return this.#pwriteBuffered(buf, at, length, position, signal);
		const head = span.start - position;
		const end = position + length;
		if (head > 0) await this.#pwriteBuffered(buf, at, head, position, signal);
		if (!(await direct.write(buf, at + head, span, signal)))
			await this.#pwriteBuffered(
				buf,
				at + head,
				span.end - span.start,
				span.start,
				signal,
			);
		if (end > span.end)
			await this.#pwriteBuffered(
				buf,
				at + (span.end - position),
				end - span.end,
				span.end,
				signal,
			);
	}

	#directWriter(): Promise<DirectWriter | null> {
		this.#direct ??= DirectWriter.open(this.#fh, this.#target);
		return this.#direct;
	}

	async #pwriteBuffered(
		buf: Uint8Array,
		at: number,
		length: number,
		position: number,
		signal?: AbortSignal,
	): Promise<void> {
		let done = 0;
		while (done < length) {
			signal?.throwIfAborted();
			try {
				const { bytesWritten } = await this.#fh.write(
					buf,
					at + done,
					Math.min(length - done, IO_CHUNK),
					position + done,
				);
				done += bytesWritten;
			} catch (err) {
				throw fromNodeError(err, { target: this.#target, adapter: "raw" });
			}
		}
	}

	// Mode c: replaces file bytes [pos, pos+length) in `dst` at `at` by privately written pages.
	#overlay(pos: number, dst: Uint8Array, at: number, length: number): void {
		if (this.#pages.size === 0 || length === 0) return;
		const P = PRIVATE_PAGE_BYTES;
		const end = pos + length;
		for (let p = Math.floor(pos / P); p * P < end; p++) {
			const page = this.#pages.get(p);
			if (page === undefined) continue;
			const lo = Math.max(pos, p * P);
			const hi = Math.min(end, (p + 1) * P);
			dst.set(page.subarray(lo - p * P, hi - p * P), at + (lo - pos));
		}
	}

	async #writePrivate(
		pos: number,
		src: Uint8Array,
		at: number,
		length: number,
	): Promise<void> {
		const P = PRIVATE_PAGE_BYTES;
		const end = pos + length;
		for (let p = Math.floor(pos / P); p * P < end; p++) {
			const page = this.#pages.get(p) ?? (await this.#loadPage(p));
			const lo = Math.max(pos, p * P);
			const hi = Math.min(end, (p + 1) * P);
			page.set(src.subarray(at + (lo - pos), at + (hi - pos)), lo - p * P);
		}
	}

	#loadPage(p: number): Promise<Uint8Array> {
		let pending = this.#loading.get(p);
		if (pending === undefined) {
			if (
				(this.#pages.size + this.#loading.size + 1) * PRIVATE_PAGE_BYTES >
				this.#maxPrivateBytes
			) {
				throw new LimitExceededError(
					`copy-on-write writes exceed ${this.#maxPrivateBytes} bytes`,
					{ target: this.#target, adapter: "raw" },
				);
			}
			const P = PRIVATE_PAGE_BYTES;
			const page = new Uint8Array(P);
			const length = Math.min(P, this.#size - p * P);
			pending = this.#pread(page, 0, length, p * P).then(
				() => {
					this.#pages.set(p, page);
					this.#loading.delete(p);
					return page;
				},
				(err: unknown) => {
					this.#loading.delete(p);
					throw err;
				},
			);
			this.#loading.set(p, pending);
		}
		return pending;
	}
}
