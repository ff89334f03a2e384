/**
 * The byte layer under the raw driver: moves the runs of a box between a file and a buffer.
 * Two implementations: windowed memory mappings (mapping.ts) and positional file I/O when the
 * mmap-io addon is unavailable (file-io.ts).
 */
import type { RunCursor } from "./runs.js";

/** How the file is accessed. */
export interface ByteIoMode {
	/** Writes are allowed (r+, w+, c). */
	readonly writable: boolean;
	/** Writes stay in memory and never reach the file (mode c). */
	readonly private: boolean;
}

/** Moves runs between the file and box buffers. */
export interface ByteIo {
	/** "mmap" when reads copy out of mappings (and zero-copy views are possible). */
	readonly kind: "mmap" | "file";
	/** Current file length in bytes. */
	readonly size: number;
	/** Copies every run of `runs` from the file into `out` (at each run's `bufOffset`). */
	read(runs: RunCursor, out: Uint8Array, signal?: AbortSignal): Promise<void>;
	/** Copies every run of `runs` from `src` into the file (or the private copy in mode c). */
	write(runs: RunCursor, src: Uint8Array, signal?: AbortSignal): Promise<void>;
	/** Makes earlier writes visible in the file (msync); no-op for private or read-only access. */
	flush(): Promise<void>;
	/** Flushes, drops every cached view, then sets the file length (ftruncate). */
	setLength(length: number): Promise<void>;
	/** Flushes and drops every mapping or private page; the object is unusable afterwards. */
	release(): Promise<void>;
}
