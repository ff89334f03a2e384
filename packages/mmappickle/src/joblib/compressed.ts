/**
 * Compressed joblib files (formats.md §6.7): the whole pickle stream, raw array bytes included,
 * is one compressed stream, decoded with bounded memory: zlib and gzip through node:zlib, xz and
 * lzma "alone" through lzma-native (transform-decoder.ts), bz2 and lz4 frames by decoders of
 * our own (bzip2.ts, lz4-frame.ts). Positions are offsets in the decompressed stream. A total
 * limit guards against decompression bombs. Each decoder loads at the first read.
 */
import {
	LimitExceededError,
	MalformedError,
	TruncatedError,
	UnsupportedError,
} from "@arraystore/core";
import type { ByteInput } from "../pickle-vm/byte-reader.js";
import { type ChunkDecoder, FileChunks, InputWindow } from "./input-window.js";

/** Compression of a joblib file, from its first bytes. */
export type Codec = "zlib" | "gzip" | "bz2" | "xz" | "lzma" | "lz4";

/** Default cap on the decompressed size of one file (bomb guard). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES: number = 64 * 2 ** 30;

/**
 * The codec of a joblib file, or null for an uncompressed pickle stream.
 * @throws {UnsupportedError} joblib < 0.9.3 `ZF` files (a multi-file legacy format).
 */
export function detectCodec(head: Uint8Array): Codec | null {
	const b = (i: number) => head[i];
	if (b(0) === 0x78) return "zlib";
	if (b(0) === 0x1f && b(1) === 0x8b) return "gzip";
	if (b(0) === 0x42 && b(1) === 0x5a && b(2) === 0x68) return "bz2";
	if (
		b(0) === 0xfd &&
		b(1) === 0x37 &&
		b(2) === 0x7a &&
		b(3) === 0x58 &&
		b(4) === 0x5a
	)
		return "xz";
	if (b(0) === 0x5d && b(1) === 0x00) return "lzma";
	if (b(0) === 0x04 && b(1) === 0x22 && b(2) === 0x4d && b(3) === 0x18)
		return "lz4";
	if (b(0) === 0x5a && b(1) === 0x46)
		throw new UnsupportedError(
			"joblib < 0.9.3 'ZF' files keep arrays in companion files; not supported",
		);
	return null;
}

/** Bounds on decoding one compressed stream. */
export interface StreamLimits {
	/** Bomb guard: most decompressed bytes (default {@link DEFAULT_MAX_DECOMPRESSED_BYTES}). */
	readonly maxBytes?: number;
	/** Most memory liblzma may take for an xz or lzma stream (default 256 MiB). */
	readonly lzmaMemory?: number;
}

/** A sequential input over the decompressed stream; `close()` releases the file. */
export interface StreamInput extends ByteInput {
	/**
	 * Decodes the rest of the stream, discarding it, so trailing checks (zlib's Adler-32,
	 * gzip's CRC, bz2's stream CRC, xz's check and index, LZ4's content checksum) are verified.
	 */
	drain(): Promise<void>;
	close(): void;
}

async function openDecoder(
	path: string,
	codec: Codec,
	limits: StreamLimits,
): Promise<ChunkDecoder> {
	const src = await FileChunks.open(path);
	switch (codec) {
		case "bz2": {
			const { Bzip2Decoder, MAX_BLOCK_INPUT } = await import("./bzip2.js");
			return new Bzip2Decoder(new InputWindow(src, MAX_BLOCK_INPUT));
		}
		case "lz4": {
			const { Lz4FrameDecoder } = await import("./lz4-frame.js");
			// A block (≤ 4 MiB), its checksum and the next header.
			return new Lz4FrameDecoder(new InputWindow(src, (4 << 20) + 64));
		}
		default: {
			const { transformDecoder } = await import("./transform-decoder.js");
			return transformDecoder(src, codec, limits.lzmaMemory);
		}
	}
}

/**
 * Opens `path` as a decompressed stream (the file is opened at the first read).
 * @throws {TruncatedError | MalformedError | LimitExceededError} from `read`.
 */
export function streamInput(
	path: string,
	codec: Codec,
	limits: StreamLimits = {},
): StreamInput {
	const maxBytes = limits.maxBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
	let decoder: Promise<ChunkDecoder> | undefined;
	let closed = false;
	let produced = 0;
	let pending: Uint8Array = new Uint8Array(0);
	let done = false;
	return {
		space: "stream",
		end: null,
		seekable: false,
		async read(pos: number, len: number): Promise<Uint8Array> {
			if (pos !== produced - pending.length)
				throw new MalformedError(
					`internal: out-of-order stream read at ${pos}`,
				);
			if (closed) throw new MalformedError(`${codec} stream already closed`);
			decoder ??= openDecoder(path, codec, limits);
			const d = await decoder;
			while (pending.length === 0 && !done) {
				const chunk = await d.next();
				if (chunk === null) {
					done = true;
					break;
				}
				produced += chunk.length;
				if (produced > maxBytes)
					throw new LimitExceededError(
						`${codec} stream decompresses to more than ${maxBytes} bytes`,
					);
				pending = chunk;
			}
			const out = pending.subarray(0, Math.min(len, pending.length));
			pending = pending.subarray(out.length);
			return out;
		},
		async drain(): Promise<void> {
			for (;;) {
				const pos = produced - pending.length;
				if ((await this.read(pos, 1 << 30)).length === 0) return;
			}
		},
		close() {
			closed = true;
			decoder?.then(
				(d) => d.close(),
				() => {},
			);
		},
	};
}

/**
 * Reads `[offset, offset + length)` of the decompressed stream by decompressing again from the
 * start (memory stays bounded by `length`).
 */
export async function readStreamRange(
	path: string,
	codec: Codec,
	offset: number,
	length: number,
	signal?: AbortSignal,
	limits: StreamLimits = {},
): Promise<Uint8Array> {
	const input = streamInput(path, codec, limits);
	try {
		let pos = 0;
		while (pos < offset) {
			signal?.throwIfAborted();
			const chunk = await input.read(pos, Math.min(offset - pos, 1 << 22));
			if (chunk.length === 0)
				throw new TruncatedError(`${codec} stream ends before ${offset}`);
			pos += chunk.length;
		}
		const out = new Uint8Array(length);
		let got = 0;
		while (got < length) {
			const chunk = await input.read(pos, length - got);
			if (chunk.length === 0)
				throw new TruncatedError(
					`${codec} stream ends before ${offset + length}`,
				);
			out.set(chunk, got);
			got += chunk.length;
			pos += chunk.length;
		}
		return out;
	} finally {
		input.close();
	}
}
