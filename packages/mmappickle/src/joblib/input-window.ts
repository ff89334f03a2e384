/**
 * Compressed input for the decoders: sequential chunk reads of a file (`FileChunks`) and a
 * growable window over them (`InputWindow`) for the pure-TypeScript decoders, which parse from
 * memory and ask for more bytes between units (a bzip2 block, an LZ4 block).
 */
import { type FileHandle, open } from "node:fs/promises";
import { fromNodeError, LimitExceededError } from "@arraystore/core";
import { readAt } from "../file-read.js";

/** What a decoder hands out: decompressed chunks in order, then null. */
export interface ChunkDecoder {
	/** The next decompressed bytes (never empty), or null at the end of the stream. */
	next(): Promise<Uint8Array | null>;
	/** Releases the file and any native state; safe to call twice. */
	close(): void;
}

/** Sequential reads of a file, `chunk` bytes at a time. */
export class FileChunks {
	readonly path: string;
	readonly #fh: FileHandle;
	#pos = 0;
	#closed = false;

	private constructor(path: string, fh: FileHandle) {
		this.path = path;
		this.#fh = fh;
	}

	/** @throws {NotFoundError | IoError} through `fromNodeError`. */
	static async open(path: string): Promise<FileChunks> {
		try {
			return new FileChunks(path, await open(path, "r"));
		} catch (err) {
			throw fromNodeError(err, { target: path, adapter: "pickle" });
		}
	}

	/** Up to `n` next bytes; empty at the end of the file. */
	async read(n: number): Promise<Uint8Array> {
		const out = await readAt(this.#fh, this.#pos, n, {
			target: this.path,
			adapter: "pickle",
		});
		this.#pos += out.length;
		return out;
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#fh.close().catch(() => {});
	}
}

/**
 * Bytes `[0, length)` of compressed input in memory, `offset` the file position of byte 0.
 * Decoders read `bytes` directly and call `more()` when a unit needs bytes past `length`.
 */
export class InputWindow {
	bytes: Uint8Array = new Uint8Array(0);
	length = 0;
	/** File position of `bytes[0]`. */
	offset = 0;
	/** No bytes after `length`. */
	eof = false;
	readonly #src: FileChunks;
	readonly #maxWindow: number;

	/** `maxWindow` caps the unread bytes one unit may need (bounded memory for corrupt input). */
	constructor(src: FileChunks, maxWindow: number) {
		this.#src = src;
		this.#maxWindow = maxWindow;
	}

	/** Drops `n` consumed bytes from the front. */
	drop(n: number): void {
		if (n <= 0) return;
		this.bytes.copyWithin(0, n, this.length);
		this.length -= n;
		this.offset += n;
	}

	/**
	 * Reads until at least `want` bytes are in the window or the file ends.
	 * @throws {LimitExceededError} when `want` exceeds the window cap.
	 */
	async fill(want: number): Promise<void> {
		if (want > this.#maxWindow)
			throw new LimitExceededError(
				`a compressed unit needs more than ${this.#maxWindow} bytes of input (corrupt stream?)`,
				{ target: this.#src.path, adapter: "pickle" },
			);
		while (this.length < want && !this.eof) {
			if (this.bytes.length < want) {
				const grown = new Uint8Array(
					Math.min(this.#maxWindow, Math.max(want, this.bytes.length * 2)),
				);
				grown.set(this.bytes.subarray(0, this.length));
				this.bytes = grown;
			}
			const chunk = await this.#src.read(
				Math.max(
					want - this.length,
					Math.min(1 << 20, this.bytes.length - this.length),
				),
			);
			if (chunk.length === 0) {
				this.eof = true;
				break;
			}
			this.bytes.set(chunk, this.length);
			this.length += chunk.length;
		}
	}

	close(): void {
		this.#src.close();
	}
}
