/**
 * Reads and writes boxes of a Zarr array chunk by chunk: missing chunks read as the fill
 * value, chunks (shards) a write covers whole go to the codec workers in batches, partial
 * chunk writes are read-modify-write (chunk-update.ts) under a per-chunk (per-shard) lock.
 * Bytes move in the stored byte order; boxes are in the array's storage order (C or F).
 */
import {
	copyElements,
	MalformedError,
	type Region,
	type StridedView,
	stridesOf,
} from "@arraystore/core";
import { readOnWorkers } from "./batch-read.js";
import { type EngineGeometry, sharedBox, writeWhole } from "./batch-write.js";
import { ChunkCodec } from "./chunk-codec.js";
import { ChunkUpdater } from "./chunk-update.js";
import {
	chunkInBounds,
	chunkRanges,
	gridCoords,
	offsetOf,
	overlap,
	permutedStrides,
	prod,
} from "./grid.js";
import { pooledAlloc, releaseEncoded } from "./kernel.js";
import { type KeyedLock, runLimited } from "./lock.js";
import type { ArrayMeta } from "./metadata.js";
import { loadShard } from "./shard-index.js";
import { isSmallRead, readSmall, type SmallReadTarget } from "./small-read.js";
import {
	readSmallSharded,
	ShardIndexCache,
	type SmallShardTarget,
} from "./small-shard-read.js";
import { type FsStore, joinKey } from "./store.js";
import type { WorkerPool } from "./worker-pool.js";

/** What an engine works on. */
export interface EngineContext {
	readonly store: FsStore;
	/** Key of the array node ("" = store root). */
	readonly nodeKey: string;
	readonly pool: WorkerPool | null;
	readonly locks: KeyedLock;
	/** Store chunks even when they equal the fill value (zarr-python 2's default). */
	readonly writeEmptyChunks: boolean;
	/** Chunk tasks in flight at once. */
	readonly concurrency: number;
	readonly inlineBytes?: number;
	/** Native codecs where they load (default true). */
	readonly native?: boolean;
}

/** Chunk I/O of one array. */
export class ChunkEngine {
	readonly #ctx: EngineContext;
	#meta: ArrayMeta;
	readonly #codec: ChunkCodec;
	/** Shape of the chunks the codec sees: the chunk, or the inner chunk of a shard. */
	readonly #unit: readonly number[];
	readonly #unitStrides: readonly number[];
	readonly #fill: Uint8Array;
	// Indexes of recently read shards (small reads).
	readonly #indexes = new ShardIndexCache();
	// Read-modify-write of the chunks (shards) a write covers in part.
	readonly #updater: ChunkUpdater;

	constructor(ctx: EngineContext, meta: ArrayMeta) {
		this.#ctx = ctx;
		this.#meta = meta;
		this.#unit = meta.plan.shard ? meta.plan.shard.innerShape : meta.chunkShape;
		this.#unitStrides = permutedStrides(this.#unit, meta.plan.chunk.perm);
		this.#codec = new ChunkCodec(
			meta.plan.chunk,
			prod(this.#unit) * meta.dtype.itemsize,
			{
				pool: ctx.pool,
				...(ctx.inlineBytes !== undefined
					? { inlineBytes: ctx.inlineBytes }
					: {}),
				...(ctx.native !== undefined ? { native: ctx.native } : {}),
			},
		);
		this.#fill = meta.fill ?? new Uint8Array(meta.dtype.itemsize);
		this.#updater = new ChunkUpdater({
			ctx,
			meta: () => this.#meta,
			codec: this.#codec,
			unit: this.#unit,
			unitStrides: this.#unitStrides,
			fill: this.#fill,
		});
	}

	/** Replaces the metadata (after a resize; same chunking and codecs). */
	setMeta(meta: ArrayMeta): void {
		this.#meta = meta;
	}

	#key(coords: readonly number[]): string {
		return joinKey(this.#ctx.nodeKey, this.#meta.chunkKey(coords));
	}

	/** Reads `region` into `out` (storage order of the array, stored byte order). */
	async read(
		region: Region,
		out: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		const meta = this.#meta;
		const boxStrides = stridesOf(region.shape, meta.order);
		const dst = (pos: readonly number[]): StridedView => ({
			bytes: out,
			base: offsetOf(pos, region.start, boxStrides),
			strides: boxStrides,
		});
		const outer = meta.chunkShape;
		const pool = this.#ctx.pool;
		if (pool && !meta.plan.shard && sharedBox(out)) {
			// The box is shared with the workers: they read, decode and place every chunk.
			await readOnWorkers(this.#onWorkers(pool), region, out, signal);
			return;
		}
		const ranges = chunkRanges(region, outer);
		const shard = meta.plan.shard;
		if (!shard && isSmallRead(ranges, this.#codec.chunkBytes)) {
			await readSmall(this.#small(), region, ranges, dst, signal);
			return;
		}
		if (
			shard &&
			isSmallRead(chunkRanges(region, this.#unit), this.#codec.chunkBytes)
		) {
			const t: SmallShardTarget = {
				...this.#small(),
				plan: shard,
				innerShape: this.#unit,
				indexes: this.#indexes,
			};
			await readSmallSharded(t, region, dst, signal);
			return;
		}
		const tasks = [...gridCoords(ranges)].map((coords) => async () => {
			if (meta.plan.shard) await this.#readShard(region, coords, dst, signal);
			else {
				const ov = overlap(region, outer, coords) as Region;
				const enc = await this.#ctx.store.get(
					this.#key(coords),
					signal,
					pooledAlloc(),
				);
				try {
					await this.#readUnit(
						enc ?? null,
						coords.map((c, d) => c * (outer[d] as number)),
						ov,
						dst(ov.start),
					);
				} finally {
					if (enc) releaseEncoded(enc);
				}
			}
		});
		await runLimited(tasks, this.#ctx.concurrency, signal);
	}

	// What the small-read path (small-read.ts) needs of this engine.
	#small(): SmallReadTarget {
		return {
			store: this.#ctx.store,
			codec: this.#codec,
			chain: this.#meta.plan.chunk.chain,
			native: this.#ctx.native ?? true,
			chunkShape: this.#meta.chunkShape,
			key: (coords) => this.#key(coords),
			wanted: (ov, origin) => this.#wanted(ov, origin),
			itemsize: this.#meta.dtype.itemsize,
			copyOut: (raw, origin, ov, dst, shift) =>
				this.#copyOut(raw, origin, ov, dst, shift),
			readUnit: (enc, origin, ov, dst) =>
				this.#readUnit(enc, origin, ov, dst, true),
		};
	}

	// Copies the overlap `ov` of one encoded (inner) chunk at `origin` into `dst`; `now`
	// decodes without the worker queue (see ChunkCodec.decodeNow).
	async #readUnit(
		enc: Uint8Array | null,
		origin: readonly number[],
		ov: Region,
		dst: StridedView,
		now = false,
	): Promise<void> {
		const itemsize = this.#meta.dtype.itemsize;
		if (enc === null) {
			copyElements(
				{ bytes: this.#fill, base: 0, strides: ov.shape.map(() => 0) },
				dst,
				ov.shape,
				itemsize,
			);
			return;
		}
		const raw = await (now
			? this.#codec.decodeNow(enc, this.#wanted(ov, origin))
			: this.#codec.decode(enc));
		this.#copyOut(raw, origin, ov, dst);
		// Copied out: a buffer the kernel's pool lent goes back to it.
		releaseEncoded(raw);
	}

	// The bytes of a decoded (inner) chunk at `origin` that its overlap `ov` reads:
	// [first element, past the last element).
	#wanted(ov: Region, origin: readonly number[]): [number, number] {
		const itemsize = this.#meta.dtype.itemsize;
		const last = ov.start.map((s, d) => s + (ov.shape[d] as number) - 1);
		return [
			offsetOf(ov.start, origin, this.#unitStrides) * itemsize,
			(offsetOf(last, origin, this.#unitStrides) + 1) * itemsize,
		];
	}

	// Copies the overlap `ov` out of the decoded (inner) chunk `raw` at `origin` into `dst`;
	// `raw` holds the chunk's bytes from `shift` on.
	#copyOut(
		raw: Uint8Array,
		origin: readonly number[],
		ov: Region,
		dst: StridedView,
		shift = 0,
	): void {
		copyElements(
			{
				bytes: raw,
				base:
					offsetOf(ov.start, origin, this.#unitStrides) -
					shift / this.#meta.dtype.itemsize,
				strides: this.#unitStrides,
			},
			dst,
			ov.shape,
			this.#meta.dtype.itemsize,
		);
	}

	async #readShard(
		region: Region,
		coords: readonly number[],
		dst: (pos: readonly number[]) => StridedView,
		signal?: AbortSignal,
	): Promise<void> {
		const meta = this.#meta;
		const outer = meta.chunkShape;
		const inner = this.#unit;
		const shardRegion = overlap(region, outer, coords) as Region;
		const key = this.#key(coords);
		const perShard = outer.map((s, d) => s / (inner[d] as number));
		const base = coords.map(
			(c, d) => (c * (outer[d] as number)) / (inner[d] as number),
		);
		const wanted = [...gridCoords(chunkRanges(shardRegion, inner))];
		const local = (g: readonly number[]) =>
			g.reduce(
				(acc, c, d) =>
					acc * (perShard[d] as number) + (c - (base[d] as number)),
				0,
			);
		const shard = await loadShard(
			this.#ctx.store,
			this.#meta.plan.shard,
			key,
			prod(perShard),
			wanted.map(local),
			false,
		);
		const tasks = wanted.map((g) => async () => {
			const ov = overlap(region, inner, g) as Region;
			const origin = g.map((c, d) => c * (inner[d] as number));
			const entry = shard?.entries[local(g)] ?? null;
			let enc: Uint8Array | null = null;
			if (shard && entry) {
				if (shard.bytes)
					enc = shard.bytes.subarray(entry.offset, entry.offset + entry.nbytes);
				else {
					const got = await this.#ctx.store.getRange(
						key,
						entry.offset,
						entry.nbytes,
					);
					if (!got || got.length !== entry.nbytes)
						throw new MalformedError(`shard ${key} changed while reading`);
					enc = got;
				}
			}
			await this.#readUnit(enc, origin, ov, dst(ov.start));
		});
		await runLimited(tasks, this.#ctx.concurrency, signal);
	}

	/** Writes `bytes` (storage order, stored byte order) into `region`. */
	async write(
		region: Region,
		bytes: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		const meta = this.#meta;
		const outer = meta.chunkShape;
		const boxStrides = stridesOf(region.shape, meta.order);
		const src = (pos: readonly number[]): StridedView => ({
			bytes,
			base: offsetOf(pos, region.start, boxStrides),
			strides: boxStrides,
		});
		let coords = [...gridCoords(chunkRanges(region, outer))];
		let batched: Promise<void> = Promise.resolve();
		const pool = this.#ctx.pool;
		if (pool) {
			// Chunks (shards) the box covers whole go to the workers in batches; the rest are
			// read-modify-write here.
			const whole: number[][] = [];
			const partial: number[][] = [];
			for (const c of coords) {
				const ov = overlap(region, outer, c);
				(ov?.shape.every((n, d) => n === outer[d]) ? whole : partial).push(c);
			}
			coords = partial;
			if (whole.length > 0)
				batched = writeWhole(
					this.#onWorkers(pool),
					region,
					bytes,
					whole,
					coords,
					signal,
				);
		}
		const tasks = coords.map((c) => () => {
			const key = this.#key(c);
			return this.#ctx.locks.with(this.#ctx.store.path(key), () =>
				meta.plan.shard
					? this.#updater.writeShard(region, c, key, src, signal)
					: this.#updater.writeChunk(region, c, key, src, signal),
			);
		});
		const [a, b] = await Promise.allSettled([
			batched,
			runLimited(tasks, this.#ctx.concurrency, signal),
		]);
		if (a.status === "rejected") throw a.reason;
		if (b.status === "rejected") throw b.reason;
	}

	// What the worker paths (batch-write.ts, batch-read.ts) need of this engine.
	#onWorkers(pool: WorkerPool): EngineGeometry {
		return {
			meta: this.#meta,
			unit: this.#unit,
			unitStrides: this.#unitStrides,
			chunkBytes: this.#codec.chunkBytes,
			limits: this.#codec.limits,
			fill: this.#fill,
			writeEmptyChunks: this.#ctx.writeEmptyChunks,
			native: this.#ctx.native ?? true,
			store: this.#ctx.store,
			locks: this.#ctx.locks,
			pool,
			key: (coords) => this.#key(coords),
		};
	}

	/**
	 * After a shrink from `oldShape`: deletes chunks now wholly outside the array and rewrites
	 * the ones cut by the new edge, so elements beyond it read as fill if the array grows again.
	 */
	async trimTo(
		oldShape: readonly number[],
		signal?: AbortSignal,
	): Promise<void> {
		const meta = this.#meta;
		const outer = meta.chunkShape;
		const old = chunkRanges(
			{ start: oldShape.map(() => 0), shape: oldShape },
			outer,
		);
		const tasks: (() => Promise<void>)[] = [];
		for (const coords of gridCoords(old)) {
			const reaches = coords.some(
				(c, d) =>
					(meta.shape[d] as number) < (oldShape[d] as number) &&
					(c + 1) * (outer[d] as number) > (meta.shape[d] as number),
			);
			if (!reaches) continue;
			const inb = chunkInBounds(meta.shape, outer, coords);
			const key = this.#key(coords);
			if (!inb)
				tasks.push(() =>
					this.#ctx.locks.with(this.#ctx.store.path(key), () =>
						this.#ctx.store.delete(key),
					),
				);
			else {
				tasks.push(async () => {
					const buf = new Uint8Array(
						new ArrayBuffer(prod(inb.shape) * meta.dtype.itemsize),
					);
					await this.read(inb, buf, signal);
					await this.write(inb, buf, signal);
				});
			}
		}
		await runLimited(tasks, this.#ctx.concurrency, signal);
	}
}
