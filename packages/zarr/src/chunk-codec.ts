/**
 * Encoding and decoding of one (inner) chunk's bytes through its bytes→bytes chain, on a
 * worker when the chunk is big enough to be worth the hop, inline otherwise.
 */
import { MalformedError } from "@arraystore/core";
import type { ChunkPlan } from "./codec-plan.js";
import { type KernelCodec, type KernelTask, runInline } from "./kernel.js";
import type { WorkerPool } from "./worker-pool.js";

/** Chunks smaller than this are encoded and decoded on the calling thread. */
export const INLINE_BYTES: number = 64 * 1024;

function grow(n: number, codec: KernelCodec): number {
	if (codec.id === "crc32c") return n + 4;
	if (codec.id === "shuffle") return n;
	// Compressors: generous bound on incompressible data (blosc, lz4, zstd, deflate headers).
	return n + Math.ceil(n / 2) + 65536;
}

function owns(b: Uint8Array): boolean {
	return (
		b.byteOffset === 0 &&
		b.byteLength === b.buffer.byteLength &&
		b.buffer instanceof ArrayBuffer
	);
}

/** The codec of one chunk shape. */
export class ChunkCodec {
	readonly chunkBytes: number;
	readonly #chain: readonly KernelCodec[];
	readonly #limits: readonly number[];
	readonly #pool: WorkerPool | null;
	readonly #inlineBytes: number;

	readonly #exact: boolean;

	/**
	 * `chunkBytes` is the exact decoded size, or (with `exact` false, for vlen strings) a cap.
	 */
	constructor(
		plan: ChunkPlan,
		chunkBytes: number,
		pool: WorkerPool | null,
		inlineBytes: number = INLINE_BYTES,
		exact = true,
	) {
		this.#exact = exact;
		this.chunkBytes = chunkBytes;
		this.#chain = plan.chain;
		const limits: number[] = [];
		let n = chunkBytes;
		for (const c of plan.chain) {
			limits.push(n);
			n = grow(n, c);
		}
		this.#limits = limits;
		this.#pool = pool;
		this.#inlineBytes = inlineBytes;
	}

	/**
	 * Decodes stored bytes into exactly `chunkBytes` bytes (a fresh buffer when `encoded` is
	 * shared; `encoded` itself for codec-less chunks).
	 * @throws {MalformedError} corrupt data or a size other than the chunk's.
	 */
	async decode(encoded: Uint8Array): Promise<Uint8Array> {
		let raw: Uint8Array;
		if (this.#chain.length === 0) raw = encoded;
		else
			raw = await this.#run(
				{
					op: "decode",
					chain: this.#chain,
					bytes: encoded,
					limits: this.#limits,
				},
				owns(encoded),
			);
		if (
			this.#exact
				? raw.length !== this.chunkBytes
				: raw.length > this.chunkBytes
		)
			throw new MalformedError(
				`chunk decodes to ${raw.length} bytes, expected ${this.chunkBytes}`,
			);
		return raw;
	}

	/** Encodes a chunk's raw bytes. With `owned`, `raw` may be transferred to a worker. */
	async encode(raw: Uint8Array, owned = false): Promise<Uint8Array> {
		if (this.#chain.length === 0) return raw;
		return this.#run(
			{ op: "encode", chain: this.#chain, bytes: raw },
			owned && owns(raw),
		);
	}

	#run(task: KernelTask, transfer: boolean): Promise<Uint8Array> {
		// Variable-size chunks (strings) are judged by their own size.
		const size = this.#exact
			? this.chunkBytes
			: task.bytes.length * (task.op === "decode" ? 4 : 1);
		if (this.#pool && size >= this.#inlineBytes)
			return this.#pool.run(task, transfer);
		return runInline(task);
	}
}

/** True when every element of `buf` equals `fill` (one element's bytes). */
export function isAllFill(buf: Uint8Array, fill: Uint8Array): boolean {
	const w = fill.length;
	if (fill.every((b) => b === 0)) {
		let i = 0;
		if (buf.byteOffset % 4 === 0) {
			const n4 = buf.length >> 2;
			const words = new Uint32Array(buf.buffer, buf.byteOffset, n4);
			for (let k = 0; k < n4; k++) if (words[k] !== 0) return false;
			i = n4 << 2;
		}
		for (; i < buf.length; i++) if (buf[i] !== 0) return false;
		return true;
	}
	for (let i = 0; i < buf.length; i += w) {
		for (let b = 0; b < w; b++) if (buf[i + b] !== fill[b]) return false;
	}
	return true;
}

/** Fills `buf` with repetitions of one element. */
export function fillWith(buf: Uint8Array, fill: Uint8Array | null): void {
	if (fill === null || fill.every((b) => b === 0)) {
		buf.fill(0);
		return;
	}
	const w = fill.length;
	if (buf.length === 0) return;
	buf.set(fill.subarray(0, Math.min(w, buf.length)), 0);
	// Doubling copies: log(n) memcpy calls instead of n small ones.
	let filled = Math.min(w, buf.length);
	while (filled < buf.length) {
		const n = Math.min(filled, buf.length - filled);
		buf.copyWithin(filled, 0, n);
		filled += n;
	}
}
