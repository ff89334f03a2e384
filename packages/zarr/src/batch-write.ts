/**
 * Writes of whole chunks (or whole shards) handed to the codec workers in batches: a worker
 * gets the box's bytes (shared, not copied, when they live on a SharedArrayBuffer; otherwise
 * copied once into a staging one), the box geometry and a list of chunk files, and extracts,
 * encodes and writes (or removes, when empty) every chunk itself (worker/chunk-writer.mjs).
 * The main thread only takes the chunks' locks, posts the batch and records what was written.
 */
import { availableParallelism } from "node:os";
import { fromNodeError, type Region, stridesOf } from "@arraystore/core";
import { gridCoords, offsetOf } from "./grid.js";
import {
	type KernelCodec,
	kernelError,
	loadKernel,
	loadWriter,
} from "./kernel.js";
import { type KeyedLock, Semaphore } from "./lock.js";
import type { ArrayMeta } from "./metadata.js";
import type { FsStore } from "./store.js";
import type { WorkerPool, WorkerReply } from "./worker-pool.js";

/** How a box's bytes map onto the chunks a batch writes. */
export interface BatchLayout {
	readonly itemsize: number;
	/** Element strides of the box. */
	readonly boxStrides: readonly number[];
	/** Shape of the (inner) chunk the codec sees, and its element strides. */
	readonly unit: readonly number[];
	readonly unitStrides: readonly number[];
	readonly chunkBytes: number;
	readonly chain: readonly KernelCodec[];
	readonly native: boolean;
	/** Fill value of chunks not to store (null: store every chunk). */
	readonly fill: Uint8Array | null;
	/** Shard index layout when the items are whole shards. */
	readonly shard: {
		readonly crc: boolean;
		readonly littleEndian: boolean;
		readonly indexLocation: "start" | "end";
	} | null;
}

/** One file a batch writes: a chunk at element offset `base` of the box, or a shard. */
export interface BatchItem {
	/** Absolute file path (`FsStore.path`), also the lock key. */
	readonly path: string;
	/** Chunk: element offset of its first element in the box. */
	readonly base?: number;
	/** Shard: element offsets of its inner chunks, C order of the inner grid. */
	readonly bases?: readonly number[];
}

/** Where the batches go. */
export interface BatchTarget {
	readonly pool: WorkerPool;
	readonly store: FsStore;
	readonly locks: KeyedLock;
}

// Raw bytes per batch: enough to amortise a message, small enough to spread over the workers.
const BATCH_BYTES = 8 * 1024 * 1024;
/**
 * Largest byte span of a box a batch may copy into a staging buffer (boxes that are not on a
 * SharedArrayBuffer): chunks spanning more stay on the calling thread.
 */
export const STAGE_BYTES: number = 8 * 1024 * 1024;
// Staging buffers in use at once in the process (batches wait for one), and kept for the next
// batch: staged memory stays within STAGING_LIVE × STAGE_BYTES.
const STAGING_LIVE = 4;
const STAGING_KEPT = 2;
const staging: SharedArrayBuffer[] = [];
const stagingSlots = new Semaphore(STAGING_LIVE);

/**
 * True when the calling thread should write batches beside the workers: a pool smaller than
 * the machine's cores (an HDF5 source leaves a Zarr target one codec worker) would leave a
 * core to a thread that mostly waits, when the chain encodes synchronously on each worker
 * (zstd). Chains whose work runs on libuv's pool (lz4, zlib, blosc over those) already spread
 * over the cores from one worker.
 */
async function helpHere(
	pool: WorkerPool,
	layout: BatchLayout,
	items: number,
): Promise<boolean> {
	if (items <= 1 || pool.size >= availableParallelism()) return false;
	const k = await loadKernel();
	return !k.threadPoolChain(layout.chain, layout.native);
}

// One batch at a time on the calling thread: the writer's scratch buffers are per thread.
const hereSlot = new Semaphore(1);

// Runs one batch message on the calling thread (worker/chunk-writer.mjs, as a worker would),
// after letting pending I/O callbacks run: the batch blocks this thread while it encodes
// and writes. Answers as a worker does.
async function runHere(
	msg: Readonly<Record<string, unknown>>,
	n: number,
): Promise<WorkerReply> {
	const w = await loadWriter();
	const results: (number | null)[] = new Array(n).fill(null);
	try {
		await hereSlot.run(async () => {
			await new Promise<void>((r) => setImmediate(r));
			await w.runWrite(msg, results);
		});
		return { id: 0, ok: true, results };
	} catch (err) {
		const e = (err ?? {}) as {
			kind?: string;
			message?: string;
			code?: string;
			syscall?: string;
			path?: string;
		};
		return {
			id: 0,
			ok: false,
			results,
			kind: e.kind ?? "error",
			message: e.message ?? String(err),
			...(e.code !== undefined ? { code: e.code } : {}),
			...(e.syscall !== undefined ? { syscall: e.syscall } : {}),
			...(e.path !== undefined ? { path: e.path } : {}),
		};
	}
}

/** True when a box's bytes reach the workers without a copy. */
export function sharedBox(bytes: Uint8Array): boolean {
	return bytes.buffer instanceof SharedArrayBuffer;
}

/** Byte range `[lo, hi)` of the box that item `it` reads. */
export function itemSpan(layout: BatchLayout, it: BatchItem): [number, number] {
	let ext = 1;
	for (let d = 0; d < layout.unit.length; d++)
		ext += ((layout.unit[d] as number) - 1) * (layout.boxStrides[d] as number);
	const bases = it.bases ?? [it.base ?? 0];
	let lo = Number.POSITIVE_INFINITY;
	let hi = 0;
	for (const b of bases) {
		lo = Math.min(lo, b);
		hi = Math.max(hi, b + ext);
	}
	return [lo * layout.itemsize, hi * layout.itemsize];
}

// Copies bytes [lo, hi) of the box into a staging buffer.
function stage(
	bytes: Uint8Array,
	lo: number,
	hi: number,
): { view: Uint8Array; done: () => void } {
	const n = hi - lo;
	const i = staging.findIndex((b) => b.byteLength >= n);
	const buf =
		i >= 0
			? (staging.splice(i, 1)[0] as SharedArrayBuffer)
			: new SharedArrayBuffer(Math.max(n, STAGE_BYTES));
	const view = new Uint8Array(buf, 0, n);
	view.set(bytes.subarray(lo, hi));
	return {
		view,
		done() {
			if (buf.byteLength <= STAGE_BYTES && staging.length < STAGING_KEPT)
				staging.push(buf);
		},
	};
}

/** The typed error of a failed worker reply (`op`: the codec direction it ran). */
export function workerFailure(
	r: WorkerReply,
	op: "encode" | "decode" = "encode",
): unknown {
	if (r.kind === "fs") {
		const err = Object.assign(new Error(r.message ?? "write failed"), {
			code: r.code,
			syscall: r.syscall,
			path: r.path,
		});
		return fromNodeError(err, {
			...(r.path !== undefined ? { target: r.path } : {}),
			adapter: "zarr",
		});
	}
	return kernelError({ kind: r.kind, message: r.message }, op);
}

// Takes the lock of every path (in one synchronous pass, so two batches queue in the same
// order on every key they share) and resolves with their release once all are held.
async function lockAll(
	locks: KeyedLock,
	paths: readonly string[],
): Promise<() => Promise<void>> {
	let release!: () => void;
	const done = new Promise<void>((r) => {
		release = r;
	});
	const acquired: Promise<void>[] = [];
	const held: Promise<void>[] = [];
	for (const p of paths) {
		acquired.push(
			new Promise<void>((got) => {
				held.push(
					locks.with(p, () => {
						got();
						return done;
					}),
				);
			}),
		);
	}
	await Promise.all(acquired);
	return async () => {
		release();
		await Promise.all(held);
	};
}

/**
 * Writes `items` from the box `bytes` on the pool's workers, at most one batch per worker in
 * flight. Rejects with the first failure (typed) once every batch has settled.
 */
export async function writeBatches(
	target: BatchTarget,
	layout: BatchLayout,
	bytes: Uint8Array,
	items: readonly BatchItem[],
	signal?: AbortSignal,
): Promise<void> {
	const { pool, store, locks } = target;
	const shared = sharedBox(bytes);
	const itemBytes =
		layout.chunkBytes * (layout.shard ? (items[0]?.bases?.length ?? 1) : 1);
	// Shards: two a batch at least, so a worker's lanes run on into the next shard instead of
	// waiting at the end of each (worker/chunk-writer.mjs).
	const atLeast = layout.shard ? 2 : 1;
	// The calling thread's lane takes one item at a time (see helpHere), the workers' batches
	// are small then too: whichever is free takes the next items, none waits at the end.
	const here = (await helpHere(pool, layout, items.length)) ? 1 : 0;
	const per = Math.max(
		1,
		Math.min(
			Math.max(
				atLeast,
				here ? 2 : Math.floor(BATCH_BYTES / Math.max(1, itemBytes)),
			),
			Math.ceil(items.length / (pool.size + here)),
		),
	);
	const common = {
		op: "write",
		itemsize: layout.itemsize,
		boxStrides: layout.boxStrides,
		unit: layout.unit,
		unitStrides: layout.unitStrides,
		chunkBytes: layout.chunkBytes,
		chain: layout.chain,
		native: layout.native,
		fill: layout.fill,
		shard: layout.shard,
	};
	// The next batch: up to `max` items, and (staged) a span of at most STAGE_BYTES.
	let next = 0;
	const take = (
		max: number,
	): {
		batch: BatchItem[];
		view: Uint8Array;
		done: () => void;
	} => {
		const first = items[next] as BatchItem;
		if (shared) {
			const batch = items.slice(next, next + max);
			next += batch.length;
			return { batch, view: bytes, done() {} };
		}
		let [lo, hi] = itemSpan(layout, first);
		let end = next + 1;
		while (end < items.length && end - next < max) {
			const [l, h] = itemSpan(layout, items[end] as BatchItem);
			if (Math.max(hi, h) - Math.min(lo, l) > STAGE_BYTES) break;
			lo = Math.min(lo, l);
			hi = Math.max(hi, h);
			end++;
		}
		const shift = lo / layout.itemsize;
		const batch = items
			.slice(next, end)
			.map((it) =>
				it.bases
					? { path: it.path, bases: it.bases.map((b) => b - shift) }
					: { path: it.path, base: (it.base ?? 0) - shift },
			);
		next = end;
		return { batch, ...stage(bytes, lo, hi) };
	};
	let failed: { err: unknown } | undefined;
	const run = async (
		batch: BatchItem[],
		view: Uint8Array,
		inline = false,
	): Promise<void> => {
		const unlock = await lockAll(
			locks,
			batch.map((b) => b.path),
		);
		try {
			signal?.throwIfAborted();
			const msg = {
				...common,
				buffer: view.buffer,
				byteOffset: view.byteOffset,
				byteLength: view.byteLength,
				items: batch,
			};
			const r = inline
				? await runHere(msg, batch.length)
				: await pool.call(msg, "encode");
			r.results?.forEach((n, i) => {
				if (n !== null && n >= 0)
					store.noteWritten((batch[i] as BatchItem).path);
			});
			if (!r.ok) throw workerFailure(r);
		} finally {
			await unlock();
		}
	};
	// The calling thread's lane reads the box where it is (no staging copy).
	const laneHere = async (): Promise<void> => {
		while (!failed && next < items.length) {
			try {
				signal?.throwIfAborted();
				const batch = items.slice(next, next + 1);
				next += batch.length;
				await run(batch, bytes, true);
			} catch (err) {
				failed ??= { err };
			}
		}
	};
	const lane = async (): Promise<void> => {
		while (!failed && next < items.length) {
			try {
				signal?.throwIfAborted();
				if (shared) {
					const t = take(per);
					await run(t.batch, t.view);
				} else
					await stagingSlots.run(async () => {
						// Another lane may have taken the last items while this one waited.
						if (failed || next >= items.length) return;
						const t = take(per);
						try {
							await run(t.batch, t.view);
						} finally {
							t.done();
						}
					});
			} catch (err) {
				failed ??= { err };
			}
		}
	};
	await Promise.all([
		...Array.from({ length: Math.min(pool.size, items.length) }, lane),
		...(here ? [laneHere()] : []),
	]);
	if (failed) throw failed.err;
}

/** What the worker paths need of a chunk engine. */
export interface EngineGeometry {
	readonly meta: ArrayMeta;
	/** The chunk the codec sees (the inner chunk when sharded), and its element strides. */
	readonly unit: readonly number[];
	readonly unitStrides: readonly number[];
	readonly chunkBytes: number;
	/** Per codec of the chain, the most bytes its decoder may produce. */
	readonly limits: readonly number[];
	/** One element of the fill value. */
	readonly fill: Uint8Array;
	readonly writeEmptyChunks: boolean;
	readonly native: boolean;
	readonly store: FsStore;
	readonly locks: KeyedLock;
	readonly pool: WorkerPool;
	/** Store key of the (outer) chunk at grid `coords`. */
	key(coords: readonly number[]): string;
}

/**
 * Hands the chunks (shards) at `coords`, which lie wholly inside `region`, to the workers.
 * Those it leaves to the calling thread (spread over more of an unshared box than a staging
 * buffer holds) it pushes onto `rest`, synchronously, before returning.
 */
export function writeWhole(
	g: EngineGeometry,
	region: Region,
	bytes: Uint8Array,
	coords: readonly number[][],
	rest: number[][],
	signal?: AbortSignal,
): Promise<void> {
	const meta = g.meta;
	const outer = meta.chunkShape;
	const inner = g.unit;
	const plan = meta.plan.shard;
	const boxStrides = stridesOf(region.shape, meta.order);
	const checkEmpty = !g.writeEmptyChunks && meta.fill !== null;
	const layout: BatchLayout = {
		itemsize: meta.dtype.itemsize,
		boxStrides,
		unit: inner,
		unitStrides: g.unitStrides,
		chunkBytes: g.chunkBytes,
		chain: meta.plan.chunk.chain,
		native: g.native,
		fill: checkEmpty ? g.fill : null,
		shard: plan
			? {
					crc: plan.indexChain.length > 0,
					littleEndian: plan.indexEndian === "little",
					indexLocation: plan.indexLocation,
				}
			: null,
	};
	const base = (c: readonly number[]): number =>
		offsetOf(
			c.map((x, d) => x * (inner[d] as number)),
			region.start,
			boxStrides,
		);
	const perShard = outer.map((n, d) => n / (inner[d] as number));
	const shared = sharedBox(bytes);
	const items: BatchItem[] = [];
	for (const c of coords) {
		const path = g.store.path(g.key(c));
		let item: BatchItem;
		if (!plan) item = { path, base: base(c) };
		else {
			const ranges = c.map((x, d) => {
				const lo = x * (perShard[d] as number);
				return [lo, lo + (perShard[d] as number)] as [number, number];
			});
			item = { path, bases: [...gridCoords(ranges)].map(base) };
		}
		// A chunk spread over more of an unshared box than a staging buffer holds (a
		// transposed layout) is not worth copying: it stays on the calling thread.
		if (!shared) {
			const [lo, hi] = itemSpan(layout, item);
			if (hi - lo > STAGE_BYTES) {
				rest.push(c);
				continue;
			}
		}
		items.push(item);
	}
	if (items.length === 0) return Promise.resolve();
	const { pool, store, locks } = g;
	return writeBatches({ pool, store, locks }, layout, bytes, items, signal);
}
