/**
 * Reading the structure of a zip archive (PKWARE APPNOTE 6.3): the end-of-central-directory
 * record, its zip64 counterpart, the central directory and each member's local header. Every
 * offset, size and count is checked against the file and the enclosing record before it is
 * used, and nothing is sized from a field alone.
 */
import type { FileHandle } from "node:fs/promises";
import {
	LimitExceededError,
	MalformedError,
	TruncatedError,
	UnsupportedCodecError,
	UnsupportedError,
} from "@arraystore/core";
import { readFully } from "../file-bytes.js";
import { decodeCp437 } from "./cp437.js";

/** Compression methods we read and write. */
export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_EOCD = 0x06054b50;
export const SIG_ZIP64_EOCD = 0x06064b50;
export const SIG_ZIP64_LOCATOR = 0x07064b50;
/** General-purpose flag: names and comments are UTF-8. */
export const FLAG_UTF8 = 0x0800;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_STRONG_ENCRYPTION = 0x0040;

/** Default cap on the central directory we read into memory. */
export const DEFAULT_MAX_DIRECTORY_BYTES: number = 64 * 1024 * 1024;

/** One member, from its central-directory record. */
export interface ZipEntry {
	readonly name: string;
	/** The name's bytes as stored (compared with the local header's). */
	readonly rawName: Uint8Array;
	readonly flags: number;
	readonly method: number;
	readonly crc32: number;
	readonly compressedSize: number;
	readonly uncompressedSize: number;
	readonly localHeaderOffset: number;
	/** DOS time and date, kept when the directory is rewritten. */
	readonly dosTime: number;
	readonly dosDate: number;
}

/** The parsed directory. */
export interface ZipDirectory {
	readonly entries: readonly ZipEntry[];
	/** Where the central directory starts (members end at or before it). */
	readonly directoryOffset: number;
	readonly fileSize: number;
}

/**
 * Reads and checks the central directory of the zip at `fh`.
 * @throws {MalformedError} no end record, inconsistent offsets, bad signatures, duplicate names.
 * @throws {UnsupportedError} multi-disk archives, encrypted members.
 * @throws {LimitExceededError} a directory larger than `maxDirectoryBytes`.
 */
export async function readZipDirectory(
	fh: FileHandle,
	options: { readonly maxDirectoryBytes?: number } = {},
): Promise<ZipDirectory> {
	const fileSize = (await fh.stat()).size;
	const tailLen = Math.min(fileSize, 22 + 0xffff);
	const tail = await readAt(fh, fileSize - tailLen, tailLen);
	const tv = view(tail);
	let eocd = -1;
	for (let i = tail.length - 22; i >= 0; i--) {
		if (
			tv.getUint32(i, true) === SIG_EOCD &&
			i + 22 + tv.getUint16(i + 20, true) <= tail.length
		) {
			eocd = i;
			break;
		}
	}
	if (eocd < 0)
		throw new MalformedError(
			"not a zip archive: no end-of-central-directory record",
		);
	const eocdPos = fileSize - tailLen + eocd;
	let disk = tv.getUint16(eocd + 4, true);
	let cdDisk = tv.getUint16(eocd + 6, true);
	let diskEntries = tv.getUint16(eocd + 8, true);
	let count = tv.getUint16(eocd + 10, true);
	let cdSize = tv.getUint32(eocd + 12, true);
	let cdOffset = tv.getUint32(eocd + 16, true);
	let cdEnd = eocdPos;
	// A zip64 locator sits right before the end record whenever zip64 is in use.
	if (eocdPos >= 20) {
		const locPos = eocdPos - 20;
		const loc = await readAt(fh, locPos, 20);
		if (view(loc).getUint32(0, true) === SIG_ZIP64_LOCATOR) {
			const lv = view(loc);
			const z64Pos = getU64(lv, 8);
			if (lv.getUint32(16, true) > 1 || lv.getUint32(4, true) !== 0)
				throw new UnsupportedError("multi-disk zip archives are not supported");
			if (z64Pos + 56 > locPos)
				throw new MalformedError("zip64 end record points past its locator");
			const z = view(await readAt(fh, z64Pos, 56));
			if (z.getUint32(0, true) !== SIG_ZIP64_EOCD)
				throw new MalformedError("zip64 end record has a bad signature");
			disk = z.getUint32(16, true);
			cdDisk = z.getUint32(20, true);
			diskEntries = getU64(z, 24);
			count = getU64(z, 32);
			cdSize = getU64(z, 40);
			cdOffset = getU64(z, 48);
			cdEnd = z64Pos;
		}
	}
	if (disk !== 0 || cdDisk !== 0 || diskEntries !== count)
		throw new UnsupportedError("multi-disk zip archives are not supported");
	if (cdOffset + cdSize > cdEnd)
		throw new MalformedError(
			`central directory [${cdOffset}, +${cdSize}) overlaps its end record at ${cdEnd}`,
		);
	if (count * 46 > cdSize)
		throw new MalformedError(
			`central directory of ${cdSize} bytes cannot hold ${count} entries`,
		);
	const max = options.maxDirectoryBytes ?? DEFAULT_MAX_DIRECTORY_BYTES;
	if (cdSize > max)
		throw new LimitExceededError(
			`zip central directory of ${cdSize} bytes exceeds maxDirectoryBytes (${max})`,
		);
	const cd = await readAt(fh, cdOffset, cdSize);
	const entries = parseCentralDirectory(cd, count, cdOffset);
	return { entries, directoryOffset: cdOffset, fileSize };
}

/**
 * Reads a member's local header and returns where its data starts, checking that the data lies
 * before the central directory.
 */
export async function memberDataOffset(
	fh: FileHandle,
	entry: ZipEntry,
	directoryOffset: number,
): Promise<number> {
	const at = entry.localHeaderOffset;
	if (at + 30 > directoryOffset)
		throw new MalformedError(
			`member ${entry.name}: local header at ${at} is past the central directory`,
		);
	const head = view(await readAt(fh, at, 30));
	if (head.getUint32(0, true) !== SIG_LOCAL)
		throw new MalformedError(
			`member ${entry.name}: bad local header signature`,
		);
	const nameLen = head.getUint16(26, true);
	const extraLen = head.getUint16(28, true);
	const dataOffset = at + 30 + nameLen + extraLen;
	if (dataOffset + entry.compressedSize > directoryOffset) {
		throw new MalformedError(
			`member ${entry.name}: data [${dataOffset}, +${entry.compressedSize}) runs into the central directory`,
		);
	}
	const name = await readAt(fh, at + 30, nameLen);
	if (
		name.length !== entry.rawName.length ||
		name.some((b, i) => b !== entry.rawName[i])
	) {
		throw new MalformedError(
			`member ${entry.name}: the local header names another file`,
		);
	}
	return dataOffset;
}

/** Refuses members we cannot read: encrypted, or compressed with another method. */
export function checkReadable(entry: ZipEntry): void {
	if ((entry.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) !== 0)
		throw new UnsupportedError(`member ${entry.name} is encrypted`);
	if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATED) {
		throw new UnsupportedCodecError(
			`member ${entry.name} uses zip compression method ${entry.method}; only stored and deflated are supported`,
			{
				codec: `zip-method-${entry.method}`,
				direction: "decode",
			},
		);
	}
	if (
		entry.method === METHOD_STORED &&
		entry.compressedSize !== entry.uncompressedSize
	) {
		throw new MalformedError(
			`stored member ${entry.name} has compressed size ${entry.compressedSize} ≠ size ${entry.uncompressedSize}`,
		);
	}
}

// --- internal ---

function parseCentralDirectory(
	cd: Uint8Array,
	count: number,
	cdOffset: number,
): ZipEntry[] {
	const v = view(cd);
	const entries: ZipEntry[] = [];
	const names = new Set<string>();
	let p = 0;
	for (let i = 0; i < count; i++) {
		if (p + 46 > cd.length)
			throw new TruncatedError("central directory ends inside a record");
		if (v.getUint32(p, true) !== SIG_CENTRAL)
			throw new MalformedError(
				`central directory record ${i} has a bad signature`,
			);
		const flags = v.getUint16(p + 8, true);
		const method = v.getUint16(p + 10, true);
		const dosTime = v.getUint16(p + 12, true);
		const dosDate = v.getUint16(p + 14, true);
		const crc32 = v.getUint32(p + 16, true);
		let compressedSize = v.getUint32(p + 20, true);
		let uncompressedSize = v.getUint32(p + 24, true);
		const nameLen = v.getUint16(p + 28, true);
		const extraLen = v.getUint16(p + 30, true);
		const commentLen = v.getUint16(p + 32, true);
		const diskStart = v.getUint16(p + 34, true);
		let localHeaderOffset = v.getUint32(p + 42, true);
		const end = p + 46 + nameLen + extraLen + commentLen;
		if (end > cd.length)
			throw new TruncatedError(
				`central directory record ${i} runs past the directory`,
			);
		const rawName = cd.slice(p + 46, p + 46 + nameLen);
		// zip64 extra (id 1) holds, in order, exactly the fields saturated in the record.
		let e = p + 46 + nameLen;
		const extraEnd = e + extraLen;
		while (e + 4 <= extraEnd) {
			const id = v.getUint16(e, true);
			const size = v.getUint16(e + 2, true);
			if (e + 4 + size > extraEnd)
				throw new MalformedError(
					`central directory record ${i}: extra field runs past its record`,
				);
			if (id === 0x0001) {
				let q = e + 4;
				const take = (): number => {
					if (q + 8 > e + 4 + size)
						throw new MalformedError(
							`central directory record ${i}: zip64 extra field too short`,
						);
					const x = getU64(v, q);
					q += 8;
					return x;
				};
				if (uncompressedSize === 0xffffffff) uncompressedSize = take();
				if (compressedSize === 0xffffffff) compressedSize = take();
				if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
			}
			e += 4 + size;
		}
		if (diskStart !== 0 && diskStart !== 0xffff)
			throw new UnsupportedError("multi-disk zip archives are not supported");
		if (localHeaderOffset >= cdOffset)
			throw new MalformedError(
				`member ${i}: local header offset ${localHeaderOffset} is past the central directory`,
			);
		const name =
			(flags & FLAG_UTF8) !== 0 ? decodeUtf8(rawName, i) : decodeCp437(rawName);
		if (names.has(name))
			throw new MalformedError(
				`zip archive holds two members named ${JSON.stringify(name)}`,
			);
		names.add(name);
		entries.push({
			name,
			rawName,
			flags,
			method,
			crc32,
			compressedSize,
			uncompressedSize,
			localHeaderOffset,
			dosTime,
			dosDate,
		});
		p = end;
	}
	return entries;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeUtf8(bytes: Uint8Array, i: number): string {
	try {
		return utf8.decode(bytes);
	} catch (err) {
		throw new MalformedError(
			`central directory record ${i}: name is not valid UTF-8`,
			{ cause: err },
		);
	}
}

function view(b: Uint8Array): DataView {
	return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A little-endian u64 as a number; values past 2^53 cannot be real offsets in any file. */
function getU64(v: DataView, at: number): number {
	const x = v.getBigUint64(at, true);
	if (x > BigInt(Number.MAX_SAFE_INTEGER))
		throw new MalformedError(`zip64 field ${x} exceeds 2^53 - 1`);
	return Number(x);
}

/** Reads exactly `length` bytes at `position` (callers checked the range against the file). */
export async function readAt(
	fh: FileHandle,
	position: number,
	length: number,
): Promise<Uint8Array> {
	const out = new Uint8Array(length);
	await readFully(
		fh,
		out,
		position,
		(at) => new TruncatedError(`zip archive ends at ${at}, inside a record`),
	);
	return out;
}
