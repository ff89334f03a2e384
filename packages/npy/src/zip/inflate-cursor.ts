/**
 * Random reads from a deflated zip member with bounded memory. Deflate streams cannot be entered
 * in the middle, so a cursor inflates sequentially and serves reads in increasing order (block
 * iteration costs one pass); a read behind the cursor restarts from the member's start. Small
 * members are inflated once and cached. Never inflates past the declared size (zip bombs), and
 * checks the CRC-32 whenever a pass reaches the end.
 */
import type { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { crc32, createInflateRaw } from "node:zlib";
import { MalformedError, TruncatedError } from "@arraystore/core";

/** Default: members up to 16 MiB are inflated once and kept. */
export const DEFAULT_INFLATE_CACHE_BYTES: number = 16 * 1024 * 1024;
const READ_CHUNK = 256 * 1024;
// Deflate emits at most 258 bytes per 2 bits of input: a larger declared size is a lie.
const MAX_DEFLATE_RATIO = 1032;

/** One contiguous piece of a read: `length` bytes at `position` of the member go to `out[outOffset]`. */
export interface ByteRun {
	readonly position: number;
	readonly length: number;
	readonly outOffset: number;
}

/** Where a deflated member lives. */
export interface DeflatedSpan {
	readonly name: string;
	readonly dataOffset: number;
	readonly compressedSize: number;
	readonly uncompressedSize: number;
	readonly crc32: number;
}

/** Serves reads of the uncompressed bytes of one deflated member. */
export class InflateCursor {
	readonly #fh: FileHandle;
	readonly #span: DeflatedSpan;
	readonly #cacheBytes: number;
	#cache: Uint8Array | null = null;
	#pass: Pass | null = null;
	#queue: Promise<void> = Promise.resolve();
	#closed = false;

	constructor(
		fh: FileHandle,
		span: DeflatedSpan,
		options: { readonly cacheBytes?: number } = {},
	) {
		if (
			span.uncompressedSize >
			span.compressedSize * MAX_DEFLATE_RATIO + 1024
		) {
			throw new MalformedError(
				`member ${span.name} declares ${span.uncompressedSize} bytes from ${span.compressedSize} deflated bytes, more than deflate can produce`,
			);
		}
		this.#fh = fh;
		this.#span = span;
		this.#cacheBytes = options.cacheBytes ?? DEFAULT_INFLATE_CACHE_BYTES;
	}

	/** Uncompressed size. */
	get size(): number {
		return this.#span.uncompressedSize;
	}

	/** Reads `runs` (ascending positions) into `out`. Reads are serialized. */
	read(
		runs: Iterable<ByteRun>,
		out: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		const job = this.#queue.then(() => this.#read(runs, out, signal));
		this.#queue = job.catch(() => undefined);
		return job;
	}

	/** Stops any pass in progress and drops the cache. */
	async close(): Promise<void> {
		this.#closed = true;
		await this.#queue;
		this.#pass?.destroy();
		this.#pass = null;
		this.#cache = null;
	}

	async #read(
		runs: Iterable<ByteRun>,
		out: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		if (this.#closed) throw new MalformedError("the npz member is closed");
		if (
			this.#cache === null &&
			this.#span.uncompressedSize <= this.#cacheBytes
		) {
			// Collected as inflated, so memory follows real output, never the declared size alone.
			this.#cache = await this.#newPass().readAll(signal);
		}
		const cache = this.#cache;
		for (const run of runs) {
			if (run.position + run.length > this.#span.uncompressedSize) {
				throw new TruncatedError(
					`member ${this.#span.name} ends before byte ${run.position + run.length}`,
				);
			}
			if (cache) {
				out.set(
					cache.subarray(run.position, run.position + run.length),
					run.outOffset,
				);
				continue;
			}
			if (this.#pass === null || this.#pass.position > run.position) {
				this.#pass?.destroy();
				this.#pass = this.#newPass();
			}
			await this.#pass.copy(run, out, signal);
		}
	}

	#newPass(): Pass {
		return new Pass(this.#fh, this.#span);
	}
}

// --- internal ---

/** One sequential inflate from the member's start. */
class Pass {
	readonly #span: DeflatedSpan;
	readonly #inflate: ReturnType<typeof createInflateRaw>;
	readonly #chunks: AsyncIterator<Buffer>;
	/** Uncompressed bytes consumed from the stream so far (the start of `#pending`). */
	position = 0;
	#pending: Uint8Array = new Uint8Array(0);
	#crc = 0;

	constructor(fh: FileHandle, span: DeflatedSpan) {
		this.#span = span;
		const source = Readable.from(
			compressedChunks(fh, span.dataOffset, span.compressedSize),
			{ objectMode: false },
		);
		this.#inflate = createInflateRaw();
		source.on("error", (err) => this.#inflate.destroy(err));
		source.pipe(this.#inflate);
		this.#chunks = this.#inflate[
			Symbol.asyncIterator
		]() as AsyncIterator<Buffer>;
	}

	/** Skips to `run.position` and copies `run.length` bytes into `out`. */
	async copy(
		run: ByteRun,
		out: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		let at = run.position;
		let left = run.length;
		let dst = run.outOffset;
		while (left > 0) {
			if (this.#pending.length === 0) {
				signal?.throwIfAborted();
				if (!(await this.#pull()))
					throw new TruncatedError(
						`member ${this.#span.name}: read past its end`,
					);
			}
			const skip = Math.min(at - this.position, this.#pending.length);
			if (skip > 0) {
				this.#consume(skip);
				continue;
			}
			const n = Math.min(left, this.#pending.length);
			out.set(this.#pending.subarray(0, n), dst);
			this.#consume(n);
			at += n;
			dst += n;
			left -= n;
		}
	}

	/** The whole member (checked size and CRC-32). */
	async readAll(signal?: AbortSignal): Promise<Uint8Array> {
		const chunks: Uint8Array[] = [];
		while (await this.#pull()) {
			signal?.throwIfAborted();
			chunks.push(this.#pending);
			this.#consume(this.#pending.length);
		}
		const all = new Uint8Array(this.position);
		let at = 0;
		for (const c of chunks) {
			all.set(c, at);
			at += c.length;
		}
		return all;
	}

	destroy(): void {
		this.#inflate.destroy();
	}

	#consume(n: number): void {
		this.#pending = this.#pending.subarray(n);
		this.position += n;
	}

	/** The next inflated chunk into `#pending`; false at the (checked) end of the stream. */
	async #pull(): Promise<boolean> {
		let r: IteratorResult<Buffer>;
		try {
			r = await this.#chunks.next();
		} catch (err) {
			if (err instanceof MalformedError || err instanceof TruncatedError)
				throw err;
			const code = (err as { code?: unknown }).code;
			if (
				code === "Z_BUF_ERROR" ||
				(err instanceof Error && /unexpected end/i.test(err.message))
			) {
				throw new TruncatedError(
					`member ${this.#span.name}: deflate stream ends early`,
					{ cause: err },
				);
			}
			throw new MalformedError(
				`member ${this.#span.name}: corrupt deflate data`,
				{ cause: err },
			);
		}
		if (r.done) {
			if (this.position !== this.#span.uncompressedSize) {
				throw new TruncatedError(
					`member ${this.#span.name} inflates to ${this.position} bytes, not the declared ${this.#span.uncompressedSize}`,
				);
			}
			if (this.#crc >>> 0 !== this.#span.crc32 >>> 0)
				throw new MalformedError(`member ${this.#span.name}: CRC-32 mismatch`);
			return false;
		}
		const chunk = new Uint8Array(
			r.value.buffer,
			r.value.byteOffset,
			r.value.byteLength,
		);
		if (this.position + chunk.length > this.#span.uncompressedSize) {
			this.destroy();
			throw new MalformedError(
				`member ${this.#span.name} inflates to more than its declared ${this.#span.uncompressedSize} bytes`,
			);
		}
		this.#crc = crc32(chunk, this.#crc);
		this.#pending = chunk;
		return true;
	}
}

async function* compressedChunks(
	fh: FileHandle,
	start: number,
	length: number,
): AsyncGenerator<Uint8Array> {
	for (let at = 0; at < length; ) {
		const buf = new Uint8Array(Math.min(READ_CHUNK, length - at));
		const { bytesRead } = await fh.read(buf, 0, buf.length, start + at);
		if (bytesRead === 0)
			throw new TruncatedError("zip archive ends inside a deflated member");
		at += bytesRead;
		yield buf.subarray(0, bytesRead);
	}
}
