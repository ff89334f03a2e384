/**
 * Variable-length UTF-8 string arrays (`vlen-utf8`: Zarr v2 object arrays, v3 `string`):
 * chunks are a count and length-prefixed UTF-8 items, then the usual bytes→bytes chain. Boxes
 * are string lists in C order; missing chunks read as the fill string.
 */
import {
	MalformedError,
	type Region,
	UnsupportedError,
} from "@arraystore/core";
import { ChunkCodec } from "./chunk-codec.js";
import type { EngineContext } from "./chunk-engine.js";
import {
	chunkInBounds,
	chunkRanges,
	gridCoords,
	offsetOf,
	overlap,
	permutedStrides,
	prod,
	sameRegion,
} from "./grid.js";
import { runLimited } from "./lock.js";
import type { ArrayMeta } from "./metadata.js";
import { joinKey } from "./store.js";

// Decoded string chunks may not exceed this many bytes (a cap against decompression bombs).
const MAX_STRING_CHUNK_BYTES = 2 ** 30;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** numcodecs VLenUTF8: u32 count, then per item u32 length + UTF-8 bytes (all little-endian). */
export function encodeVlenUtf8(values: readonly string[]): Uint8Array {
	const enc = new TextEncoder();
	const parts = values.map((v) => enc.encode(v));
	const out = new Uint8Array(
		new ArrayBuffer(4 + parts.reduce((n, p) => n + 4 + p.length, 0)),
	);
	const view = new DataView(out.buffer);
	view.setUint32(0, values.length, true);
	let at = 4;
	for (const p of parts) {
		view.setUint32(at, p.length, true);
		out.set(p, at + 4);
		at += 4 + p.length;
	}
	return out;
}

/**
 * Parses a vlen-utf8 chunk of `count` items.
 * @throws {MalformedError} a wrong count, lengths past the end, or invalid UTF-8.
 */
export function decodeVlenUtf8(bytes: Uint8Array, count: number): string[] {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	if (bytes.length < 4)
		throw new MalformedError("vlen-utf8 chunk shorter than its header");
	const n = view.getUint32(0, true);
	if (n !== count)
		throw new MalformedError(
			`vlen-utf8 chunk holds ${n} items, expected ${count}`,
		);
	const out = new Array<string>(n);
	let at = 4;
	for (let i = 0; i < n; i++) {
		if (at + 4 > bytes.length)
			throw new MalformedError("vlen-utf8 chunk truncated");
		const len = view.getUint32(at, true);
		at += 4;
		if (at + len > bytes.length)
			throw new MalformedError("vlen-utf8 item runs past the chunk");
		try {
			out[i] = utf8.decode(bytes.subarray(at, at + len));
		} catch (cause) {
			throw new MalformedError("vlen-utf8 item is not valid UTF-8", { cause });
		}
		at += len;
	}
	return out;
}

function copyStrided(
	src: readonly string[],
	sBase: number,
	sStrides: readonly number[],
	dst: string[],
	dBase: number,
	dStrides: readonly number[],
	counts: readonly number[],
): void {
	const n = counts.length;
	if (counts.some((c) => c === 0)) return;
	if (n === 0) {
		dst[dBase] = src[sBase] as string;
		return;
	}
	const idx = new Array<number>(n).fill(0);
	let s = sBase;
	let d = dBase;
	for (;;) {
		dst[d] = src[s] as string;
		let k = n - 1;
		for (; k >= 0; k--) {
			idx[k] = (idx[k] as number) + 1;
			s += sStrides[k] as number;
			d += dStrides[k] as number;
			if ((idx[k] as number) < (counts[k] as number)) break;
			s -= (sStrides[k] as number) * (counts[k] as number);
			d -= (dStrides[k] as number) * (counts[k] as number);
			idx[k] = 0;
		}
		if (k < 0) return;
	}
}

function cStrides(shape: readonly number[]): number[] {
	return permutedStrides(shape, [...shape.keys()]);
}

/** Chunk I/O of one string array. */
export class StringChunks {
	readonly #ctx: EngineContext;
	#meta: ArrayMeta;
	readonly #codec: ChunkCodec;
	readonly #strides: readonly number[];
	readonly #count: number;

	constructor(ctx: EngineContext, meta: ArrayMeta) {
		if (meta.plan.shard)
			throw new UnsupportedError("sharded string arrays are not supported");
		this.#ctx = ctx;
		this.#meta = meta;
		this.#codec = new ChunkCodec(meta.plan.chunk, MAX_STRING_CHUNK_BYTES, {
			pool: ctx.pool,
			exact: false,
			...(ctx.inlineBytes !== undefined
				? { inlineBytes: ctx.inlineBytes }
				: {}),
			...(ctx.native !== undefined ? { native: ctx.native } : {}),
		});
		this.#strides = permutedStrides(meta.chunkShape, meta.plan.chunk.perm);
		this.#count = prod(meta.chunkShape);
	}

	/** Replaces the metadata (after a resize). */
	setMeta(meta: ArrayMeta): void {
		this.#meta = meta;
	}

	#key(coords: readonly number[]): string {
		return joinKey(this.#ctx.nodeKey, this.#meta.chunkKey(coords));
	}

	async #load(key: string, signal?: AbortSignal): Promise<string[] | null> {
		const enc = await this.#ctx.store.get(key, signal);
		if (!enc) return null;
		return decodeVlenUtf8(await this.#codec.decode(enc), this.#count);
	}

	/** The strings of `region`, C order. */
	async read(region: Region, signal?: AbortSignal): Promise<string[]> {
		const meta = this.#meta;
		const cs = meta.chunkShape;
		const out = new Array<string>(prod(region.shape)).fill(
			meta.fillString ?? "",
		);
		const box = cStrides(region.shape);
		const tasks = [...gridCoords(chunkRanges(region, cs))].map(
			(coords) => async () => {
				const items = await this.#load(this.#key(coords), signal);
				if (!items) return;
				const ov = overlap(region, cs, coords) as Region;
				const origin = coords.map((c, d) => c * (cs[d] as number));
				copyStrided(
					items,
					offsetOf(ov.start, origin, this.#strides),
					this.#strides,
					out,
					offsetOf(ov.start, region.start, box),
					box,
					ov.shape,
				);
			},
		);
		await runLimited(tasks, this.#ctx.concurrency, signal);
		return out;
	}

	/** Writes `values` (C order) into `region`. */
	async write(
		region: Region,
		values: readonly string[],
		signal?: AbortSignal,
	): Promise<void> {
		const meta = this.#meta;
		const cs = meta.chunkShape;
		if (values.length !== prod(region.shape))
			throw new MalformedError(
				`${values.length} strings for a box of ${prod(region.shape)}`,
			);
		const box = cStrides(region.shape);
		const fill = meta.fillString ?? "";
		const tasks = [...gridCoords(chunkRanges(region, cs))].map(
			(coords) => () => {
				const key = this.#key(coords);
				return this.#ctx.locks.with(this.#ctx.store.path(key), async () => {
					const ov = overlap(region, cs, coords) as Region;
					const inb = chunkInBounds(meta.shape, cs, coords) as Region;
					const origin = coords.map((c, d) => c * (cs[d] as number));
					const items =
						(!sameRegion(ov, inb) ? await this.#load(key, signal) : null) ??
						new Array<string>(this.#count).fill(fill);
					copyStrided(
						values,
						offsetOf(ov.start, region.start, box),
						box,
						items,
						offsetOf(ov.start, origin, this.#strides),
						this.#strides,
						ov.shape,
					);
					if (!this.#ctx.writeEmptyChunks && items.every((v) => v === fill)) {
						await this.#ctx.store.delete(key);
						return;
					}
					const enc = await this.#codec.encode(encodeVlenUtf8(items), true);
					signal?.throwIfAborted();
					await this.#ctx.store.set(key, enc);
				});
			},
		);
		await runLimited(tasks, this.#ctx.concurrency, signal);
	}

	/** After a shrink from `oldShape`: drops chunks now outside, resets the cut part of edge chunks. */
	async trimTo(
		oldShape: readonly number[],
		signal?: AbortSignal,
	): Promise<void> {
		const meta = this.#meta;
		const cs = meta.chunkShape;
		const tasks: (() => Promise<void>)[] = [];
		for (const coords of gridCoords(
			chunkRanges({ start: oldShape.map(() => 0), shape: oldShape }, cs),
		)) {
			const cut = coords.some(
				(c, d) =>
					(meta.shape[d] as number) < (oldShape[d] as number) &&
					(c + 1) * (cs[d] as number) > (meta.shape[d] as number),
			);
			if (!cut) continue;
			const inb = chunkInBounds(meta.shape, cs, coords);
			const key = this.#key(coords);
			if (!inb)
				tasks.push(() =>
					this.#ctx.locks.with(this.#ctx.store.path(key), () =>
						this.#ctx.store.delete(key),
					),
				);
			else
				tasks.push(async () =>
					this.write(inb, await this.read(inb, signal), signal),
				);
		}
		await runLimited(tasks, this.#ctx.concurrency, signal);
	}
}
