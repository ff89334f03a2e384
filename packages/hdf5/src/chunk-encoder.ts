/**
 * Deflating whole chunks ahead of HDF5 for gzip (+ shuffle) writes: each whole chunk of a box
 * about to be written is copied out, shuffled (as HDF5's shuffle filter would) and deflated
 * in the libuv thread pool — native zlib, on as many threads as the pool has — and left in
 * `encodedChunks`, where HDF5's deflate filter (redirected by native-deflate.ts) finds it when
 * HDF5 compresses that chunk. Chunks cut by the box or the dataset's edge are compressed by the
 * filter itself, on this thread.
 */
import { deflate } from "node:zlib";
import type { Region } from "@arraystore/core";
import { type ChunkBox, gridBoxes, takeBox } from "./chunk-boxes.js";
import { encodedChunks } from "./encoded-chunks.js";
import { type Piece, splitRegion } from "./io-plan.js";
import type { H5Filter } from "./module.js";
import { shuffle } from "./shuffle.js";

/** Deflate level and shuffle element size (0 = no shuffle) of a dataset's pipeline. */
export interface DeflatePlan {
	readonly level: number;
	readonly shuffle: number;
}

/** The plan of a deflate or shuffle + deflate pipeline (HDF5 ids 1, or 2 then 1), else null. */
export function deflatePlan(filters: readonly H5Filter[]): DeflatePlan | null {
	const [a, b, ...rest] = filters;
	if (a === undefined || rest.length > 0) return null;
	const level = (f: H5Filter): number => f.cd_values[0] ?? 6;
	const plan =
		b === undefined
			? a.id === 1
				? { level: level(a), shuffle: 0 }
				: null
			: a.id === 2 && b.id === 1
				? { level: level(b), shuffle: a.cd_values[0] ?? 0 }
				: null;
	return plan !== null && plan.level >= 0 && plan.level <= 9 ? plan : null;
}

/** Bytes written per HDF5 call on this path (one such box is encoded while the previous is written). */
export const ENCODE_PIECE_BYTES: number = 4 * 1024 * 1024;

/** The whole chunks of `region`: chunk-grid boxes not cut by the region or the dataset. */
export function wholeChunks(
	region: Region,
	chunks: readonly number[],
): ChunkBox[] {
	return gridBoxes(region, chunks).filter((b) =>
		b.shape.every((n, d) => n === chunks[d]),
	);
}

function deflateAsync(input: Uint8Array, level: number): Promise<Uint8Array> {
	// One output buffer larger than deflate's bound: the whole chunk is one thread-pool job
	// (the 16 KiB default would bounce back to the event loop for every 16 KiB of output).
	const chunkSize = Math.max(
		64 * 1024,
		input.length + (input.length >> 8) + 1024,
	);
	return new Promise((resolve, reject) => {
		// The result views that large buffer: keep a right-sized copy so it can go at once.
		deflate(input, { level, chunkSize }, (err, out) =>
			err ? reject(err) : resolve(Uint8Array.prototype.slice.call(out)),
		);
	});
}

/**
 * Encodes the whole chunks of `region` (its C-order bytes in `bytes`) into the cache the filter
 * takes from; resolves when all are there. Every chunk is queued on the thread pool at once, so
 * the pool keeps working while this thread is busy in HDF5.
 */
export async function preEncode(
	plan: DeflatePlan,
	chunks: readonly number[],
	itemsize: number,
	region: Region,
	bytes: Uint8Array,
): Promise<void> {
	await Promise.all(
		wholeChunks(region, chunks).map(async (box) => {
			const raw = takeBox(bytes, region.shape, box, itemsize);
			const input = plan.shuffle > 1 ? shuffle(raw, plan.shuffle) : raw;
			const encoded = await deflateAsync(input, plan.level);
			encodedChunks.put(input, plan.level, encoded);
		}),
	);
}

/** What {@link writeAhead} needs. */
export interface AheadWrite {
	readonly plan: DeflatePlan;
	readonly chunks: readonly number[];
	readonly itemsize: number;
	readonly region: Region;
	readonly bytes: Uint8Array;
	readonly signal: AbortSignal | undefined;
	/** The synchronous HDF5 write of one piece (its bytes are `src`). */
	transfer(piece: Piece, src: Uint8Array): void;
}

/**
 * Writes `region` in pieces of {@link ENCODE_PIECE_BYTES}, encoding the chunks of the next
 * {@link AHEAD} pieces in the thread pool while HDF5 writes the current one.
 */
export async function writeAhead(o: AheadWrite): Promise<void> {
	const pieces = splitRegion(
		o.region,
		o.itemsize,
		ENCODE_PIECE_BYTES,
		o.chunks,
	);
	const src = (p: Piece): Uint8Array =>
		o.bytes.subarray(p.byteOffset, p.byteOffset + p.byteLength);
	// A failed pre-encoding only costs speed: the filter encodes those chunks itself.
	const encode = (p: Piece): Promise<void> =>
		preEncode(o.plan, o.chunks, o.itemsize, p, src(p)).catch(() => {});
	const ahead = pieces.slice(0, AHEAD).map(encode);
	for (let i = 0; i < pieces.length; i++) {
		o.signal?.throwIfAborted();
		await ahead.shift();
		const later = pieces[i + AHEAD];
		if (later !== undefined) ahead.push(encode(later));
		const piece = pieces[i] as Piece;
		o.transfer(piece, src(piece));
	}
}

/** Pieces encoded ahead of the one HDF5 writes. */
export const AHEAD = 2;
