/**
 * Sequential, bounds-checked reading for the VM over a file region, a memory buffer or a
 * decompressing stream. Positions are absolute in their space (file offsets, or offsets in the
 * decompressed stream), so byte ranges the VM records can be read back later.
 */
import type { FileHandle } from "node:fs/promises";
import { TruncatedError } from "@arraystore/core";
import { readAt } from "../file-read.js";
import type { ByteSpace } from "./values.js";

/** Where the VM's bytes come from. */
export interface ByteInput {
	readonly space: ByteSpace;
	/** Exclusive end, when known (files and buffers); null for streams. */
	readonly end: number | null;
	/** Random access (skips cost nothing). */
	readonly seekable: boolean;
	/** Up to `len` bytes at `pos` (fewer only at the end). Streams are read strictly in order. */
	read(pos: number, len: number): Promise<Uint8Array>;
}

const CHUNK = 64 * 1024;

/** A region `[start, end)` of an open file. */
export function fileInput(fh: FileHandle, end: number): ByteInput {
	return {
		space: "file",
		end,
		seekable: true,
		read: (pos, len) => readAt(fh, pos, Math.max(0, Math.min(len, end - pos))),
	};
}

/** Bytes in memory; `base` is the absolute position of `bytes[0]`. */
export function memoryInput(
	bytes: Uint8Array,
	base = 0,
	space: ByteSpace = "file",
): ByteInput {
	const end = base + bytes.length;
	return {
		space,
		end,
		seekable: true,
		read: async (pos, len) =>
			bytes.subarray(pos - base, Math.min(end, pos + len) - base),
	};
}

/** Reads `[pos, pos+n)` with exact-length checks. */
export class ByteReader {
	readonly input: ByteInput;
	#pos: number;
	#buf: Uint8Array = new Uint8Array(0);
	#bufPos: number;
	readonly #what: string;

	constructor(input: ByteInput, start: number, what = "pickle") {
		this.input = input;
		this.#pos = start;
		this.#bufPos = start;
		this.#what = what;
	}

	/** Absolute position of the next byte. */
	get pos(): number {
		return this.#pos;
	}

	/** Bytes known to remain (Infinity for streams). */
	get remaining(): number {
		return this.input.end === null
			? Number.POSITIVE_INFINITY
			: this.input.end - this.#pos;
	}

	/** True when no byte remains. */
	async atEnd(): Promise<boolean> {
		if (this.#avail() > 0) return false;
		await this.#fill(1, false);
		return this.#avail() === 0;
	}

	/** The next `n` bytes (a view valid until the next call); TruncatedError at EOF. */
	async take(n: number): Promise<Uint8Array> {
		if (this.#avail() < n) await this.#fill(n, true);
		const at = this.#pos - this.#bufPos;
		this.#pos += n;
		return this.#buf.subarray(at, at + n);
	}

	/** One byte. */
	async u8(): Promise<number> {
		if (this.#avail() < 1) await this.#fill(1, true);
		const b = this.#buf[this.#pos - this.#bufPos] as number;
		this.#pos += 1;
		return b;
	}

	/** Bytes up to and excluding the next `\n` (at most `max`), consuming the newline. */
	async line(max: number): Promise<Uint8Array> {
		let scanned = 0;
		for (;;) {
			const at = this.#pos - this.#bufPos;
			const idx = this.#buf
				.subarray(at + scanned, at + Math.min(this.#avail(), max + 1))
				.indexOf(0x0a);
			if (idx >= 0) {
				const out = this.#buf.slice(at, at + scanned + idx);
				this.#pos += scanned + idx + 1;
				return out;
			}
			scanned = this.#avail();
			if (scanned > max)
				throw new TruncatedError(
					`${this.#what}: text argument longer than ${max} bytes`,
				);
			await this.#fill(scanned + 1, true);
		}
	}

	/** Skips `n` bytes (bounds-checked); returns the position where they started. */
	async skip(n: number): Promise<number> {
		const start = this.#pos;
		if (this.#avail() >= n) {
			this.#pos += n;
			return start;
		}
		if (this.input.seekable) {
			if (this.input.end !== null && start + n > this.input.end) {
				throw new TruncatedError(
					`${this.#what}: ${n}-byte payload at ${start} runs past the end (${this.input.end})`,
				);
			}
			this.#pos = start + n;
			this.#buf = new Uint8Array(0);
			this.#bufPos = this.#pos;
			return start;
		}
		let left = n - this.#avail();
		this.#pos += this.#avail();
		this.#buf = new Uint8Array(0);
		this.#bufPos = this.#pos;
		while (left > 0) {
			const chunk = await this.input.read(this.#pos, Math.min(left, 1 << 20));
			if (chunk.length === 0)
				throw new TruncatedError(
					`${this.#what}: ${n}-byte payload at ${start} runs past the end of the stream`,
				);
			this.#pos += chunk.length;
			left -= chunk.length;
			this.#bufPos = this.#pos;
		}
		return start;
	}

	#avail(): number {
		return this.#bufPos + this.#buf.length - this.#pos;
	}

	async #fill(n: number, required: boolean): Promise<void> {
		const keep = this.#buf.subarray(this.#pos - this.#bufPos);
		const parts: Uint8Array[] = [keep];
		let have = keep.length;
		while (have < n) {
			const chunk = await this.input.read(
				this.#pos + have,
				Math.max(CHUNK, n - have),
			);
			if (chunk.length === 0) break;
			parts.push(chunk);
			have += chunk.length;
		}
		if (parts.length > 1) {
			const buf = new Uint8Array(have);
			let o = 0;
			for (const p of parts) {
				buf.set(p, o);
				o += p.length;
			}
			this.#buf = buf;
		} else {
			this.#buf = keep;
		}
		this.#bufPos = this.#pos;
		if (required && have < n) {
			throw new TruncatedError(
				`${this.#what}: unexpected end of data at ${this.#pos + have} (needed ${n} bytes at ${this.#pos})`,
			);
		}
	}
}
