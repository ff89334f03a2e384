/**
 * Byte-moving helpers of the npz writer: CRC-32 of a file range, and deflating a finished
 * temporary `.npy` into the archive, both streamed in bounded chunks.
 */
import type { FileHandle } from "node:fs/promises";
import { rm, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { crc32, createDeflateRaw } from "node:zlib";
import {
	type DriverCreateOptions,
	encodeElement,
	shapeSize,
	TruncatedError,
} from "@arraystore/core";
import { fillRange, openFile, writeAt } from "../file-bytes.js";
import { formatNpyHeader } from "../header-write.js";
import type { InflateCursor } from "../zip/inflate-cursor.js";
import { METHOD_DEFLATED, METHOD_STORED } from "../zip/zip-read.js";
import {
	centralRecord,
	endRecords,
	localHeader,
	localHeaderLength,
	type ZipMemberRecord,
} from "../zip/zip-write.js";

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
	const src = await openFile(source, "r", { target: source, adapter: "npz" });
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

/** Inflates a whole deflated member into a new file at `path` (removed again on failure). */
export async function inflateToFile(
	cursor: InflateCursor,
	path: string,
	signal?: AbortSignal,
): Promise<void> {
	const out = await openFile(path, "wx", { target: path, adapter: "npz" });
	try {
		const buf = new Uint8Array(Math.min(CHUNK, Math.max(1, cursor.size)));
		for (let at = 0; at < cursor.size; at += buf.length) {
			const n = Math.min(buf.length, cursor.size - at);
			await cursor.read(
				[{ position: at, length: n, outOffset: 0 }],
				buf,
				signal,
			);
			await writeAt(out, buf.subarray(0, n), at);
		}
		await out.close();
	} catch (err) {
		await out.close().catch(() => undefined);
		await rm(path, { force: true });
		throw err;
	}
}

/** Writes the central directory and end records at `position` and cuts the file there. */
export async function writeCentralDirectory(
	fh: FileHandle,
	records: readonly ZipMemberRecord[],
	position: number,
	force64: boolean,
): Promise<void> {
	const parts = records.map((r) => centralRecord(r, force64));
	const cdSize = parts.reduce((n, p) => n + p.length, 0);
	parts.push(endRecords(records.length, position, cdSize, force64));
	let at = position;
	for (const p of parts) {
		await writeAt(fh, p, at);
		at += p.length;
	}
	await fh.truncate(at);
}

/** Identity of a new member; the writers fill in method, sizes, CRC and zip64 use. */
export type MemberIdentity = Pick<
	ZipMemberRecord,
	"name" | "rawName" | "flags" | "dosTime" | "dosDate" | "localHeaderOffset"
>;

/**
 * Writes a stored member at `identity.localHeaderOffset`: local header, numpy's npy header and a
 * zero (or `fillValue`) data region. The file is cut first, so what followed (an old central
 * directory, rewritten at close) cannot show through as data. The CRC is computed later.
 */
export async function writeStoredMember(
	fh: FileHandle,
	identity: MemberIdentity,
	spec: Pick<
		DriverCreateOptions,
		"dtype" | "shape" | "order" | "fillValue" | "signal"
	>,
	force64: boolean,
): Promise<{
	record: ZipMemberRecord;
	dataOffset: number;
	npyHeaderLength: number;
}> {
	const header = formatNpyHeader({
		dtype: spec.dtype,
		shape: spec.shape,
		fortranOrder: spec.order === "F",
	});
	const nbytes = shapeSize(spec.shape) * spec.dtype.itemsize;
	const size = header.length + nbytes;
	const record: ZipMemberRecord = {
		...identity,
		method: METHOD_STORED,
		crc32: 0,
		compressedSize: size,
		uncompressedSize: size,
		localZip64: force64 || size >= 0xffffffff,
	};
	const lh = localHeader(record);
	const at = identity.localHeaderOffset;
	const dataOffset = at + lh.length;
	await fh.truncate(at);
	await writeAt(fh, lh, at);
	await writeAt(fh, header, dataOffset);
	await fh.truncate(dataOffset + size);
	if (spec.fillValue !== undefined)
		await fillRange(
			fh,
			dataOffset + header.length,
			nbytes,
			encodeElement(spec.dtype, spec.fillValue),
			spec.signal,
		);
	return { record, dataOffset, npyHeaderLength: header.length };
}

/** Deflates the finished temporary `.npy` at `temp` into the archive at `at`. */
export async function deflateMember(
	fh: FileHandle,
	base: ZipMemberRecord,
	at: number,
	temp: string,
	force64: boolean,
): Promise<{ record: ZipMemberRecord; dataOffset: number }> {
	const tempSize = (await stat(temp)).size;
	// Room for zip64 sizes when the member might not fit 32 bits (deflate can expand a little).
	const localZip64 = force64 || tempSize >= 0xf0000000;
	const headerLen = localHeaderLength(base.rawName, localZip64);
	await fh.truncate(at);
	const { crc32, uncompressedSize, compressedSize } = await deflateFileInto(
		temp,
		fh,
		at + headerLen,
	);
	const record: ZipMemberRecord = {
		...base,
		method: METHOD_DEFLATED,
		crc32,
		uncompressedSize,
		compressedSize,
		localHeaderOffset: at,
		localZip64,
	};
	await writeAt(fh, localHeader(record), at);
	return { record, dataOffset: at + headerLen };
}
