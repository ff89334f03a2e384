/**
 * Small reads (a few chunks into an ordinary buffer, a slab): every chunk file is read with
 * synchronous calls into a pooled buffer (zstd chunks: only the stored bytes the wanted ones
 * likely need) and decoded at once, on the calling thread when the chain allows, as
 * tensorstore does, instead of four event-loop trips per file and a queue for the codec.
 */
import type { Region, StridedView } from "@arraystore/core";
import type { ChunkCodec } from "./chunk-codec.js";
import { gridCoords, overlap } from "./grid.js";
import { loadKernel, releaseEncoded } from "./kernel.js";
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

/**
 * Where one small read gets a chunk's stored bytes: a chunk file, or an inner chunk's range
 * of a shard.
 */
export interface UnitSource {
	/**
	 * With synchronous calls, into a buffer `alloc` lends: the stored bytes (with `head`, only
	 * the first `head(size)` of them), undefined when the chunk is missing, null when it holds
	 * more than `maxBytes` (then {@link slow} reads it).
	 */
	fetch(
		alloc: (n: number) => Uint8Array,
		maxBytes: number,
		head?: (size: number) => number,
	): Uint8Array | undefined | null;
	/** The whole stored chunk, read off the event loop when fetch answered null. */
	slow(alloc: (n: number) => Uint8Array): Promise<Uint8Array | undefined>;
}

/**
 * Starts the small read of one chunk (or inner chunk) at `origin` whose overlap `ov` the box
 * wants: its stored bytes are read before this returns (zstd chunks: only as many as the
 * wanted ones likely need); the promise settles once they are decoded and copied to `dst`.
 */
export function startUnit(
	t: SmallReadTarget,
	alloc: (n: number) => Uint8Array,
	src: UnitSource,
	origin: readonly number[],
	ov: Region,
	dst: StridedView,
): Promise<void> {
	const want = t.wanted(ov, origin);
	let total = -1;
	const head = (size: number): number => {
		total = size;
		return t.codec.headBytes(want, size);
	};
	const enc = src.fetch(alloc, t.codec.encodedBound, head);
	return (async () => {
		let got: Uint8Array | null | undefined = enc;
		let raw: Uint8Array | null = null;
		try {
			if (got && got.length < total) {
				raw = await t.codec.decodeHead(got, want, total);
				if (raw === null) {
					// The head did not reach far enough: the whole chunk.
					releaseEncoded(got);
					got = undefined;
					got = src.fetch(alloc, Infinity);
				}
			}
			// null: stored bytes too many for the chunk, read off the event loop (the decoder
			// then reports them).
			if (got === null) got = await src.slow(alloc);
			if (raw) t.copyOut(raw, origin, ov, dst);
			else await t.readUnit(got ?? null, origin, ov, dst);
		} finally {
			if (raw) releaseEncoded(raw);
			if (got) releaseEncoded(got);
		}
	})();
}

/**
 * Waits for every started unit (none writes into the box later), then rethrows `stopped`
 * (a failure while starting them) or the first unit's failure.
 */
export async function settleUnits(
	jobs: readonly Promise<void>[],
	stopped: { readonly err: unknown } | undefined,
): Promise<void> {
	const settled = await Promise.allSettled(jobs);
	if (stopped) throw stopped.err;
	const failed = settled.find((r) => r.status === "rejected");
	if (failed) throw failed.reason;
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
	const alloc = (await loadKernel()).lend;
	const jobs: Promise<void>[] = [];
	let stopped: { readonly err: unknown } | undefined;
	try {
		for (const coords of gridCoords(ranges)) {
			signal?.throwIfAborted();
			const ov = overlap(region, outer, coords) as Region;
			const key = t.key(coords);
			const origin = coords.map((c, d) => c * (outer[d] as number));
			const src: UnitSource = {
				fetch: (a, max, head) => store.getSync(key, a, max, head),
				slow: (a) => store.get(key, signal, a),
			};
			jobs.push(startUnit(t, alloc, src, origin, ov, dst(ov.start)));
		}
	} catch (err) {
		stopped = { err };
	}
	await settleUnits(jobs, stopped);
}
