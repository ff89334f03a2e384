/**
 * Reads of a box split across the read pool's workers: chunk-aligned boxes (chunk-boxes.ts)
 * are queued at once, each result is copied into the caller's buffer as it arrives. A box the
 * pool cannot serve (pool closed or broken, or the worker's HDF5 read failed) is read inline
 * instead, so failures surface as the same typed errors an inline read gives.
 */
import { type Region, shapeSize } from "@arraystore/core";
import { type ChunkBox, chunkBoxes, placeBox } from "./chunk-boxes.js";
import { type ReadPool, WORKER_READ_BYTES } from "./read-pool.js";

/** What {@link readInWorkers} needs from the dataset. */
export interface WorkerRead {
	readonly pool: ReadPool;
	/** Dataset path inside the file. */
	readonly path: string;
	readonly region: Region;
	readonly out: Uint8Array;
	readonly itemsize: number;
	readonly chunks: readonly number[];
	/** Bytes a chunk inflates to (the workers' hint). */
	readonly chunkBytes: number;
	readonly signal: AbortSignal | undefined;
	/** Reads a box on this thread (C-order bytes, as the binding returns them). */
	inline(box: ChunkBox): Uint8Array;
	/** Post-processing of a box's bytes before they are placed (byte order). */
	fix(bytes: Uint8Array): void;
}

/**
 * The boxes a region splits into for `workers` workers: about two per worker (so a late one
 * evens out), at least one chunk and at most {@link WORKER_READ_BYTES} each; empty when the
 * region is too small to be worth splitting or a chunk exceeds one worker read.
 */
export function workerBoxes(
	region: Region,
	chunks: readonly number[],
	itemsize: number,
	workers: number,
): ChunkBox[] {
	const total = shapeSize(region.shape) * itemsize;
	const chunkBytes = shapeSize(chunks) * itemsize;
	if (chunkBytes > WORKER_READ_BYTES || total < 2 * chunkBytes) return [];
	const target = Math.min(
		WORKER_READ_BYTES,
		Math.max(chunkBytes, Math.ceil(total / (2 * workers))),
	);
	const boxes = chunkBoxes(region, chunks, itemsize, target);
	return boxes.length > 1 ? boxes : [];
}

/** Reads `boxes` of `o.region` through the pool into `o.out`. */
export async function readInWorkers(
	o: WorkerRead,
	boxes: readonly ChunkBox[],
): Promise<void> {
	// Set once the read has failed or finished: late results must not touch the caller's buffer.
	let over = false;
	const one = async (box: ChunkBox): Promise<void> => {
		const nbytes = shapeSize(box.shape) * o.itemsize;
		let bytes: Uint8Array;
		try {
			bytes = await o.pool.read(
				o.path,
				box.start,
				box.shape,
				nbytes,
				o.chunkBytes,
				o.signal,
			);
		} catch {
			if (over) return;
			o.signal?.throwIfAborted();
			bytes = o.inline(box);
		}
		if (over) return;
		o.fix(bytes);
		placeBox(o.out, o.region.shape, box, bytes, o.itemsize);
		o.pool.recycle(bytes);
	};
	try {
		await Promise.all(boxes.map(one));
	} finally {
		over = true;
	}
}
