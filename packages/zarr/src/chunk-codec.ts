/**
 * Encoding and decoding of one (inner) chunk's bytes through its bytes→bytes chain. Chains of
 * native codecs that run on libuv's thread pool (napi lz4, node:zlib, blosc over those) run
 * on the calling thread with their work there, as many at once as the pool has workers; other
 * chains (zstd, whose binding is synchronous) go to a worker when the chunk is big enough to
 * be worth the hop, inline otherwise.
 */
import { MalformedError } from "@arraystore/core";
import type { ChunkPlan } from "./codec-plan.js";
import {
	decodeHeadInline,
	decodeSyncInline,
	type KernelCodec,
	type KernelTask,
	loadKernel,
	releaseEncoded,
	runInline,
} from "./kernel.js";
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

/** Where and how a {@link ChunkCodec} runs. */
export interface ChunkCodecOptions {
	/** Codec workers (null: everything on the calling thread). */
	readonly pool: WorkerPool | null;
	/** Chunks below this many bytes are coded on the calling thread (default 64 KiB). */
	readonly inlineBytes?: number;
	/** `chunkBytes` is the exact decoded size (default), or only a cap (vlen strings). */
	readonly exact?: boolean;
	/** Native codecs where they load (default true); false: numcodecs.js WebAssembly. */
	readonly native?: boolean;
}

/** The codec of one chunk shape. */
export class ChunkCodec {
	readonly chunkBytes: number;
	/** The most bytes a chunk can take stored (bound of the whole chain's encoding). */
	readonly encodedBound: number;
	readonly #chain: readonly KernelCodec[];
	readonly #limits: readonly number[];
	readonly #pool: WorkerPool | null;
	readonly #inlineBytes: number;
	readonly #exact: boolean;
	readonly #native: boolean;
	#threadPool: Promise<boolean> | undefined;

	constructor(plan: ChunkPlan, chunkBytes: number, options: ChunkCodecOptions) {
		this.#exact = options.exact ?? true;
		this.#native = options.native ?? true;
		this.chunkBytes = chunkBytes;
		this.#chain = plan.chain;
		const limits: number[] = [];
		let n = chunkBytes;
		for (const c of plan.chain) {
			limits.push(n);
			n = grow(n, c);
		}
		this.#limits = limits;
		this.encodedBound = n;
		this.#pool = options.pool;
		this.#inlineBytes = options.inlineBytes ?? INLINE_BYTES;
	}

	/** Per codec of the chain, the most bytes its decoder may produce. */
	get limits(): readonly number[] {
		return this.#limits;
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
					native: this.#native,
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

	/**
	 * {@link decode} for one small read: on the calling thread (no worker, no libuv trip) when
	 * the chain has synchronous decoders (crc32c, lz4, zstd), else inline on libuv's pool (blosc
	 * splits in parallel) or the calling thread, never queued behind a worker. With `want` ([from, to) of the decoded chunk), only those
	 * bytes of the result are sure to be decoded (blosc frames skip the blocks outside, zstd
	 * frames stop after the block holding the last one: the result may be shorter).
	 * @throws {MalformedError} corrupt data or a size other than the chunk's.
	 */
	async decodeNow(
		encoded: Uint8Array,
		want?: readonly [number, number],
	): Promise<Uint8Array> {
		if (this.#chain.length === 0 || !this.#exact) return this.decode(encoded);
		const raw =
			decodeSyncInline(
				this.#chain,
				encoded,
				this.#limits,
				this.#native,
				want,
			) ??
			(await runInline({
				op: "decode",
				chain: this.#chain,
				bytes: encoded,
				limits: this.#limits,
				native: this.#native,
				...(want ? { want } : {}),
			}));
		// A zstd chunk may stop after the wanted bytes (the rest is not decoded).
		const short = want !== undefined && raw.length < this.chunkBytes;
		if (short ? raw.length < (want?.[1] ?? 0) : raw.length !== this.chunkBytes)
			throw new MalformedError(
				`chunk decodes to ${raw.length} bytes, expected ${this.chunkBytes}`,
			);
		return raw;
	}

	/**
	 * How many of a stored chunk's `total` bytes a small read wanting decoded bytes up to
	 * `want[1]` reads first (see {@link decodeHead}), or `total` when the chain cannot decode
	 * from a head (only one native zstd codec can) or the head would be most of it.
	 */
	headBytes(want: readonly [number, number], total: number): number {
		const c = this.#chain[0];
		if (this.#chain.length !== 1 || c?.id !== "zstd" || !this.#native)
			return total;
		if (want[1] > this.chunkBytes - (this.chunkBytes >> 3)) return total;
		// The share of the stored bytes the wanted ones make up, with a margin for the guess.
		const share = want[1] / this.chunkBytes;
		return Math.min(total, Math.ceil(total * share * 1.125) + 16384);
	}

	/**
	 * Decodes the first `head.length` of a stored chunk's `total` bytes: at least decoded bytes
	 * [0, want[1]), or null when the head did not reach far enough (decode the whole then).
	 * @throws {MalformedError} corrupt data.
	 */
	async decodeHead(
		head: Uint8Array,
		want: readonly [number, number],
		total: number,
	): Promise<Uint8Array | null> {
		const raw = await decodeHeadInline(
			this.#chain,
			head,
			this.#limits,
			want,
			total,
		);
		if (raw === null || raw.length < want[1]) {
			if (raw) releaseEncoded(raw);
			return null;
		}
		if (raw.length > this.chunkBytes)
			throw new MalformedError(
				`chunk decodes to more than ${this.chunkBytes} bytes`,
			);
		return raw;
	}

	/** Encodes a chunk's raw bytes. With `owned`, `raw` may be transferred to a worker. */
	async encode(raw: Uint8Array, owned = false): Promise<Uint8Array> {
		if (this.#chain.length === 0) return raw;
		return this.#run(
			{ op: "encode", chain: this.#chain, bytes: raw, native: this.#native },
			owned && owns(raw),
		);
	}

	/**
	 * True when a whole chunk's bytes are encoded without leaving this thread's memory (no
	 * codec, or one that runs inline): the caller may then pass a view into a larger buffer.
	 */
	async encodesInPlace(): Promise<boolean> {
		if (this.#chain.length === 0 || !this.#pool) return true;
		if (!this.#exact || this.chunkBytes < this.#inlineBytes) return true;
		return this.#onThreadPool();
	}

	#onThreadPool(): Promise<boolean> {
		this.#threadPool ??= loadKernel().then((k) =>
			k.threadPoolChain(this.#chain, this.#native),
		);
		return this.#threadPool;
	}

	async #run(task: KernelTask, transfer: boolean): Promise<Uint8Array> {
		const pool = this.#pool;
		// Variable-size chunks (strings) are judged by their own size.
		const size = this.#exact
			? this.chunkBytes
			: task.bytes.length * (task.op === "decode" ? 4 : 1);
		if (!pool || size < this.#inlineBytes) return runInline(task);
		if (await this.#onThreadPool())
			return pool.slots.run(() => runInline(task));
		return pool.run(task, transfer);
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
