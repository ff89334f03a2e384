/**
 * Compressed joblib files (formats.md §6.7): the whole pickle stream, raw array bytes included,
 * is one compressed stream. zlib and gzip decompress through node:zlib, streaming with bounded
 * memory; positions are offsets in the decompressed stream. A total limit guards against
 * decompression bombs.
 */
import { createReadStream } from "node:fs";
import { createGunzip, createInflate } from "node:zlib";
import {
	LimitExceededError,
	MalformedError,
	TruncatedError,
	UnsupportedCodecError,
	UnsupportedError,
} from "@arraystore/core";
import type { ByteInput } from "../pickle-vm/byte-reader.js";

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

/** A sequential input over the decompressed stream; `close()` releases the file. */
export interface StreamInput extends ByteInput {
	close(): void;
}

/**
 * Opens `path` as a decompressed stream.
 * @throws {UnsupportedCodecError} bz2, xz, lzma and lz4 (no dependency chosen yet).
 */
export function streamInput(
	path: string,
	codec: Codec,
	maxBytes: number = DEFAULT_MAX_DECOMPRESSED_BYTES,
): StreamInput {
	if (codec !== "zlib" && codec !== "gzip") {
		throw new UnsupportedCodecError(
			`${codec}-compressed joblib files are not supported yet (zlib and gzip are)`,
			{ codec, direction: "decode" },
		);
	}
	const file = createReadStream(path, { highWaterMark: 1 << 20 });
	const z = codec === "zlib" ? createInflate() : createGunzip();
	file.on("error", (err) => z.destroy(err));
	file.pipe(z);
	const it = z[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
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
			while (pending.length === 0 && !done) {
				let r: IteratorResult<Buffer>;
				try {
					r = await it.next();
				} catch (err) {
					throw translate(err, codec);
				}
				if (r.done) {
					done = true;
					break;
				}
				produced += r.value.length;
				if (produced > maxBytes)
					throw new LimitExceededError(
						`${codec} stream decompresses to more than ${maxBytes} bytes`,
					);
				pending = new Uint8Array(
					r.value.buffer,
					r.value.byteOffset,
					r.value.length,
				);
			}
			const out = pending.subarray(0, Math.min(len, pending.length));
			pending = pending.subarray(out.length);
			return out;
		},
		close() {
			file.destroy();
			z.destroy();
		},
	};
}

function translate(err: unknown, codec: Codec): Error {
	const code = (err as { code?: unknown } | null)?.code;
	if (code === "Z_BUF_ERROR")
		return new TruncatedError(`${codec} stream ends early`, { cause: err });
	if (code === "ENOENT" || code === "EACCES")
		return new MalformedError(`${codec} stream unreadable`, { cause: err });
	return new MalformedError(
		`${codec} stream is corrupt: ${(err as Error)?.message ?? String(err)}`,
		{ cause: err },
	);
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
): Promise<Uint8Array> {
	const input = streamInput(path, codec);
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
