/**
 * Reads of chunks handed to the codec workers in batches, when the result box lives on a
 * SharedArrayBuffer (core's copy engine reads into such blocks): a worker reads each chunk file,
 * decodes it and copies the part the box wants straight into the box (worker/chunk-reader.mjs).
 * The main thread only posts the batches.
 */
import { type Region, stridesOf } from "@arraystore/core";
import { type EngineGeometry, workerFailure } from "./batch-write.js";
import { chunkRanges, gridCoords, offsetOf, overlap } from "./grid.js";
import type { KernelCodec } from "./kernel.js";
import type { WorkerPool } from "./worker-pool.js";

/** How chunks map onto the result box. */
export interface ReadLayout {
	readonly itemsize: number;
	/** Element strides of the box and of a decoded chunk. */
	readonly boxStrides: readonly number[];
	readonly unitStrides: readonly number[];
	readonly chunkBytes: number;
	readonly chain: readonly KernelCodec[];
	readonly limits: readonly number[];
	readonly native: boolean;
	/** One element of the fill value (missing chunks). */
	readonly fill: Uint8Array;
}

/** One chunk file and the part of it the box wants. */
export interface ReadItem {
	/** Absolute file path (`FsStore.path`). */
	readonly path: string;
	/** Element offset of the wanted part in the decoded chunk, and in the box. */
	readonly src: number;
	readonly dst: number;
	readonly shape: readonly number[];
}

// Decoded bytes per batch (as for writes).
const BATCH_BYTES = 8 * 1024 * 1024;

/**
 * Reads `items` into `out` (on a SharedArrayBuffer) on the pool's workers, at most one batch
 * per worker in flight. Rejects with the first failure (typed) once every batch has settled.
 */
export async function readBatches(
	pool: WorkerPool,
	layout: ReadLayout,
	out: Uint8Array,
	items: readonly ReadItem[],
	signal?: AbortSignal,
): Promise<void> {
	const per = Math.max(
		1,
		Math.min(
			Math.floor(BATCH_BYTES / Math.max(1, layout.chunkBytes)),
			Math.ceil(items.length / pool.size),
		),
	);
	const common = {
		op: "read",
		buffer: out.buffer,
		byteOffset: out.byteOffset,
		byteLength: out.byteLength,
		...layout,
	};
	let next = 0;
	let failed: { err: unknown } | undefined;
	const lane = async (): Promise<void> => {
		while (!failed && next < items.length) {
			const batch = items.slice(next, next + per);
			next += batch.length;
			try {
				signal?.throwIfAborted();
				const r = await pool.call({ ...common, items: batch }, "decode");
				if (!r.ok) throw workerFailure(r, "decode");
			} catch (err) {
				failed ??= { err };
			}
		}
	};
	await Promise.all(
		Array.from({ length: Math.min(pool.size, items.length) }, lane),
	);
	if (failed) throw failed.err;
}

/** Reads `region` into `out` (on a SharedArrayBuffer; not sharded) on the workers. */
export function readOnWorkers(
	g: EngineGeometry,
	region: Region,
	out: Uint8Array,
	signal?: AbortSignal,
): Promise<void> {
	const meta = g.meta;
	const outer = meta.chunkShape;
	const boxStrides = stridesOf(region.shape, meta.order);
	const items: ReadItem[] = [];
	for (const coords of gridCoords(chunkRanges(region, outer))) {
		const ov = overlap(region, outer, coords) as Region;
		const origin = coords.map((c, d) => c * (outer[d] as number));
		items.push({
			path: g.store.path(g.key(coords)),
			src: offsetOf(ov.start, origin, g.unitStrides),
			dst: offsetOf(ov.start, region.start, boxStrides),
			shape: ov.shape,
		});
	}
	const layout: ReadLayout = {
		itemsize: meta.dtype.itemsize,
		boxStrides,
		unitStrides: g.unitStrides,
		chunkBytes: g.chunkBytes,
		chain: meta.plan.chunk.chain,
		limits: g.limits,
		native: g.native,
		fill: g.fill,
	};
	return readBatches(g.pool, layout, out, items, signal);
}
