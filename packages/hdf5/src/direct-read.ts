/**
 * Direct chunk reads (issue #8): for read-only chunked datasets whose pipeline is made of
 * deflate, shuffle and fletcher32 only, each chunk's stored bytes are read from the file with
 * positional reads, inflated by Node's zlib on libuv's thread pool (every core, and native
 * zlib is about twice as fast as h5wasm's), unshuffled and checked here, and the chunk's
 * overlap is copied straight into the caller's buffer. Nothing passes through the wasm heap
 * or a worker. Chunk positions come from the file's chunk index (chunk-index.ts).
 *
 * Untrusted input: a stored size is checked against the file and against what the chunk can
 * inflate from before anything is allocated, inflation stops at the chunk's size, and a chunk
 * that decodes to any other size, a bad deflate stream or a fletcher32 mismatch is a
 * {@link MalformedError}. Chunks never written read as the fill value.
 */
import { close, read } from "node:fs";
import {
	copyElements,
	fromNodeError,
	MalformedError,
	type Region,
	shapeSize,
	stridesOf,
} from "@arraystore/core";
import { simdUnshuffled } from "@arraystore/core/shuffle-simd";
import type { ChunkTable } from "./chunk-index.js";
import { ADAPTER } from "./errors.js";
import { stripFletcher32 } from "./fletcher32.js";
import { InflateError, Inflater } from "./inflate-into.js";
import {
	unshuffleInto,
	unshuffleWordRun,
	wordUnshufflable,
} from "./shuffle.js";

/** Filter ids decoded here: deflate, shuffle, fletcher32. */
export const DIRECT_FILTERS: ReadonlySet<number> = new Set([1, 2, 3]);

/** Largest chunk read directly (bigger ones go through HDF5). */
export const MAX_DIRECT_CHUNK_BYTES: number = 256 * 1024 * 1024;
/**
 * Scratch memory of one reader's chunks in flight (each holds up to three chunk-sized
 * buffers: stored bytes, inflated, unshuffled); at least one chunk is always in flight.
 */
export const DIRECT_SCRATCH_BYTES: number = 64 * 1024 * 1024;
/** Decoded chunks kept per reader for partial reads (chunks larger than this are not kept). */
export const DIRECT_CACHE_BYTES: number = 8 * 1024 * 1024;

/** One filter of the pipeline (pipeline order), as the direct reader needs it. */
export interface DirectFilter {
	readonly id: number;
	/** Shuffle's element size (cd_values[0]). */
	readonly elementSize: number;
}

/** What a {@link DirectReader} reads from. */
export interface DirectSource {
	readonly target: string;
	/** Open descriptor of the file (the reader closes it). */
	readonly fd: number;
	readonly table: ChunkTable;
	readonly chunks: readonly number[];
	readonly itemsize: number;
	readonly filters: readonly DirectFilter[];
	/** One element of fill value in stored byte order (null: zeros). */
	readonly fill: Uint8Array | null;
}

const stats = { reads: 0, chunks: 0, filled: 0, cached: 0, bytes: 0, simd: 0 };

/**
 * Process-wide counters of direct reads: calls, chunks decoded, chunks filled, chunks taken
 * from the cache, stored bytes read, and shuffled chunks placed through the SIMD unshuffle.
 */
export function directReadStats(): {
	readonly reads: number;
	readonly chunks: number;
	readonly filled: number;
	readonly cached: number;
	readonly bytes: number;
	readonly simd: number;
} {
	return { ...stats };
}

// fs reads and zlib share libuv's pool: twice its size keeps it busy while chunks are copied.
function inFlight(): number {
	const pool = Number(process.env.UV_THREADPOOL_SIZE);
	return 2 * (Number.isInteger(pool) && pool > 0 ? Math.min(pool, 64) : 4);
}

interface Slot {
	raw: Uint8Array;
	plain: Uint8Array;
	readonly inflater: Inflater;
}

/** A decoded chunk; `shuffled`: still shuffled by whole elements (see {@link wordUnshufflable}). */
interface Decoded {
	readonly bytes: Uint8Array;
	readonly shuffled: boolean;
}

/** Reads boxes of one dataset chunk by chunk; see the module comment. */
export class DirectReader {
	readonly #src: DirectSource;
	readonly #chunkBytes: number;
	/** Largest stored size a chunk may have (deflate's worst-case expansion, checksum). */
	readonly #maxStored: number;
	readonly #chunkStrides: number[];
	readonly #slots: Slot[] = [];
	#fillChunk: Uint8Array | null = null;
	/** Decoded chunks read in part, least recently used first. */
	readonly #cache = new Map<number, Uint8Array>();
	readonly #cacheEntries: number;
	#closed = false;

	constructor(src: DirectSource) {
		this.#src = src;
		this.#chunkBytes = shapeSize(src.chunks) * src.itemsize;
		this.#maxStored =
			this.#chunkBytes + Math.ceil(this.#chunkBytes / 256) + 1024;
		this.#chunkStrides = stridesOf(src.chunks, "C");
		this.#cacheEntries = Math.floor(DIRECT_CACHE_BYTES / this.#chunkBytes);
	}

	/** Reads `region` (C order, stored byte order) into `out`. */
	async read(
		region: Region,
		out: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		stats.reads++;
		const { chunks } = this.#src;
		const n = chunks.length;
		if (shapeSize(region.shape) === 0) return;
		const lo: number[] = [];
		const hi: number[] = [];
		for (let d = 0; d < n; d++) {
			const c = chunks[d] as number;
			const s = region.start[d] as number;
			lo.push(Math.floor(s / c));
			hi.push(Math.ceil((s + (region.shape[d] as number)) / c));
		}
		const cell = [...lo];
		let more = true;
		// Next chunk cell of the region, in C order (null when done).
		const next = (): number[] | null => {
			if (!more) return null;
			const now = [...cell];
			let d = n - 1;
			for (; d >= 0; d--) {
				cell[d] = (cell[d] as number) + 1;
				if ((cell[d] as number) < (hi[d] as number)) break;
				cell[d] = lo[d] as number;
			}
			if (d < 0) more = false;
			return now;
		};
		const regionStrides = stridesOf(region.shape, "C");
		let failure: { err: unknown } | null = null;
		const runner = async (slot: Slot): Promise<void> => {
			for (;;) {
				if (failure !== null) return;
				const c = next();
				if (c === null) return;
				try {
					signal?.throwIfAborted();
					await this.#chunk(slot, c, region, regionStrides, out);
				} catch (err) {
					failure ??= { err };
					return;
				}
			}
		};
		const total = hi.reduce((a, h, d) => a * (h - (lo[d] as number)), 1);
		const k = Math.max(1, Math.min(this.#maxSlots(), total));
		// Slots are taken from the spares: concurrent reads never share scratch buffers.
		const slots = this.#slots.splice(0, k);
		while (slots.length < k)
			slots.push({
				raw: new Uint8Array(0),
				plain: new Uint8Array(0),
				inflater: new Inflater(),
			});
		try {
			// Every runner settles before returning: no late chunk touches `out` afterwards.
			await Promise.all(slots.map(runner));
		} finally {
			const keep = this.#maxSlots() - this.#slots.length;
			if (!this.#closed && keep > 0) this.#slots.push(...slots.slice(0, keep));
		}
		if (failure !== null) throw (failure as { err: unknown }).err;
	}

	// Chunks in flight: twice libuv's pool, within the scratch budget.
	#maxSlots(): number {
		const fit = Math.floor(DIRECT_SCRATCH_BYTES / (3 * this.#chunkBytes));
		return Math.max(1, Math.min(inFlight(), fit));
	}

	/** Closes the file descriptor. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#slots.length = 0;
		this.#cache.clear();
		close(this.#src.fd, () => {});
	}

	async #chunk(
		slot: Slot,
		cell: readonly number[],
		region: Region,
		regionStrides: readonly number[],
		out: Uint8Array,
	): Promise<void> {
		const { table, chunks, itemsize } = this.#src;
		let linear = 0;
		for (let d = 0; d < cell.length; d++)
			linear = linear * (table.grid[d] as number) + (cell[d] as number);
		const e = table.get(linear);
		// The overlap of the chunk and the region.
		let srcBase = 0;
		let dstBase = 0;
		const counts: number[] = [];
		for (let d = 0; d < cell.length; d++) {
			const c0 = (cell[d] as number) * (chunks[d] as number);
			const r0 = region.start[d] as number;
			const a = Math.max(c0, r0);
			const b = Math.min(
				c0 + (chunks[d] as number),
				r0 + (region.shape[d] as number),
			);
			counts.push(b - a);
			srcBase += (a - c0) * (this.#chunkStrides[d] as number);
			dstBase += (a - r0) * (regionStrides[d] as number);
		}
		const place = (data: Uint8Array): void =>
			copyElements(
				{ bytes: data, base: srcBase, strides: this.#chunkStrides },
				{ bytes: out, base: dstBase, strides: regionStrides },
				counts,
				itemsize,
			);
		if (e === null) {
			stats.filled++;
			place(this.#fill());
			return;
		}
		// Chunks read in part are kept a while: reads that walk through a chunk in smaller
		// boxes (rows, slabs) decode it once, as HDF5's chunk cache would.
		const partial =
			this.#cacheEntries > 0 &&
			counts.some((c, d) => c < (chunks[d] as number));
		const hit = partial ? this.#cache.get(linear) : undefined;
		if (hit !== undefined) {
			this.#cache.delete(linear);
			this.#cache.set(linear, hit);
			stats.cached++;
			place(hit);
			return;
		}
		const decoded = await this.#decode(slot, e.address, e.size, e.mask);
		if (partial) {
			const buf = this.#cacheBuffer();
			const plain = decoded.shuffled
				? unshuffleInto(decoded.bytes, itemsize, buf)
				: buf;
			if (!decoded.shuffled) buf.set(decoded.bytes);
			this.#cache.set(linear, plain);
			place(plain);
			return;
		}
		const last = counts.length - 1;
		// Shuffled chunks: unshuffled with SIMD into the module's memory and copied from there
		// (`place` is synchronous, so the view is still valid; 0.1 ms per MiB against 0.3-0.7 for
		// the word loop); else runs of whole words straight into `out`; else unshuffled, then copied.
		if (decoded.shuffled) {
			const plain = simdUnshuffled(decoded.bytes, itemsize);
			if (plain !== null) {
				stats.simd++;
				place(plain);
				return;
			}
			if (
				srcBase % 4 === 0 &&
				(chunks[last] as number) % 4 === 0 &&
				(counts[last] as number) % 4 === 0 &&
				out.byteOffset % 4 === 0
			) {
				this.#placeShuffled(
					decoded.bytes,
					srcBase,
					out,
					dstBase,
					regionStrides,
					counts,
				);
				return;
			}
		}
		place(
			decoded.shuffled
				? unshuffleInto(decoded.bytes, itemsize, this.#plain(slot))
				: decoded.bytes,
		);
	}

	// A chunk-sized buffer for the cache: the least recently used entry's, once it is full.
	#cacheBuffer(): Uint8Array {
		if (this.#cache.size >= this.#cacheEntries) {
			const [key, oldest] = this.#cache.entries().next().value as [
				number,
				Uint8Array,
			];
			this.#cache.delete(key);
			return oldest;
		}
		return new Uint8Array(this.#chunkBytes);
	}

	// The slot's buffer for an unshuffled chunk.
	#plain(slot: Slot): Uint8Array {
		if (slot.plain.length < this.#chunkBytes)
			slot.plain = new Uint8Array(this.#chunkBytes);
		return slot.plain;
	}

	// Places the overlap of a shuffled chunk into `out` a last-dimension run at a time (C order:
	// that dimension steps by one element on both sides; runs start and end on whole words).
	#placeShuffled(
		src: Uint8Array,
		srcBase: number,
		out: Uint8Array,
		dstBase: number,
		regionStrides: readonly number[],
		counts: readonly number[],
	): void {
		const size = this.#src.itemsize;
		const n = this.#chunkBytes / size;
		const q = n / 4;
		const planes = new Uint32Array(src.buffer, src.byteOffset, q * size);
		const dst = new Uint32Array(out.buffer, out.byteOffset, out.length >>> 2);
		const last = counts.length - 1;
		const words = (counts[last] as number) / 4;
		const strides = this.#chunkStrides;
		const idx = new Array<number>(last).fill(0);
		let s = srcBase;
		let d = dstBase;
		for (;;) {
			unshuffleWordRun(planes, size, q, s / 4, words, dst, d);
			let k = last - 1;
			for (; k >= 0; k--) {
				idx[k] = (idx[k] as number) + 1;
				s += strides[k] as number;
				d += regionStrides[k] as number;
				if ((idx[k] as number) < (counts[k] as number)) break;
				s -= (strides[k] as number) * (counts[k] as number);
				d -= (regionStrides[k] as number) * (counts[k] as number);
				idx[k] = 0;
			}
			if (k < 0) return;
		}
	}

	// A chunk's worth of fill value (built once).
	#fill(): Uint8Array {
		if (this.#fillChunk !== null) return this.#fillChunk;
		const b = new Uint8Array(this.#chunkBytes);
		const f = this.#src.fill;
		if (f?.some((v) => v !== 0))
			for (let i = 0; i < b.length; i += f.length) b.set(f, i);
		this.#fillChunk = b;
		return b;
	}

	async #decode(
		slot: Slot,
		address: number,
		size: number,
		mask: number,
	): Promise<Decoded> {
		const { filters, target, itemsize } = this.#src;
		if (size > this.#maxStored)
			throw this.#malformed(
				`chunk at ${address} stores ${size} bytes, more than a ${this.#chunkBytes}-byte chunk can take`,
			);
		if (slot.raw.length < size) slot.raw = new Uint8Array(size);
		await this.#readAt(slot.raw, size, address);
		stats.bytes += size;
		let data = slot.raw.subarray(0, size);
		for (let f = filters.length - 1; f >= 0; f--) {
			if (mask & (2 ** f)) continue; // filter skipped for this chunk
			const filter = filters[f] as DirectFilter;
			if (filter.id === 3) {
				const stripped = stripFletcher32(data);
				if (stripped === null)
					throw this.#malformed(
						`fletcher32 checksum mismatch in the chunk at ${address}`,
					);
				data = stripped;
			} else if (filter.id === 1) {
				data = await this.#inflate(slot, data, address);
			} else if (filter.id === 2) {
				// The last step (the pipeline's first applied filter), by whole elements:
				// unshuffled while placed.
				if (
					filter.elementSize === itemsize &&
					data.length === this.#chunkBytes &&
					(mask & (2 ** f - 1)) === 2 ** f - 1 &&
					wordUnshufflable(data, itemsize, this.#chunkBytes / itemsize)
				) {
					stats.chunks++;
					return { bytes: data, shuffled: true };
				}
				if (slot.plain.length < data.length)
					slot.plain = new Uint8Array(this.#chunkBytes);
				if (slot.plain.length < data.length)
					throw this.#malformed(
						`shuffled chunk at ${address} exceeds its size`,
					);
				data = unshuffleInto(data, filter.elementSize, slot.plain);
			} else {
				throw this.#malformed(
					`filter ${filter.id} is not decoded here (${target})`,
				);
			}
		}
		if (data.length !== this.#chunkBytes)
			throw this.#malformed(
				`the chunk at ${address} decodes to ${data.length} bytes, not ${this.#chunkBytes}`,
			);
		stats.chunks++;
		return { bytes: data, shuffled: false };
	}

	async #inflate(
		slot: Slot,
		input: Uint8Array,
		address: number,
	): Promise<Uint8Array> {
		try {
			return await slot.inflater.inflate(input, this.#chunkBytes);
		} catch (err) {
			if (!(err instanceof InflateError)) throw err;
			throw this.#malformed(
				err.tooLarge
					? `the chunk at ${address} ${err.message}`
					: `the chunk at ${address} is ${err.message}`,
				err,
			);
		}
	}

	#readAt(buf: Uint8Array, n: number, position: number): Promise<void> {
		const { fd, target } = this.#src;
		return new Promise((resolve, reject) => {
			let got = 0;
			const step = (): void => {
				read(fd, buf, got, n - got, position + got, (err, r) => {
					if (err !== null)
						return reject(fromNodeError(err, { adapter: ADAPTER, target }));
					if (r <= 0)
						return reject(
							this.#malformed(`unexpected end of file at ${position + got}`),
						);
					got += r;
					if (got < n) step();
					else resolve();
				});
			};
			step();
		});
	}

	#malformed(msg: string, cause?: unknown): MalformedError {
		const target = this.#src.target;
		return new MalformedError(`${target}: ${msg}`, {
			adapter: ADAPTER,
			target,
			...(cause === undefined ? {} : { cause }),
		});
	}
}
