/**
 * The Zarr array driver: `ArrayInfo` from the metadata, reads and writes through the chunk
 * engine, resize, attributes, flush and close (which releases the worker pool).
 */
import {
	type ArrayDriver,
	type ArrayInfo,
	type Attributes,
	isVString,
	MalformedError,
	planBlocks,
	ReadOnlyError,
	type Region,
	UnsupportedError,
} from "@arraystore/core";
import { attrsFromJson, attrsToJson } from "./attrs.js";
import { ChunkEngine, type EngineContext } from "./chunk-engine.js";
import { fillToScalar } from "./fill-value.js";
import type { Hierarchy } from "./hierarchy.js";
import { CHUNK_LOCKS, InFlight } from "./lock.js";
import { type ArrayMeta, parseV2Array, parseV3Array } from "./metadata.js";
import { StringChunks } from "./string-chunks.js";
import {
	acquirePool,
	defaultWorkerCount,
	type PoolLease,
} from "./worker-pool.js";

/** Adapter options the driver understands. */
export interface ZarrDriverOptions {
	/**
	 * Worker threads for chunk codecs (default: available cores; 0 = all inline). Chunks and
	 * shards a write covers whole are extracted, encoded and written by these workers in
	 * batches (src/batch-write.ts). Otherwise native codecs (zstd, lz4, gzip/zlib, blosc over
	 * those) need no worker: they run on libuv's thread pool, this many chunks at once.
	 */
	readonly workers?: number;
	/** Store chunks that equal the fill value (default false, as tensorstore and zarr-python 3). */
	readonly writeEmptyChunks?: boolean;
	/** Chunks below this many bytes are coded on the calling thread (default 64 KiB). */
	readonly inlineBytes?: number;
	/**
	 * Native zstd and lz4 (napi modules) where they load (default true); false runs the
	 * numcodecs.js WebAssembly codecs, as when the modules are missing.
	 */
	readonly nativeCodecs?: boolean;
}

// Default iterBlocks block: whole chunks, up to about this many bytes.
const BLOCK_BYTES = 16 * 1024 * 1024;

/** Reads the driver options out of `adapterOptions`. */
export function driverOptions(
	o: Readonly<Record<string, unknown>>,
): ZarrDriverOptions {
	const workers =
		typeof o.workers === "number" &&
		Number.isInteger(o.workers) &&
		o.workers >= 0
			? o.workers
			: undefined;
	const inline =
		typeof o.inlineBytes === "number" && o.inlineBytes >= 0
			? o.inlineBytes
			: undefined;
	return {
		...(workers !== undefined ? { workers } : {}),
		writeEmptyChunks: o.writeEmptyChunks === true,
		...(inline !== undefined ? { inlineBytes: inline } : {}),
		...(o.nativeCodecs === false ? { nativeCodecs: false } : {}),
	};
}

/** Parses the metadata of an array node document. */
export function parseArrayMeta(
	doc: Parameters<typeof parseV2Array>[0],
	zarrFormat: 2 | 3,
): ArrayMeta {
	return zarrFormat === 2 ? parseV2Array(doc) : parseV3Array(doc);
}

// vlen strings: blocks are planned with a typical string size.
const STRING_ESTIMATE = 32;

function infoOf(meta: ArrayMeta): ArrayInfo {
	const itemsize = meta.dtype.itemsize || STRING_ESTIMATE;
	const chunkBytes = meta.chunkShape.reduce((a, b) => a * b, itemsize);
	const blockShape = planBlocks(meta.shape, itemsize, {
		targetChunks: meta.chunkShape,
		maxBlockBytes: Math.max(BLOCK_BYTES, chunkBytes),
		order: meta.order,
	});
	return Object.freeze({
		dtype: meta.dtype,
		shape: Object.freeze([...meta.shape]),
		order: meta.order,
		chunks: Object.freeze([...meta.chunkShape]),
		blockShape: Object.freeze(blockShape),
		fillValue: meta.fillString ?? fillToScalar(meta.dtype, meta.fill),
		codecs: meta.plan.info,
		byteOffset: null,
	}) as ArrayInfo;
}

/** One open Zarr array. */
export class ZarrArrayDriver implements ArrayDriver {
	#info: ArrayInfo;
	#meta: ArrayMeta;
	readonly #h: Hierarchy;
	readonly #path: string;
	readonly #writable: boolean;
	readonly #lease: PoolLease;
	readonly #inflight = new InFlight();
	readonly #engine: ChunkEngine | StringChunks;
	#closed = false;

	constructor(
		h: Hierarchy,
		path: string,
		meta: ArrayMeta,
		writable: boolean,
		options: ZarrDriverOptions,
	) {
		this.#h = h;
		this.#path = path;
		this.#meta = meta;
		this.#info = infoOf(meta);
		this.#writable = writable;
		this.#lease = acquirePool(options.workers ?? defaultWorkerCount());
		const workers = this.#lease.pool?.size ?? 1;
		const ctx: EngineContext = {
			store: h.store,
			nodeKey: path,
			pool: this.#lease.pool,
			locks: CHUNK_LOCKS,
			writeEmptyChunks: options.writeEmptyChunks ?? false,
			concurrency: Math.max(4, workers * 2),
			...(options.inlineBytes !== undefined
				? { inlineBytes: options.inlineBytes }
				: {}),
			...(options.nativeCodecs === false ? { native: false } : {}),
		};
		try {
			this.#engine = isVString(meta.dtype)
				? new StringChunks(ctx, meta)
				: new ChunkEngine(ctx, meta);
		} catch (err) {
			void this.#lease.release();
			throw err;
		}
	}

	get info(): ArrayInfo {
		return this.#info;
	}

	async read(
		region: Region,
		out: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		await this.#bytes().read(region, out, signal);
	}

	async write(
		region: Region,
		bytes: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		this.#mustWrite("write");
		await this.#inflight.track(this.#bytes().write(region, bytes, signal));
	}

	async readStrings(region: Region, signal?: AbortSignal): Promise<string[]> {
		return this.#strings().read(region, signal);
	}

	async writeStrings(
		region: Region,
		values: readonly string[],
		signal?: AbortSignal,
	): Promise<void> {
		this.#mustWrite("write");
		await this.#inflight.track(this.#strings().write(region, values, signal));
	}

	#bytes(): ChunkEngine {
		if (this.#engine instanceof StringChunks)
			throw new UnsupportedError(
				"this Zarr array holds variable-length strings",
			);
		return this.#engine;
	}

	#strings(): StringChunks {
		if (!(this.#engine instanceof StringChunks))
			throw new UnsupportedError(
				"this Zarr array holds fixed-size elements, not strings",
			);
		return this.#engine;
	}

	async resize(shape: readonly number[]): Promise<void> {
		this.#mustWrite("resize");
		const old = this.#meta.shape;
		const doc = { ...this.#meta.doc, shape: [...shape] };
		const meta = parseArrayMeta(doc, this.#meta.zarrFormat);
		this.#engine.setMeta(meta);
		await this.#inflight.idle();
		await this.#inflight.track(this.#engine.trimTo(old));
		const node = await this.#h.need(this.#path);
		await this.#h.writeNode(
			this.#path,
			"array",
			meta.zarrFormat,
			doc,
			meta.zarrFormat === 3 ? node.attrs : undefined,
		);
		this.#meta = meta;
		this.#info = infoOf(meta);
	}

	async attrs(): Promise<Attributes> {
		const node = await this.#h.need(this.#path);
		return attrsFromJson(node.attrs);
	}

	async setAttrs(attrs: Attributes): Promise<void> {
		this.#mustWrite("setAttrs");
		const node = await this.#h.need(this.#path);
		if (node.kind !== "array")
			throw new MalformedError(`${this.#path} is no longer an array`);
		await this.#h.writeAttrs(this.#path, {
			...node.attrs,
			...attrsToJson(attrs),
		});
	}

	async flush(options?: { readonly durable?: boolean }): Promise<void> {
		await this.#inflight.idle();
		if (options?.durable) await this.#h.store.sync();
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		try {
			await this.#inflight.idle();
		} finally {
			await this.#lease.release();
		}
	}

	#mustWrite(what: string): void {
		if (!this.#writable)
			throw new ReadOnlyError(`${what}: the Zarr array is open read-only`);
	}
}
