/**
 * Writing zip records the way Python's zipfile does (so numpy, and every unzip, reads them):
 * local headers, central-directory records and the end records, switching to zip64 fields
 * exactly when a size, offset or count does not fit the classic ones (or when forced).
 */
import {
	FLAG_UTF8,
	SIG_CENTRAL,
	SIG_EOCD,
	SIG_LOCAL,
	SIG_ZIP64_EOCD,
	SIG_ZIP64_LOCATOR,
	type ZipEntry,
} from "./zip-read.js";

/** What the writer records per member: the directory's fields, and how the local header was written. */
export interface ZipMemberRecord extends ZipEntry {
	/** The local header carries a zip64 extra (sizes live there). */
	readonly localZip64: boolean;
}

const U32_MAX = 0xffffffff;

/** Name bytes and flags: ASCII names as they are, others as UTF-8 with bit 11 (as zipfile does). */
export function encodeName(name: string): {
	rawName: Uint8Array;
	flags: number;
} {
	const rawName = new TextEncoder().encode(name);
	const ascii = rawName.every((b) => b < 0x80);
	return { rawName, flags: ascii ? 0 : FLAG_UTF8 };
}

/** The current local time as DOS time and date fields. */
export function dosDateTime(d: Date = new Date()): {
	dosTime: number;
	dosDate: number;
} {
	const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
	return {
		dosTime:
			(d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
		dosDate: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
	};
}

/** Length of a local header for this name (with or without the 20-byte zip64 extra). */
export function localHeaderLength(rawName: Uint8Array, zip64: boolean): number {
	return 30 + rawName.length + (zip64 ? 20 : 0);
}

/** A local file header. With `localZip64` the sizes go to a zip64 extra (0xFFFFFFFF in place). */
export function localHeader(
	r: Omit<ZipMemberRecord, "localHeaderOffset" | "name">,
): Uint8Array {
	const out = new Uint8Array(localHeaderLength(r.rawName, r.localZip64));
	const v = new DataView(out.buffer);
	v.setUint32(0, SIG_LOCAL, true);
	v.setUint16(4, versionNeeded(r.method, r.localZip64), true);
	v.setUint16(6, r.flags, true);
	v.setUint16(8, r.method, true);
	v.setUint16(10, r.dosTime, true);
	v.setUint16(12, r.dosDate, true);
	v.setUint32(14, r.crc32 >>> 0, true);
	v.setUint32(18, r.localZip64 ? U32_MAX : r.compressedSize, true);
	v.setUint32(22, r.localZip64 ? U32_MAX : r.uncompressedSize, true);
	v.setUint16(26, r.rawName.length, true);
	v.setUint16(28, r.localZip64 ? 20 : 0, true);
	out.set(r.rawName, 30);
	if (r.localZip64) {
		const e = 30 + r.rawName.length;
		v.setUint16(e, 0x0001, true);
		v.setUint16(e + 2, 16, true);
		v.setBigUint64(e + 4, BigInt(r.uncompressedSize), true);
		v.setBigUint64(e + 12, BigInt(r.compressedSize), true);
	}
	return out;
}

/** A central-directory record; zip64 extra fields for whatever does not fit 32 bits (or all, when forced). */
export function centralRecord(r: ZipMemberRecord, force64 = false): Uint8Array {
	const big: bigint[] = [];
	const usize = force64 || r.uncompressedSize >= U32_MAX;
	const csize = force64 || r.compressedSize >= U32_MAX;
	const offset = force64 || r.localHeaderOffset >= U32_MAX;
	if (usize) big.push(BigInt(r.uncompressedSize));
	if (csize) big.push(BigInt(r.compressedSize));
	if (offset) big.push(BigInt(r.localHeaderOffset));
	const extraLen = big.length > 0 ? 4 + 8 * big.length : 0;
	const zip64 = big.length > 0 || r.localZip64;
	const out = new Uint8Array(46 + r.rawName.length + extraLen);
	const v = new DataView(out.buffer);
	v.setUint32(0, SIG_CENTRAL, true);
	// Made by: Unix (3), same version as needed.
	v.setUint16(4, (3 << 8) | versionNeeded(r.method, zip64), true);
	v.setUint16(6, versionNeeded(r.method, zip64), true);
	v.setUint16(8, r.flags, true);
	v.setUint16(10, r.method, true);
	v.setUint16(12, r.dosTime, true);
	v.setUint16(14, r.dosDate, true);
	v.setUint32(16, r.crc32 >>> 0, true);
	v.setUint32(20, csize ? U32_MAX : r.compressedSize, true);
	v.setUint32(24, usize ? U32_MAX : r.uncompressedSize, true);
	v.setUint16(28, r.rawName.length, true);
	v.setUint16(30, extraLen, true);
	v.setUint16(32, 0, true);
	v.setUint16(34, 0, true);
	v.setUint16(36, 0, true);
	// -rw------- like zipfile's writestr.
	v.setUint32(38, (0o100600 << 16) >>> 0, true);
	v.setUint32(42, offset ? U32_MAX : r.localHeaderOffset, true);
	out.set(r.rawName, 46);
	if (extraLen > 0) {
		let e = 46 + r.rawName.length;
		v.setUint16(e, 0x0001, true);
		v.setUint16(e + 2, 8 * big.length, true);
		e += 4;
		for (const x of big) {
			v.setBigUint64(e, x, true);
			e += 8;
		}
	}
	return out;
}

/** The zip64 end record and locator (when needed or forced) followed by the classic end record. */
export function endRecords(
	count: number,
	cdOffset: number,
	cdSize: number,
	force64 = false,
): Uint8Array {
	const zip64 =
		force64 || count >= 0xffff || cdOffset >= U32_MAX || cdSize >= U32_MAX;
	const out = new Uint8Array((zip64 ? 56 + 20 : 0) + 22);
	const v = new DataView(out.buffer);
	let p = 0;
	if (zip64) {
		const z64At = cdOffset + cdSize;
		v.setUint32(0, SIG_ZIP64_EOCD, true);
		v.setBigUint64(4, 44n, true);
		v.setUint16(12, (3 << 8) | 45, true);
		v.setUint16(14, 45, true);
		v.setUint32(16, 0, true);
		v.setUint32(20, 0, true);
		v.setBigUint64(24, BigInt(count), true);
		v.setBigUint64(32, BigInt(count), true);
		v.setBigUint64(40, BigInt(cdSize), true);
		v.setBigUint64(48, BigInt(cdOffset), true);
		v.setUint32(56, SIG_ZIP64_LOCATOR, true);
		v.setUint32(60, 0, true);
		v.setBigUint64(64, BigInt(z64At), true);
		v.setUint32(72, 1, true);
		p = 76;
	}
	v.setUint32(p, SIG_EOCD, true);
	v.setUint16(p + 8, zip64 ? Math.min(count, 0xffff) : count, true);
	v.setUint16(p + 10, zip64 ? Math.min(count, 0xffff) : count, true);
	v.setUint32(p + 12, zip64 ? Math.min(cdSize, U32_MAX) : cdSize, true);
	v.setUint32(p + 16, zip64 ? Math.min(cdOffset, U32_MAX) : cdOffset, true);
	if (force64) {
		v.setUint16(p + 8, 0xffff, true);
		v.setUint16(p + 10, 0xffff, true);
		v.setUint32(p + 12, U32_MAX, true);
		v.setUint32(p + 16, U32_MAX, true);
	}
	return out;
}

// --- internal ---

// zipfile writes 2.0 (deflate; also its floor for stored members) or 4.5 (zip64).
function versionNeeded(_method: number, zip64: boolean): number {
	return zip64 ? 45 : 20;
}
