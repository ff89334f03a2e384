/**
 * Small reads (a few chunks into an ordinary buffer, a slab): every chunk file is read with
 * synchronous calls into a pooled buffer (zstd chunks: only the stored bytes the wanted ones
 * likely need) and decoded at once, on the calling thread when the chain allows, as
 * tensorstore does, instead of four event-loop trips per file and a queue for the codec.
 */
import type { Region, StridedView } from "@arraystore/core";
import type { ChunkCodec } from "./chunk-codec.js";
import { gridCoords, overlap } from "./grid.js";
import { loadKernel, pooledAlloc, releaseEncoded } from "./kernel.js";
import type { FsStore } from "./store.js";

// Reads of at most this many chunks and decoded bytes take the small-read path.
const SMALL_READ_CHUNKS = 4;
const SMALL_READ_BYTES = 16 * 1024 * 1024;

/** What a small read needs of the chunk engine. */
export interface SmallReadTarget {
	readonly store: FsStore;
	readonly codec: ChunkCodec;
	readonly chunkShape: readonly number[];
	/** Store key of a chunk. */
	key(coords: readonly number[]): string;
	/** The bytes [from, to) of a decoded chunk at `origin` its overlap `ov` reads. */
	wanted(ov: Region, origin: readonly number[]): [number, number];
	/** Copies the overlap out of a decoded chunk. */
	copyOut(
		raw: Uint8Array,
		origin: readonly number[],
		ov: Region,
		dst: StridedView,
	): void;
	/** Decodes a whole stored chunk (null: missing, the fill value) and copies the overlap. */
	readUnit(
		enc: Uint8Array | null,
		origin: readonly number[],
		ov: Region,
		dst: StridedView,
	): Promise<void>;
}

/** True when a read of the chunk `ranges` is small enough for {@link readSmall}. */
export function isSmallRead(
	ranges: readonly (readonly [number, number])[],
	chunkBytes: number,
): boolean {
	const count = ranges.reduce((a, [lo, hi]) => a * (hi - lo), 1);
	return (
		count > 0 &&
		count <= SMALL_READ_CHUNKS &&
		count * chunkBytes <= SMALL_READ_BYTES
	);
}

/** Reads the box `region` (chunks `ranges`, not sharded) into `dst` chunk by chunk. */
export async function readSmall(
	t: SmallReadTarget,
	region: Region,
	ranges: readonly (readonly [number, number])[],
	dst: (pos: readonly number[]) => StridedView,
	signal?: AbortSignal,
): Promise<void> {
	const outer = t.chunkShape;
	const store = t.store;
	await loadKernel();
	const alloc = pooledAlloc();
	const jobs: Promise<void>[] = [];
	let stopped: { readonly err: unknown } | undefined;
	try {
		for (const coords of gridCoords(ranges)) {
			signal?.throwIfAborted();
			const ov = overlap(region, outer, coords) as Region;
			const key = t.key(coords);
			const origin = coords.map((c, d) => c * (outer[d] as number));
			const want = t.wanted(ov, origin);
			// zstd chunks: only as many stored bytes as the wanted ones likely need.
			let total = -1;
			const head = (size: number): number => {
				total = size;
				return t.codec.headBytes(want, size);
			};
			const enc = alloc
				? store.getSync(key, alloc, t.codec.encodedBound, head)
				: null;
			jobs.push(
				(async () => {
					let got: Uint8Array | null | undefined = enc;
					let raw: Uint8Array | null = null;
					try {
						if (got && got.length < total) {
							raw = await t.codec.decodeHead(got, want, total);
							if (raw === null) {
								// The head did not reach far enough: the whole chunk.
								releaseEncoded(got);
								got = alloc ? store.getSync(key, alloc, Infinity) : null;
							}
						}
						// null: a file too big for its chunk, read off the event loop (the
						// decoder then reports it).
						if (got === null) got = await store.get(key, signal, alloc);
						if (raw) t.copyOut(raw, origin, ov, dst(ov.start));
						else await t.readUnit(got ?? null, origin, ov, dst(ov.start));
					} finally {
						if (raw) releaseEncoded(raw);
						if (got) releaseEncoded(got);
					}
				})(),
			);
		}
	} catch (err) {
		stopped = { err };
	}
	// Every started chunk settles before the read answers (none writes into `out` later).
	const settled = await Promise.allSettled(jobs);
	if (stopped) throw stopped.err;
	const failed = settled.find((r) => r.status === "rejected");
	if (failed) throw failed.reason;
}
