/**
 * Small reads (a few chunks, a slab): every chunk file (or inner chunk of a shard,
 * small-shard-read.ts) is read with synchronous calls into a pooled buffer — zstd chunks only
 * the stored bytes the wanted ones likely need, blosc frames only their header, block offsets
 * and the blocks holding them — and decoded at once, as tensorstore does, instead of four
 * event-loop trips per file and a queue for the codec: blosc-lz4 frames by blosc-small.ts,
 * others on the calling thread when the chain allows.
 */
import type { Region, StridedView } from "@arraystore/core";
import { byteUnshuffle } from "@arraystore/core/shuffle";
import { planBlosc } from "./blosc-ranges.js";
import { decodeBloscSmall, type Unshuffle } from "./blosc-small.js";
import type { ChunkCodec } from "./chunk-codec.js";
import { gridCoords, overlap } from "./grid.js";
import { type KernelCodec, loadKernel, releaseEncoded } from "./kernel.js";
import type { FsStore, SyncFile } from "./store.js";

// Reads of at most this many chunks and decoded bytes take the small-read path.
const SMALL_READ_CHUNKS = 4;
const SMALL_READ_BYTES = 16 * 1024 * 1024;

/** What a small read needs of the chunk engine. */
export interface SmallReadTarget {
	readonly store: FsStore;
	readonly codec: ChunkCodec;
	/** The (inner) chunk's bytes→bytes codecs (a lone blosc one: frames read in part). */
	readonly chain: readonly KernelCodec[];
	/** Native codecs allowed (the adapter's `nativeCodecs`). */
	readonly native: boolean;
	readonly chunkShape: readonly number[];
	/** Bytes of one element. */
	readonly itemsize: number;
	/** Store key of a chunk. */
	key(coords: readonly number[]): string;
	/** The bytes [from, to) of a decoded chunk at `origin` its overlap `ov` reads. */
	wanted(ov: Region, origin: readonly number[]): [number, number];
	/**
	 * Copies the overlap out of a decoded chunk (`raw` holding its bytes from `shift` on,
	 * a multiple of the element size).
	 */
	copyOut(
		raw: Uint8Array,
		origin: readonly number[],
		ov: Region,
		dst: StridedView,
		shift?: number,
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

/** One stored chunk (a file, or an inner chunk's range of a shard) opened for a small read. */
export interface StoredChunk {
	readonly size: number;
	/**
	 * Reads stored bytes [at, at + dst.length) into `dst` with synchronous calls.
	 * @throws {MalformedError} fewer bytes than that (the file changed while reading).
	 */
	readInto(dst: Uint8Array, at: number): void;
}

/** Where one small read gets a chunk's stored bytes. */
export interface UnitSource {
	/** Opens the stored chunk with synchronous calls; undefined when it is missing. */
	open(): StoredChunk | undefined;
	/**
	 * The whole stored chunk read off the event loop, for one holding more bytes than any
	 * encoding of the chunk (its decoder then reports it).
	 */
	slow(alloc: (n: number) => Uint8Array): Promise<Uint8Array | undefined>;
	/** Done with what {@link open} opened (may be called more than once). */
	close(): void;
}

/** What every unit of one small read shares. */
export interface SmallReadIo {
	/** The kernel pool's allocator. */
	readonly alloc: (n: number) => Uint8Array;
	/** Which native codecs the kernel has (blosc frames read in part only with them). */
	readonly native: { readonly lz4: boolean; readonly zstd: boolean };
	/** blosc's byte unshuffle (blosc-lz4 frames decoded here, blosc-small.ts). */
	readonly unshuffle: Unshuffle;
	readonly release: (bytes: Uint8Array) => void;
}

let io: Promise<SmallReadIo> | undefined;

/** The kernel, loaded, as a small read uses it. */
export function smallReadIo(): Promise<SmallReadIo> {
	io ??= loadKernel().then((k) => ({
		alloc: k.lend,
		release: k.release,
		native: k.nativeCodecs(),
		unshuffle: byteUnshuffle,
	}));
	return io;
}

/**
 * Starts the small read of one chunk (or inner chunk) at `origin` whose overlap `ov` the box
 * wants: its stored bytes are read before this returns (zstd chunks: only as many as the
 * wanted ones likely need; blosc frames: only the blocks holding them); the promise settles
 * once they are decoded and copied to `dst`, and `src` is closed.
 */
export function startUnit(
	t: SmallReadTarget,
	io: SmallReadIo,
	src: UnitSource,
	origin: readonly number[],
	ov: Region,
	dst: StridedView,
): Promise<void> {
	const want = t.wanted(ov, origin);
	let chunk: StoredChunk | undefined;
	let enc: Uint8Array | null | undefined;
	try {
		chunk = src.open();
		enc =
			chunk === undefined
				? undefined
				: chunk.size > t.codec.encodedBound
					? null
					: readStored(t, io, chunk, want);
	} catch (err) {
		src.close();
		throw err;
	}
	// Only a zstd head (the rest of the chunk may be wanted) or a chunk too big to read here
	// needs the file later: otherwise its descriptor goes at once (many small reads in
	// flight hold no more files open than before).
	if (enc !== null && !(enc && chunk && enc.length < chunk.size)) src.close();
	return (async () => {
		let got: Uint8Array | null | undefined = enc;
		let raw: Uint8Array | null = null;
		try {
			if (got && chunk && got.length < chunk.size) {
				raw = await t.codec.decodeHead(got, want, chunk.size);
				if (raw === null) {
					// The head did not reach far enough: the whole chunk.
					releaseEncoded(got);
					got = undefined;
					got = readAll(chunk, io.alloc);
				}
			} else if (
				got &&
				t.native &&
				t.chain.length === 1 &&
				t.chain[0]?.id === "blosc" &&
				decodeBloscSmall(
					got,
					t.codec.chunkBytes,
					t.itemsize,
					want,
					io,
					(b, shift) => t.copyOut(b, origin, ov, dst, shift),
				)
			)
				return;
			// null: stored bytes too many for the chunk, read off the event loop (the decoder
			// then reports them).
			if (got === null) got = await src.slow(io.alloc);
			if (raw) t.copyOut(raw, origin, ov, dst);
			else await t.readUnit(got ?? null, origin, ov, dst);
		} finally {
			if (raw) releaseEncoded(raw);
			if (got) releaseEncoded(got);
			src.close();
		}
	})();
}

function readAll(
	chunk: StoredChunk,
	alloc: (n: number) => Uint8Array,
): Uint8Array {
	const out = alloc(chunk.size);
	try {
		chunk.readInto(out, 0);
	} catch (err) {
		releaseEncoded(out);
		throw err;
	}
	return out;
}

// Bytes a blosc frame's first read takes (its header and, mostly, its block offsets).
const BLOSC_FIRST = 4096;

// The stored bytes of `chunk` that decoding the wanted bytes `want` needs: a head of a zstd
// frame (shorter than the chunk), a blosc frame with only the header, block offsets and the
// wanted blocks read (zeros elsewhere, so a corrupt frame never decodes stale pool bytes), or
// all of it.
function readStored(
	t: SmallReadTarget,
	io: SmallReadIo,
	chunk: StoredChunk,
	want: readonly [number, number],
): Uint8Array {
	const size = chunk.size;
	const head = t.codec.headBytes(want, size);
	if (head < size) {
		const out = io.alloc(head);
		try {
			chunk.readInto(out, 0);
		} catch (err) {
			releaseEncoded(out);
			throw err;
		}
		return out;
	}
	if (!t.native || t.chain.length !== 1 || t.chain[0]?.id !== "blosc")
		return readAll(chunk, io.alloc);
	const out = io.alloc(size);
	try {
		let have = Math.min(size, BLOSC_FIRST);
		chunk.readInto(out.subarray(0, have), 0);
		const upTo = (n: number): void => {
			if (n <= have) return;
			chunk.readInto(out.subarray(have, n), have);
			have = n;
		};
		const plan = planBlosc(
			out.subarray(0, have),
			size,
			want,
			io.native,
			(n) => {
				if (n > size) return null;
				upTo(n);
				return out.subarray(0, n);
			},
		);
		if (plan === null || plan.from <= have + BLOSC_FIRST)
			upTo(plan ? plan.to : size);
		else {
			out.fill(0, have, plan.from);
			chunk.readInto(out.subarray(plan.from, plan.to), plan.from);
			have = plan.to;
		}
		out.fill(0, have, size);
		return out;
	} catch (err) {
		releaseEncoded(out);
		throw err;
	}
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
	const io = await smallReadIo();
	const jobs: Promise<void>[] = [];
	let stopped: { readonly err: unknown } | undefined;
	try {
		for (const coords of gridCoords(ranges)) {
			signal?.throwIfAborted();
			const ov = overlap(region, outer, coords) as Region;
			const key = t.key(coords);
			const origin = coords.map((c, d) => c * (outer[d] as number));
			let file: SyncFile | undefined;
			const src: UnitSource = {
				open: () => {
					file = store.openSync(key);
					return file;
				},
				slow: (a) => store.get(key, signal, a),
				close: () => file?.close(),
			};
			jobs.push(startUnit(t, io, src, origin, ov, dst(ov.start)));
		}
	} catch (err) {
		stopped = { err };
	}
	await settleUnits(jobs, stopped);
}
