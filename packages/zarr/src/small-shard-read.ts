/**
 * Small reads of sharded arrays (a slab within a few inner chunks): each shard is opened with
 * synchronous calls, its index read (or taken from a small cache of recent shards' indexes,
 * checked against the file's identity), then only the wanted inner chunks' byte ranges are
 * read into pooled buffers and decoded as small reads of unsharded chunks are (small-read.ts),
 * instead of a stat, an index read and a chunk read each with its own open/read/close on the
 * event loop.
 */
import {
	MalformedError,
	type Region,
	type StridedView,
} from "@arraystore/core";
import type { ShardPlan } from "./codec-plan.js";
import { chunkRanges, gridCoords, overlap, prod } from "./grid.js";
import { loadKernel, releaseEncoded } from "./kernel.js";
import { decodeIndexSync, indexBytes, type ShardEntry } from "./shard-index.js";
import {
	type SmallReadTarget,
	type StoredChunk,
	settleUnits,
	smallReadIo,
	startUnit,
	type UnitSource,
} from "./small-read.js";
import type { FsStore, SyncFile } from "./store.js";

/** What a small read of a sharded array needs of the chunk engine. */
export interface SmallShardTarget extends SmallReadTarget {
	readonly plan: ShardPlan;
	/** Shape of the inner chunks (`chunkShape` is the shard's). */
	readonly innerShape: readonly number[];
	readonly indexes: ShardIndexCache;
}

// Shard indexes kept: at most this many shards and entries in all (16 B each on disk, about
// twice that decoded).
const MAX_SHARDS = 1024;
const MAX_ENTRIES = 1 << 17;

/**
 * The decoded indexes of recently read shards, by store key. An entry is used only while the
 * shard file is the same version (`SyncFile.stamp`: device, inode, size, change times; writers
 * replace shards by rename) and the store has made no write since it was cached.
 */
export class ShardIndexCache {
	readonly #map = new Map<
		string,
		{ readonly stamp: string; readonly entries: readonly ShardEntry[] }
	>();
	#count = 0;
	#writes = -1;

	/** The cached index of `key` when its file still has `stamp`. */
	get(
		store: FsStore,
		key: string,
		stamp: string,
	): readonly ShardEntry[] | undefined {
		if (store.writes !== this.#writes) {
			// The store wrote something since: forget everything (writes rarely mix with reads).
			this.#map.clear();
			this.#count = 0;
			this.#writes = store.writes;
			return undefined;
		}
		const hit = this.#map.get(key);
		if (!hit) return undefined;
		this.#map.delete(key);
		if (hit.stamp !== stamp) {
			this.#count -= hit.entries.length;
			return undefined;
		}
		// Most recently used last.
		this.#map.set(key, hit);
		return hit.entries;
	}

	/** Remembers the index of `key` read from the file version `stamp`. */
	set(key: string, stamp: string, entries: readonly ShardEntry[]): void {
		if (entries.length > MAX_ENTRIES) return;
		const old = this.#map.get(key);
		if (old) {
			this.#map.delete(key);
			this.#count -= old.entries.length;
		}
		while (
			this.#map.size >= MAX_SHARDS ||
			this.#count + entries.length > MAX_ENTRIES
		) {
			const first = this.#map.entries().next().value;
			if (!first) break;
			this.#map.delete(first[0]);
			this.#count -= first[1].entries.length;
		}
		this.#map.set(key, { stamp, entries });
		this.#count += entries.length;
	}
}

/** Reads the box `region` of a sharded array (a few inner chunks) into `dst`. */
export async function readSmallSharded(
	t: SmallShardTarget,
	region: Region,
	dst: (pos: readonly number[]) => StridedView,
	signal?: AbortSignal,
): Promise<void> {
	const outer = t.chunkShape;
	const inner = t.innerShape;
	const perShard = outer.map((s, d) => s / (inner[d] as number));
	const count = prod(perShard);
	const io = await smallReadIo();
	const crc32c = (await loadKernel()).crc32c;
	const files: SyncFile[] = [];
	const jobs: Promise<void>[] = [];
	let stopped: { readonly err: unknown } | undefined;
	try {
		for (const coords of gridCoords(chunkRanges(region, outer))) {
			signal?.throwIfAborted();
			const key = t.key(coords);
			const file = t.store.openSync(key);
			if (file) files.push(file);
			// The shard's descriptor goes once this loop and every unit reading it are done
			// with it (most units read all they need before startUnit returns).
			let holds = 1;
			const release = (): void => {
				if (--holds === 0) file?.close();
			};
			const entries = file
				? shardIndex(t, key, file, count, io.alloc, crc32c)
				: null;
			const shardRegion = overlap(region, outer, coords) as Region;
			for (const g of gridCoords(chunkRanges(shardRegion, inner))) {
				// C-order position of the inner chunk within its shard.
				let local = 0;
				for (let d = 0; d < g.length; d++)
					local =
						local * (perShard[d] as number) +
						((g[d] as number) % (perShard[d] as number));
				const entry = entries?.[local] ?? null;
				const ov = overlap(region, inner, g) as Region;
				const origin = g.map((c, d) => c * (inner[d] as number));
				holds++;
				jobs.push(
					startUnit(
						t,
						io,
						entrySource(file, entry, release),
						origin,
						ov,
						dst(ov.start),
					),
				);
			}
			release();
		}
	} catch (err) {
		stopped = { err };
	}
	try {
		await settleUnits(jobs, stopped);
	} finally {
		for (const f of files) f.close();
	}
}

// The index of the open shard `file` (cached, or read and checked now).
function shardIndex(
	t: SmallShardTarget,
	key: string,
	file: SyncFile,
	count: number,
	alloc: (n: number) => Uint8Array,
	crc32c: (bytes: Uint8Array) => number,
): readonly ShardEntry[] {
	const hit = t.indexes.get(t.store, key, file.stamp);
	if (hit) return hit;
	const plan = t.plan;
	const ib = indexBytes(plan, count);
	if (file.size < ib)
		throw new MalformedError(`shard ${key} is shorter than its index`);
	const bytes = alloc(ib);
	let entries: ShardEntry[];
	try {
		file.readInto(bytes, plan.indexLocation === "start" ? 0 : file.size - ib);
		entries = decodeIndexSync(plan, count, bytes, file.size, crc32c);
	} finally {
		releaseEncoded(bytes);
	}
	t.indexes.set(key, file.stamp, entries);
	return entries;
}

// One inner chunk's stored bytes: its range of the open shard (every entry was checked against
// the shard's size when the index was decoded); `release` once done with the shard.
function entrySource(
	file: SyncFile | undefined,
	entry: ShardEntry,
	release: () => void,
): UnitSource {
	let open = true;
	const chunk: StoredChunk | undefined =
		file && entry
			? {
					size: entry.nbytes,
					readInto: (dst, at) => file.readInto(dst, entry.offset + at),
				}
			: undefined;
	return {
		open: () => chunk,
		// More bytes than any encoding of the chunk: into a fresh buffer (bounded by the
		// shard's size), for the decoder to refuse.
		slow: async () => {
			if (!chunk) return undefined;
			const out = new Uint8Array(chunk.size);
			chunk.readInto(out, 0);
			return out;
		},
		close: () => {
			if (open) release();
			open = false;
		},
	};
}
