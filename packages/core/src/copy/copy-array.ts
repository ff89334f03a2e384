/**
 * `copyArray`: streams one array from a source store into a target store in planned blocks
 * (whole target chunks, under the memory budget), with at most `concurrency` writes in flight,
 * an optional per-block cast, resume through a journal, and verification.
 */
import { gridBlocks, gridShape } from "../blocks.js";
import { sameLayout, withByteOrder } from "../dtype/format.js";
import { isVString } from "../dtype/model.js";
import type { ArrayData } from "../dtype/typed.js";
import { makeArrayData, shapeSize } from "../dtype/typed.js";
import {
	ShapeMismatchError,
	UnsupportedDTypeError,
	wrapError,
} from "../errors.js";
import { regionToSelection } from "../selection.js";
import type { ArrayStore, Block, ReadableArrayStore } from "../types.js";
import { BlockPool } from "./block-pool.js";
import { DEFAULT_CONCURRENCY, GARBAGE_BLOCKS } from "./budget.js";
import { castData, castKind } from "./cast.js";
import type {
	ArrayCopyResult,
	CopyArrayOptions,
	CopyProgress,
} from "./options.js";
import { planArrayCopy, planItemsize } from "./plan.js";
import { blockDigest, blockNumber, verifyCopy } from "./verify.js";

const DEFAULT_CHECKPOINT_MS = 1000;
/** Writes in flight of a streamed copy between unchunked layouts (see `#streamed`). */
const STREAM_CONCURRENCY = 4;

/**
 * Copies every element of `src` into `dst` (same shape). The target's dtype decides the
 * element type: equal layouts (byte order aside) copy bytes; other dtypes are cast per block,
 * safe casts only unless `unsafeCast`.
 * @throws {ShapeMismatchError} the shapes differ.
 * @throws {UnsupportedDTypeError} the cast is impossible, or lossy without `unsafeCast`.
 * @throws {LimitExceededError} the memory budget cannot hold one target chunk.
 * @example
 * await copyArray(await registry.open("in.h5#/x"), await registry.create("out.zarr", spec), { maxMemory: 64 << 20 });
 */
export async function copyArray(
	src: ReadableArrayStore,
	dst: ArrayStore,
	options: CopyArrayOptions = {},
): Promise<ArrayCopyResult> {
	const shape = src.info.shape;
	if (
		dst.info.shape.length !== shape.length ||
		dst.info.shape.some((n, d) => n !== shape[d])
	) {
		throw new ShapeMismatchError(
			`cannot copy an array of shape [${shape.join(", ")}] into one of shape [${dst.info.shape.join(", ")}]`,
			{ target: dst.target },
		);
	}
	const cast = resolveCast(src, dst, options.unsafeCast === true);
	const blockShape =
		options.blockShape ??
		planArrayCopy(
			{
				shape,
				dtype: src.info.dtype,
				targetDType: dst.info.dtype,
				sourceChunks: src.info.chunks,
				targetChunks: dst.info.chunks,
				targetOrder: dst.info.order,
				sourceFormat: src.format,
				targetFormat: dst.format,
			},
			options,
		).blockShape;
	const run = new ArrayCopy(src, dst, blockShape, cast, options);
	return run.run();
}

// --- internal ---

type Cast = ReturnType<typeof resolveCast>;

function resolveCast(
	src: ReadableArrayStore,
	dst: ArrayStore,
	unsafe: boolean,
): ArrayStore["info"]["dtype"] | null {
	const from = src.info.dtype;
	const to = dst.info.dtype;
	if (isVString(from) || isVString(to)) {
		if (isVString(from) && isVString(to)) return null;
		throw new UnsupportedDTypeError(
			`cannot copy ${from.str} elements into a ${to.str} array`,
			{ dtype: to.str, format: dst.format, target: dst.target },
		);
	}
	if (sameLayout(from, to)) return null;
	const kind = castKind(from, to);
	if (kind === "impossible")
		throw new UnsupportedDTypeError(`cannot cast ${from.str} to ${to.str}`, {
			dtype: to.str,
			format: dst.format,
			target: dst.target,
		});
	if (kind === "unsafe" && !unsafe)
		throw new UnsupportedDTypeError(
			`casting ${from.str} to ${to.str} may change values; allow it explicitly (unsafeCast / --unsafe-cast)`,
			{ dtype: to.str, format: dst.format, target: dst.target },
		);
	return to;
}

// Concurrent writes are safe only when no two blocks share a target chunk.
function alignedToChunks(
	blockShape: readonly number[],
	chunks: readonly number[] | null,
	shape: readonly number[],
): boolean {
	if (!chunks || chunks.length !== shape.length) return true;
	return blockShape.every((b, d) => {
		const c = chunks[d] as number;
		return b % c === 0 || b >= (shape[d] as number);
	});
}

class ArrayCopy {
	readonly #src: ReadableArrayStore;
	readonly #dst: ArrayStore;
	readonly #blockShape: readonly number[];
	readonly #cast: Cast;
	readonly #options: CopyArrayOptions;
	readonly #key: string;
	readonly #grid: readonly number[];
	readonly #blocksTotal: number;
	readonly #itemsize: number;
	readonly #bytesTotal: number;
	readonly #skip: ReadonlySet<number>;
	readonly #digests = new Map<number, string>();
	#pending: number[] = [];
	#lastCheckpoint = Date.now();
	#checkpoint: Promise<void> = Promise.resolve();
	#blocksDone = 0;
	#bytesDone = 0;
	#written = 0;
	#bytesWritten = 0;
	// Bytes written since the last releaseMemory call.
	#sinceRelease = 0;
	// Bytes of the largest block the budget allows (≥ this copy's blocks).
	readonly #budgetBlock: number;

	constructor(
		src: ReadableArrayStore,
		dst: ArrayStore,
		blockShape: readonly number[],
		cast: Cast,
		options: CopyArrayOptions,
	) {
		this.#src = src;
		this.#dst = dst;
		this.#blockShape = blockShape;
		this.#cast = cast;
		this.#options = options;
		this.#key = options.journalKey ?? dst.target;
		const shape = src.info.shape;
		this.#grid = gridShape(shape, blockShape);
		this.#blocksTotal = shape.some((n) => n === 0) ? 0 : shapeSize(this.#grid);
		this.#itemsize = planItemsize(dst.info.dtype);
		this.#bytesTotal = shapeSize(shape) * this.#itemsize;
		this.#skip = options.journal?.completed(this.#key) ?? new Set();
		this.#budgetBlock = Math.max(
			options.budgetBlockBytes ?? 0,
			this.#maxBlockBytes(),
		);
		// Blocks done by an earlier run count as done for progress.
		for (const n of this.#skip) {
			if (n >= this.#blocksTotal) continue;
			this.#blocksDone++;
			this.#bytesDone += this.#blockElements(n) * this.#itemsize;
		}
	}

	async run(): Promise<ArrayCopyResult> {
		const o = this.#options;
		const k = alignedToChunks(
			this.#blockShape,
			this.#dst.info.chunks,
			this.#src.info.shape,
		)
			? this.#streamed(
					Math.max(1, Math.floor(o.concurrency ?? DEFAULT_CONCURRENCY)),
				)
			: 1;
		// Writes in flight finish even when the caller aborts (a clean stop); they are cut
		// short only when another write failed.
		const writes = new AbortController();
		const inflight = new Set<Promise<void>>();
		let failure: { error: unknown } | null = null;
		const skipped = this.#blocksDone;
		// k blocks being written and two being read (the current one and the prefetched one):
		// the buffers the budget counts, reused.
		const pool = isVString(this.#src.info.dtype)
			? null
			: new BlockPool(this.#maxBlockBytes(), k + 2);
		try {
			for await (const block of this.#blocks(pool)) {
				if (failure) break;
				const n = blockNumber(block.index, this.#grid);
				const p = this.#writeBlock(n, block, writes.signal)
					.catch((error: unknown) => {
						failure ??= { error };
						writes.abort(error);
					})
					.finally(() => pool?.give(block.bytes));
				inflight.add(p);
				void p.finally(() => inflight.delete(p));
				if (inflight.size >= k) await Promise.race(inflight);
			}
		} catch (error) {
			failure ??= { error };
		}
		await Promise.allSettled(inflight);
		// Whatever was written durably is journaled, also after an abort or a failure.
		try {
			await this.#checkpointNow();
		} catch (error) {
			failure ??= { error };
		}
		if (failure)
			throw wrapError((failure as { error: unknown }).error, {
				target: this.#dst.target,
			});
		let verified = 0;
		if (o.verify) {
			let bytes = 0;
			let blocks = 0;
			verified = await verifyCopy(this.#src, this.#dst, {
				blockShape: this.#blockShape,
				expected: this.#digests,
				cast: this.#cast ?? undefined,
				signal: o.signal,
				...(o.releaseMemory ? { releaseMemory: o.releaseMemory } : {}),
				onBlock: (elements) => {
					bytes += elements * this.#itemsize;
					this.#emit("verify", ++blocks, bytes);
				},
			});
		}
		return {
			source: this.#src.target,
			target: this.#dst.target,
			shape: [...this.#src.info.shape],
			dtype: this.#dst.info.dtype.str,
			blockShape: [...this.#blockShape],
			blocksWritten: this.#written,
			blocksSkipped: skipped,
			bytesWritten: this.#bytesWritten,
			blocksVerified: verified,
		};
	}

	// Source blocks still to copy (journaled ones skipped), read into the pool's buffers one
	// after the other, the next one while the current one is handed out.
	async *#blocks(pool: BlockPool | null): AsyncGenerator<Block> {
		const signal = this.#options.signal;
		const shape = this.#src.info.shape;
		const region = { start: shape.map(() => 0), shape: [...shape] };
		const grid = gridBlocks(region, this.#blockShape);
		// Reads return native byte order.
		const dtype = withByteOrder(this.#src.info.dtype, "native");
		const load = (): Promise<Block> | undefined => {
			let g = grid.next();
			while (!g.done && this.#skip.has(blockNumber(g.value.index, this.#grid)))
				g = grid.next();
			if (g.done) return undefined;
			const { index, region: box } = g.value;
			const selection = regionToSelection(box);
			const read = async (): Promise<Block> => {
				let data: ArrayData;
				if (pool) {
					const out = await pool.take(shapeSize(box.shape) * dtype.itemsize);
					try {
						data = await this.#src.read(selection, {
							signal,
							out: makeArrayData(dtype, box.shape, out),
						});
					} catch (error) {
						pool.give(out);
						throw error;
					}
				} else data = await this.#src.read(selection, { signal });
				return { ...data, index, offset: box.start, selection };
			};
			const p = read();
			p.catch(() => {}); // observed when awaited; a dropped prefetch must not be unhandled
			return p;
		};
		let next = load();
		while (next) {
			signal?.throwIfAborted();
			const current = next;
			next = load();
			yield await current;
		}
	}

	/**
	 * Writes in flight. A copy between unchunked layouts moves cache-sized blocks (plan.ts,
	 * STREAM_BLOCK_BYTES); one such block at a time leaves the disk queue and the thread pool
	 * idle, so up to {@link STREAM_CONCURRENCY} are written at once — as many as the budget's
	 * blocks would have held.
	 */
	#streamed(k: number): number {
		if (this.#src.info.chunks || this.#dst.info.chunks) return k;
		const block = this.#maxBlockBytes();
		const fits = Math.floor(((k + 2) * this.#budgetBlock) / block) - 2;
		return Math.max(k, Math.min(STREAM_CONCURRENCY, fits));
	}

	// Bytes of the largest block in the source dtype.
	#maxBlockBytes(): number {
		const shape = this.#src.info.shape;
		const elements = this.#blockShape.reduce(
			(a, b, d) => a * Math.min(b, shape[d] ?? 1),
			1,
		);
		return elements * this.#src.info.dtype.itemsize;
	}

	async #writeBlock(
		n: number,
		block: Block,
		signal: AbortSignal,
	): Promise<void> {
		const data = this.#cast ? castData(block, this.#cast) : block;
		if (this.#options.verify) this.#digests.set(n, await blockDigest(data));
		await this.#dst.write(block.selection, data, { signal });
		const bytes = shapeSize(block.shape) * this.#itemsize;
		this.#sinceRelease += bytes;
		if (
			this.#options.releaseMemory &&
			this.#sinceRelease >= GARBAGE_BLOCKS * this.#budgetBlock
		) {
			this.#sinceRelease = 0;
			this.#options.releaseMemory(GARBAGE_BLOCKS * this.#budgetBlock);
		}
		this.#written++;
		this.#bytesWritten += bytes;
		this.#blocksDone++;
		this.#bytesDone += bytes;
		this.#emit("copy", this.#blocksDone, this.#bytesDone);
		if (this.#options.journal) {
			this.#pending.push(n);
			const interval =
				this.#options.checkpointInterval ?? DEFAULT_CHECKPOINT_MS;
			if (Date.now() - this.#lastCheckpoint >= interval)
				await this.#checkpointNow();
		}
	}

	// Flush (durably unless the copy is not durable), then journal the blocks finished before
	// the flush started. Serialised.
	#checkpointNow(): Promise<void> {
		const journal = this.#options.journal;
		if (!journal) return Promise.resolve();
		const durable = this.#options.durable !== false;
		const next = this.#checkpoint.then(async () => {
			if (this.#pending.length === 0) return;
			const batch = this.#pending;
			this.#pending = [];
			this.#lastCheckpoint = Date.now();
			await this.#dst.flush({ durable });
			await journal.recordBlocks(this.#key, batch, durable);
		});
		this.#checkpoint = next.catch(() => {});
		return next;
	}

	#emit(
		phase: CopyProgress["phase"],
		blocksDone: number,
		bytesDone: number,
	): void {
		const cb = this.#options.onProgress;
		if (!cb) return;
		const ctx = this.#options.progressContext;
		cb({
			phase,
			array: ctx?.array ?? this.#dst.target,
			arrayIndex: ctx?.arrayIndex ?? 0,
			arrayCount: ctx?.arrayCount ?? 1,
			blocksDone,
			blocksTotal: this.#blocksTotal,
			arrayBytesDone: bytesDone,
			arrayBytesTotal: this.#bytesTotal,
			bytesDone: (ctx?.bytesBefore ?? 0) + bytesDone,
			bytesTotal: ctx?.bytesTotal ?? this.#bytesTotal,
		});
	}

	#blockElements(n: number): number {
		// Block n's extent per dimension (edge blocks are truncated).
		let rest = n;
		let size = 1;
		const shape = this.#src.info.shape;
		for (let d = this.#grid.length - 1; d >= 0; d--) {
			const g = this.#grid[d] as number;
			const i = rest % g;
			rest = Math.floor(rest / g);
			const b = this.#blockShape[d] as number;
			size *= Math.min(b, (shape[d] as number) - i * b);
		}
		return size;
	}
}
