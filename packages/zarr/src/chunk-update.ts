/**
 * Read-modify-write of the Zarr chunks and shards a write covers in part (chunk-engine.ts sends
 * the chunks it covers whole to the codec workers): the stored chunk, or the fill value, overlaid
 * with the box, then encoded and stored. Chunks equal to the fill value are not stored (unless
 * the array writes empty chunks), and shards are rebuilt with their index, keeping the inner
 * chunks the box does not touch as they are stored.
 */
import { copyElements, type Region, type StridedView } from "@arraystore/core";
import { type ChunkCodec, fillWith, isAllFill } from "./chunk-codec.js";
import type { EngineContext } from "./chunk-engine.js";
import {
	chunkInBounds,
	gridCoords,
	offsetOf,
	overlap,
	prod,
	sameRegion,
} from "./grid.js";
import { pooledAlloc, releaseEncoded } from "./kernel.js";
import { runLimited } from "./lock.js";
import type { ArrayMeta } from "./metadata.js";
import { assembleShard, loadShard } from "./shard-index.js";

/** What the updater shares with its engine. */
export interface UpdateParts {
	readonly ctx: EngineContext;
	/** The array's current metadata (a resize replaces it). */
	meta(): ArrayMeta;
	readonly codec: ChunkCodec;
	/** Shape of the chunks the codec sees: the chunk, or the inner chunk of a shard. */
	readonly unit: readonly number[];
	readonly unitStrides: readonly number[];
	readonly fill: Uint8Array;
}

/** Rewrites chunks and shards a write covers in part. */
export class ChunkUpdater {
	readonly #p: UpdateParts;

	constructor(parts: UpdateParts) {
		this.#p = parts;
	}

	// Builds the new raw bytes of one (inner) chunk: existing content (or fill) overlaid with the box.
	async #updatedUnit(
		region: Region,
		g: readonly number[],
		existing: () => Promise<Uint8Array | null>,
		src: (pos: readonly number[]) => StridedView,
	): Promise<Uint8Array | null> {
		const meta = this.#p.meta();
		const unit = this.#p.unit;
		const inb = chunkInBounds(meta.shape, unit, g);
		if (!inb) return null;
		const ov = overlap(region, unit, g) as Region;
		const origin = g.map((c, d) => c * (unit[d] as number));
		const whole = ov.shape.every((n, d) => n === unit[d]);
		if (whole) {
			// The chunk is a run of the source bytes laid out as the chunk stores them: encode
			// (or store) that run itself, when it never leaves this thread.
			const from = src(ov.start);
			const contiguous = ov.shape.every(
				(n, d) => n === 1 || from.strides[d] === this.#p.unitStrides[d],
			);
			if (contiguous && (await this.#p.codec.encodesInPlace())) {
				const at = from.base * meta.dtype.itemsize;
				return from.bytes.subarray(at, at + this.#p.codec.chunkBytes);
			}
		}
		let raw: Uint8Array | null = null;
		if (!sameRegion(ov, inb)) {
			const enc = await existing();
			if (enc) raw = await this.#p.codec.decode(enc);
			// A codec-less chunk (or a checksum-only one) decodes to the stored bytes themselves
			// or a view of them: copy before changing them and before `enc` goes back to the pool.
			if (raw && enc && raw.buffer === enc.buffer) raw = raw.slice();
			if (enc) releaseEncoded(enc);
		}
		if (!raw) {
			raw = new Uint8Array(new ArrayBuffer(this.#p.codec.chunkBytes));
			if (!whole) fillWith(raw, this.#p.fill);
		}
		copyElements(
			src(ov.start),
			{
				bytes: raw,
				base: offsetOf(ov.start, origin, this.#p.unitStrides),
				strides: this.#p.unitStrides,
			},
			ov.shape,
			meta.dtype.itemsize,
		);
		return raw;
	}

	#isEmpty(raw: Uint8Array): boolean {
		return (
			!this.#p.ctx.writeEmptyChunks &&
			this.#p.meta().fill !== null &&
			isAllFill(raw, this.#p.fill)
		);
	}

	/** Rewrites the chunk at `coords` (stored under `key`) with its overlap of the box. */
	async writeChunk(
		region: Region,
		coords: readonly number[],
		key: string,
		src: (pos: readonly number[]) => StridedView,
		signal?: AbortSignal,
	): Promise<void> {
		const raw = await this.#updatedUnit(
			region,
			coords,
			() =>
				this.#p.ctx.store
					.get(key, signal, pooledAlloc())
					.then((b) => b ?? null),
			src,
		);
		if (!raw || this.#isEmpty(raw)) {
			await this.#p.ctx.store.delete(key);
			return;
		}
		const enc = await this.#p.codec.encode(raw, true);
		try {
			signal?.throwIfAborted();
			await this.#p.ctx.store.set(key, enc);
		} finally {
			releaseEncoded(enc);
		}
	}

	/** Rewrites the shard at `coords` (stored under `key`) with its overlap of the box. */
	async writeShard(
		region: Region,
		coords: readonly number[],
		key: string,
		src: (pos: readonly number[]) => StridedView,
		signal?: AbortSignal,
	): Promise<void> {
		const meta = this.#p.meta();
		const outer = meta.chunkShape;
		const inner = this.#p.unit;
		const plan = meta.plan.shard;
		if (!plan) return;
		const perShard = outer.map((s, d) => s / (inner[d] as number));
		const count = prod(perShard);
		const shardOv = overlap(region, outer, coords) as Region;
		const shardInb = chunkInBounds(meta.shape, outer, coords) as Region;
		const shard = sameRegion(shardOv, shardInb)
			? null
			: await loadShard(this.#p.ctx.store, plan, key, count, [], true);
		const base = coords.map(
			(c, d) => (c * (outer[d] as number)) / (inner[d] as number),
		);
		const all = [
			...gridCoords(
				perShard.map(
					(n, d) =>
						[base[d] as number, (base[d] as number) + n] as [number, number],
				),
			),
		];
		const parts: (Uint8Array | null)[] = new Array(count).fill(null);
		const old = (k: number): Uint8Array | null => {
			const e = shard?.entries[k];
			return e && shard?.bytes
				? shard.bytes.subarray(e.offset, e.offset + e.nbytes)
				: null;
		};
		const tasks = all.map((g, k) => async () => {
			if (!chunkInBounds(meta.shape, inner, g)) return;
			if (!overlap(region, inner, g)) {
				parts[k] = old(k);
				return;
			}
			const raw = await this.#updatedUnit(region, g, async () => old(k), src);
			parts[k] =
				!raw || this.#isEmpty(raw)
					? null
					: await this.#p.codec.encode(raw, true);
		});
		await runLimited(tasks, this.#p.ctx.concurrency, signal);
		if (parts.every((p) => p === null)) {
			await this.#p.ctx.store.delete(key);
			return;
		}
		const bytes = await assembleShard(plan, parts);
		for (const p of parts) if (p) releaseEncoded(p);
		signal?.throwIfAborted();
		await this.#p.ctx.store.set(key, bytes);
	}
}
