/**
 * Turns an {@link ArrayRef} into an `ArrayDriver`: plain C/F file regions through
 * `@arraystore/raw`'s `openRawRegion` (one mapping implementation for the whole project),
 * everything else (bytes in memory, compressed streams, permuted axes) through ref-driver.ts.
 */
import type { ArrayDriver, CodecInfo } from "@arraystore/core";
import { openRawRegion } from "@arraystore/raw";
import type { Codec, StreamLimits } from "./joblib/compressed.js";
import { readStreamRange } from "./joblib/compressed.js";
import type { ArrayRef, DataRef } from "./pickle-vm/values.js";
import { ByteRange, PyBytes } from "./pickle-vm/values.js";
import { type Fetch, refDriver } from "./ref-driver.js";

/** Where an array's bytes can be read from. */
export interface RefSource {
	/** The file on disk. */
	readonly path: string;
	/** Set for compressed files: ranges are offsets in the decompressed stream. */
	readonly codec: Codec | null;
	/** Decoder limits for compressed files. */
	readonly limits?: StreamLimits;
	/** Positional reads of the file. */
	readonly readFile: (offset: number, length: number) => Promise<Uint8Array>;
	readonly adapter: string;
	/** false: positional reads instead of memory maps (bounded resident memory when streaming). */
	readonly mmap?: boolean;
	/** Without mmap: long writes bypass the page cache (raw's `directWrites`). */
	readonly directWrites?: boolean;
}

/** How array regions reach the file: raw's `mmap` and `directWrites`, as `adapterOptions` give them. */
export interface RegionIo {
	readonly mmap?: boolean;
	readonly directWrites?: boolean;
}

/** The region options of `io` that differ from raw's defaults (so raw's own checks see only those). */
export function regionIo(io: RegionIo | undefined): RegionIo {
	return {
		...(io?.mmap === false ? { mmap: false } : {}),
		...(io?.directWrites === true ? { directWrites: true } : {}),
	};
}

/** Largest compressed-stream array kept decompressed in memory after its first read. */
const STREAM_CACHE_BYTES = 64 * 1024 * 1024;

/** Opens `ref` read-only (mode "r") or in place ("r+", file regions only). */
export async function openRef(
	ref: ArrayRef,
	src: RefSource,
	mode: "r" | "r+",
	signal?: AbortSignal,
): Promise<ArrayDriver> {
	const data = ref.data;
	const order = ref.order;
	if (
		data instanceof ByteRange &&
		data.space === "file" &&
		order !== null &&
		ref.dtype.itemsize > 0
	) {
		return openRawRegion(
			src.path,
			{
				mode,
				dtype: ref.dtype,
				shape: ref.shape,
				order,
				offset: data.offset,
				...regionIo(src),
				...(signal ? { signal } : {}),
			},
			{ adapter: src.adapter },
		);
	}
	const codecs: CodecInfo[] =
		data.space === "stream" && src.codec !== null ? [{ name: src.codec }] : [];
	return refDriver({
		dtype: ref.dtype,
		storedShape: ref.storedShape,
		perm: ref.perm,
		byteOffset: data.offset,
		codecs,
		fetch: fetcher(data, src),
	});
}

/** Reads all bytes behind a data reference. */
export function readDataRef(
	data: DataRef,
	src: RefSource,
): Promise<Uint8Array> {
	const n = data instanceof PyBytes ? data.bytes.length : data.length;
	return fetcher(data, src)(0, n);
}

function fetcher(data: DataRef, src: RefSource): Fetch {
	if (data instanceof PyBytes)
		return async (off, len) => data.bytes.subarray(off, off + len);
	if (data.space === "file")
		return (off, len) => src.readFile(data.offset + off, len);
	const codec = src.codec;
	if (codec === null) throw new Error("internal: stream range without a codec");
	let cache: Promise<Uint8Array> | undefined;
	return async (off, len, signal) => {
		if (data.length <= STREAM_CACHE_BYTES) {
			if (cache === undefined) {
				const p = readStreamRange(
					src.path,
					codec,
					data.offset,
					data.length,
					signal,
					src.limits,
				);
				cache = p;
				p.catch(() => {
					if (cache === p) cache = undefined;
				});
			}
			return (await cache).subarray(off, off + len);
		}
		return readStreamRange(
			src.path,
			codec,
			data.offset + off,
			len,
			signal,
			src.limits,
		);
	};
}
