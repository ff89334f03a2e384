/**
 * Decoders backed by a Node transform stream: zlib and gzip (node:zlib), xz and lzma "alone"
 * (lzma-native, liblzma through N-API, loaded only when such a file is opened).
 *
 * Input is written by hand, a small chunk at a time and only when every output of the
 * previous chunk has been handed out: neither node:zlib nor lzma-native stops inside one
 * input chunk when the reader is slow, so the chunk size times the codec's maximal ratio
 * (~1:1000 for deflate, ~1:7000 for LZMA) bounds the memory a bomb can take before the
 * size guard sees it.
 */
import type { Duplex } from "node:stream";
import { createGunzip, createInflate } from "node:zlib";
import {
	LimitExceededError,
	MalformedError,
	TruncatedError,
} from "@arraystore/core";
import type { ChunkDecoder, FileChunks } from "./input-window.js";

/** The codecs this module decodes. */
export type TransformCodec = "zlib" | "gzip" | "xz" | "lzma";

/** Default cap on liblzma's memory (the dictionary, mostly) for one xz or lzma stream. */
export const DEFAULT_LZMA_MEMORY: number = 256 * 2 ** 20;

const IN_CHUNK: Record<TransformCodec, number> = {
	zlib: 16 * 1024,
	gzip: 16 * 1024,
	xz: 8 * 1024,
	lzma: 8 * 1024,
};

/** What lzma-native exports (the part used here). */
interface LzmaNative {
	createStream(
		kind: "streamDecoder" | "aloneDecoder",
		options: { memlimit: number; synchronous: boolean; flags?: number },
	): Duplex;
	readonly LZMA_CONCATENATED: number;
}

let lzmaNative: Promise<LzmaNative> | undefined;

// A variable specifier keeps the CommonJS package out of type resolution (it ships no types).
const LZMA_NATIVE = "lzma-native";

async function loadLzma(): Promise<LzmaNative> {
	lzmaNative ??= import(LZMA_NATIVE).then(
		(m: { default: LzmaNative }) => m.default,
	);
	return lzmaNative;
}

async function makeTransform(
	codec: TransformCodec,
	lzmaMemory: number,
): Promise<Duplex> {
	switch (codec) {
		case "zlib":
			return createInflate();
		case "gzip":
			return createGunzip();
		case "xz": {
			const lzma = await loadLzma();
			return lzma.createStream("streamDecoder", {
				memlimit: lzmaMemory,
				synchronous: true,
				flags: lzma.LZMA_CONCATENATED,
			});
		}
		case "lzma":
			return (await loadLzma()).createStream("aloneDecoder", {
				memlimit: lzmaMemory,
				synchronous: true,
			});
	}
}

/** Opens a transform-backed decoder over `src`. */
export async function transformDecoder(
	src: FileChunks,
	codec: TransformCodec,
	lzmaMemory: number = DEFAULT_LZMA_MEMORY,
): Promise<ChunkDecoder> {
	let t: Duplex;
	try {
		t = await makeTransform(codec, lzmaMemory);
	} catch (err) {
		src.close();
		throw new MalformedError(`cannot start the ${codec} decoder`, {
			cause: err,
		});
	}
	const queue: Uint8Array[] = [];
	let ended = false;
	let failed: unknown = null;
	let writing = false;
	let inputDone = false;
	let waiter: (() => void) | null = null;
	const wake = () => {
		const w = waiter;
		waiter = null;
		w?.();
	};
	t.on("data", (b: Buffer) => {
		if (b.length > 0) queue.push(b);
		wake();
	});
	t.on("end", () => {
		ended = true;
		wake();
	});
	t.on("error", (err: unknown) => {
		failed ??= err;
		wake();
	});
	t.on("close", wake);
	return {
		async next(): Promise<Uint8Array | null> {
			for (;;) {
				const b = queue.shift();
				if (b !== undefined) return b;
				if (failed !== null) throw translate(failed, codec, inputDone);
				if (ended) return null;
				if (t.destroyed) throw new MalformedError(`${codec} decoder closed`);
				if (!writing && !inputDone) {
					const chunk = await src.read(IN_CHUNK[codec]);
					if (chunk.length === 0) {
						inputDone = true;
						t.end();
					} else {
						writing = true;
						t.write(chunk, () => {
							writing = false;
							wake();
						});
					}
					continue;
				}
				await new Promise<void>((resolve) => {
					waiter = resolve;
				});
			}
		},
		close(): void {
			t.destroy();
			src.close();
		},
	};
}

function translate(err: unknown, codec: TransformCodec, atEnd: boolean): Error {
	const e = err as { code?: unknown; name?: unknown; message?: unknown };
	const code = e?.code;
	const name = typeof e?.name === "string" ? e.name : "";
	const msg = typeof e?.message === "string" ? e.message : String(err);
	// zlib: Z_BUF_ERROR "unexpected end of file"; liblzma: LZMA_BUF_ERROR once the input ended.
	if (code === "Z_BUF_ERROR" || (name === "LZMA_BUF_ERROR" && atEnd))
		return new TruncatedError(`${codec} stream ends early`, { cause: err });
	if (name === "LZMA_MEMLIMIT_ERROR" || name === "LZMA_MEM_ERROR")
		return new LimitExceededError(
			`${codec} stream needs more decoder memory than allowed (${msg})`,
			{ cause: err },
		);
	return new MalformedError(`${codec} stream is corrupt: ${msg}`, {
		cause: err,
	});
}
