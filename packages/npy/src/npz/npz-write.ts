/**
 * Byte-moving helpers of the npz writer: CRC-32 of a file range, and deflating a finished
 * temporary `.npy` into the archive, both streamed in bounded chunks.
 */
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { crc32, createDeflateRaw } from "node:zlib";
import { fromNodeError, TruncatedError } from "@arraystore/core";

const CHUNK = 1024 * 1024;

/** CRC-32 of `length` bytes at `position`. */
export async function crc32OfRange(
	fh: FileHandle,
	position: number,
	length: number,
	signal?: AbortSignal,
): Promise<number> {
	const buf = new Uint8Array(Math.min(CHUNK, Math.max(1, length)));
	let crc = 0;
	for (let at = 0; at < length; ) {
		signal?.throwIfAborted();
		const { bytesRead } = await fh.read(
			buf,
			0,
			Math.min(buf.length, length - at),
			position + at,
		);
		if (bytesRead === 0)
			throw new TruncatedError(
				`file ends at ${position + at} while checksumming a member`,
			);
		crc = crc32(buf.subarray(0, bytesRead), crc);
		at += bytesRead;
	}
	return crc >>> 0;
}

/** Writes all of `bytes` at `position`. */
export async function writeAt(
	fh: FileHandle,
	bytes: Uint8Array,
	position: number,
): Promise<void> {
	for (let done = 0; done < bytes.length; ) {
		const { bytesWritten } = await fh.write(
			bytes,
			done,
			bytes.length - done,
			position + done,
		);
		done += bytesWritten;
	}
}

/**
 * Deflates the file at `source` into `fh` at `position` (zlib level 6, numpy's
 * `savez_compressed`). Returns the CRC-32 and sizes.
 */
export async function deflateFileInto(
	source: string,
	fh: FileHandle,
	position: number,
	signal?: AbortSignal,
): Promise<{
	crc32: number;
	uncompressedSize: number;
	compressedSize: number;
}> {
	let src: FileHandle;
	try {
		src = await open(source, "r");
	} catch (err) {
		throw fromNodeError(err, { target: source, adapter: "npz" });
	}
	let crc = 0;
	let uncompressedSize = 0;
	let compressedSize = 0;
	try {
		async function* chunks(): AsyncGenerator<Uint8Array> {
			for (;;) {
				signal?.throwIfAborted();
				const buf = new Uint8Array(CHUNK);
				const { bytesRead } = await src.read(buf, 0, CHUNK, uncompressedSize);
				if (bytesRead === 0) return;
				const part = buf.subarray(0, bytesRead);
				crc = crc32(part, crc);
				uncompressedSize += bytesRead;
				yield part;
			}
		}
		await pipeline(
			Readable.from(chunks(), { objectMode: false }),
			createDeflateRaw({ level: 6 }),
			async (deflated: AsyncIterable<Buffer>) => {
				for await (const out of deflated) {
					await writeAt(fh, out, position + compressedSize);
					compressedSize += out.length;
				}
			},
		);
	} finally {
		await src.close().catch(() => undefined);
	}
	return { crc32: crc >>> 0, uncompressedSize, compressedSize };
}
