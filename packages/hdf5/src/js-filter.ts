/**
 * Deflate (+ shuffle) for HDF5 writes, run by Node's native zlib instead of the zlib compiled
 * into h5wasm: an HDF5 filter whose code is JavaScript. The side module of h5z-plugin.ts
 * registers filter {@link JS_FILTER_ID} with HDF5 and forwards each call here. Its chunks are
 * exactly what HDF5's shuffle + deflate pipeline stores, so once a dataset is written its
 * pipeline message is rewritten to the standard one (transient-pipeline.ts) and every HDF5
 * reader sees an ordinary gzip (+ shuffle) dataset.
 *
 * HDF5 calls filters synchronously, one chunk at a time. To use more than one core, writers
 * encode whole chunks ahead of the HDF5 call in the libuv thread pool (chunk-encoder.ts) and
 * leave them in {@link encodedChunks}; the filter takes an entry whose raw bytes equal the
 * chunk HDF5 hands over (compared in full), and encodes on the spot otherwise (partial and edge
 * chunks, chunks rewritten after a read-modify-write).
 */
import { deflateSync, inflateSync } from "node:zlib";
import type { H5Api } from "./module.js";
import { shuffle, unshuffle } from "./shuffle.js";

/** HDF5 filter id of the JavaScript deflate (from the range HDF5 leaves for testing). */
export const JS_FILTER_ID = 511;
/** Its name in HDF5 messages. */
export const JS_FILTER_NAME = "arraystore deflate";
/** Parameters: level and shuffle element size (0 = none); the rest pads the message. */
export const JS_FILTER_CD_COUNT = 10;
/** Largest chunk the filter decodes (a guard against corrupt or hostile data). */
export const JS_FILTER_MAX_CHUNK: number = 256 * 1024 * 1024;

const H5Z_FLAG_REVERSE = 0x0100;
const H5Z_CLASS_T_VERS = 1;

const stats = { taken: 0, encoded: 0, decoded: 0, failed: 0 };

/** Chunks the filter took ready-made, encoded itself, decoded, and calls that failed. */
export function jsFilterStats(): {
	readonly taken: number;
	readonly encoded: number;
	readonly decoded: number;
	readonly failed: number;
} {
	return { ...stats };
}

/** Deflates `raw` as HDF5's shuffle (element `size`, 0 = none) + deflate pipeline would. */
export function encodeChunk(
	raw: Uint8Array,
	level: number,
	size: number,
): Uint8Array {
	return deflateSync(size > 1 ? shuffle(raw, size) : raw, { level });
}

/** Reverses {@link encodeChunk}. */
export function decodeChunk(stored: Uint8Array, size: number): Uint8Array {
	const raw = inflateSync(stored, { maxOutputLength: JS_FILTER_MAX_CHUNK });
	return size > 1 ? unshuffle(raw, size) : raw;
}

// A cheap key of a chunk's content; entries are compared in full before use.
function fingerprint(b: Uint8Array): number {
	let h = 0x811c9dc5 ^ b.length;
	const step = Math.max(1, Math.floor(b.length / 61));
	for (let i = 0; i < b.length; i += step) {
		h ^= b[i] as number;
		h = Math.imul(h, 0x01000193);
	}
	h ^= b[b.length - 1] ?? 0;
	return Math.imul(h, 0x01000193) >>> 0;
}

interface Entry {
	readonly key: string;
	readonly raw: Uint8Array;
	readonly encoded: Uint8Array;
}

/**
 * Chunks encoded ahead of HDF5, by content. Bounded: the oldest entries go first once they
 * hold more than {@link EncodedChunks.CAP} raw bytes (HDF5 then encodes those chunks itself).
 */
export class EncodedChunks {
	static readonly CAP: number = 96 * 1024 * 1024;
	readonly #byKey = new Map<string, Entry[]>();
	readonly #order = new Set<Entry>();
	#bytes = 0;

	/** Raw bytes held. */
	get bytes(): number {
		return this.#bytes;
	}

	put(raw: Uint8Array, level: number, size: number, encoded: Uint8Array): void {
		const key = `${level}/${size}/${raw.length}/${fingerprint(raw)}`;
		const e: Entry = { key, raw, encoded };
		const list = this.#byKey.get(key);
		if (list) list.push(e);
		else this.#byKey.set(key, [e]);
		this.#order.add(e);
		this.#bytes += raw.length;
		for (const old of this.#order) {
			if (this.#bytes <= EncodedChunks.CAP) break;
			this.#remove(old);
		}
	}

	/** The encoding of a chunk equal to `raw`, removed from the cache; undefined if none. */
	take(raw: Uint8Array, level: number, size: number): Uint8Array | undefined {
		const list = this.#byKey.get(
			`${level}/${size}/${raw.length}/${fingerprint(raw)}`,
		);
		if (!list) return undefined;
		const probe = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
		const e = list.find((x) => probe.equals(x.raw));
		if (!e) return undefined;
		this.#remove(e);
		return e.encoded;
	}

	clear(): void {
		this.#byKey.clear();
		this.#order.clear();
		this.#bytes = 0;
	}

	#remove(e: Entry): void {
		this.#order.delete(e);
		this.#bytes -= e.raw.length;
		const list = this.#byKey.get(e.key);
		if (!list) return;
		const i = list.indexOf(e);
		if (i >= 0) list.splice(i, 1);
		if (list.length === 0) this.#byKey.delete(e.key);
	}
}

/** The process-wide cache the filter takes encoded chunks from. */
export const encodedChunks: EncodedChunks = new EncodedChunks();

/** The two JavaScript functions the side module imports, bound to the module `api`. */
export function filterImports(api: H5Api): {
	arraystore_h5z_info: (tableIndex: number) => number;
	arraystore_h5z_filter: (
		flags: number,
		cdCount: number,
		cdPtr: number,
		nbytes: number,
		bufSizePtr: number,
		bufPtrPtr: number,
	) => number;
} {
	let info = 0;
	return {
		// H5Z_class2_t {version, id, encoder_present, decoder_present, name, can_apply,
		// set_local, filter}: eight 32-bit fields, then the name. Built once.
		arraystore_h5z_info(tableIndex: number): number {
			if (info !== 0) return info;
			const nameBytes = new TextEncoder().encode(`${JS_FILTER_NAME}\0`);
			const p = api._malloc(32 + nameBytes.length);
			if (p === 0) return 0;
			const dv = new DataView(api.HEAPU8.buffer);
			const fields = [
				H5Z_CLASS_T_VERS,
				JS_FILTER_ID,
				1,
				1,
				p + 32,
				0,
				0,
				tableIndex,
			];
			for (const [i, v] of fields.entries()) dv.setUint32(p + 4 * i, v, true);
			api.HEAPU8.set(nameBytes, p + 32);
			info = p;
			return p;
		},
		arraystore_h5z_filter(
			flags,
			cdCount,
			cdPtr,
			nbytes,
			bufSizePtr,
			bufPtrPtr,
		) {
			// Nothing may be thrown through HDF5's frames: failures return 0 ("filter failed").
			try {
				if (cdCount < 2) throw new Error("missing filter parameters");
				let dv = new DataView(api.HEAPU8.buffer);
				const level = dv.getUint32(cdPtr, true);
				const size = dv.getUint32(cdPtr + 4, true);
				const buf = dv.getUint32(bufPtrPtr, true);
				const input = api.HEAPU8.subarray(buf, buf + nbytes);
				let out: Uint8Array;
				if (flags & H5Z_FLAG_REVERSE) {
					out = decodeChunk(input, size);
					stats.decoded++;
				} else {
					const ready = encodedChunks.take(input, level, size);
					if (ready) stats.taken++;
					else stats.encoded++;
					out = ready ?? encodeChunk(input, level, size);
				}
				if (out.length <= dv.getUint32(bufSizePtr, true)) {
					api.HEAPU8.set(out, buf);
					return out.length;
				}
				const p = api._H5allocate_memory(out.length, 0);
				if (p === 0) throw new Error("out of wasm memory");
				api.HEAPU8.set(out, p);
				api._H5free_memory(buf);
				dv = new DataView(api.HEAPU8.buffer);
				dv.setUint32(bufPtrPtr, p, true);
				dv.setUint32(bufSizePtr, out.length, true);
				return out.length;
			} catch {
				stats.failed++;
				return 0;
			}
		},
	};
}
