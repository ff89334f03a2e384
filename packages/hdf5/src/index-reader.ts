/**
 * Bounds-checked reads of chunk index structures (chunk-index.ts, extensible-array.ts):
 * every read and every chunk extent is checked against the file size before anything is
 * allocated, and inconsistencies are {@link MalformedError}s.
 */
import { readSync } from "node:fs";
import { MalformedError } from "@arraystore/core";
import type { ChunkEntry } from "./chunk-index.js";
import { ADAPTER } from "./errors.js";
import { lookup3 } from "./lookup3.js";
import type { Superblock } from "./object-header.js";

/** The error of an inconsistent chunk index. */
export function malformed(msg: string, target: string): MalformedError {
	return new MalformedError(`${target}: chunk index: ${msg}`, {
		adapter: ADAPTER,
		target,
	});
}

/** True when the last 4 bytes of `b` are the lookup3 checksum of the rest (HDF5 metadata). */
export function checksumOk(b: Uint8Array): boolean {
	const n = b.length;
	return n >= 4 && lookup3(b.subarray(0, n - 4)) === uint(b, n - 4, 4);
}

/**
 * Reads a signed, checksummed metadata block of `n` bytes at `addr`: the 4-character `sig`,
 * version 0, then (when `type` ≥ 0) that type/client byte; checksum in the last 4 bytes.
 * @throws {MalformedError} naming `what`.
 */
export function signedBlock(
	r: IndexReader,
	addr: number,
	n: number,
	sig: string,
	type: number,
	what: string,
): Uint8Array {
	const b = r.at(addr, n);
	const name = String.fromCharCode(
		b[0] as number,
		b[1] as number,
		b[2] as number,
		b[3] as number,
	);
	if (name !== sig || b[4] !== 0 || (type >= 0 && b[5] !== type))
		throw malformed(`no ${what} ${sig} at ${addr}`, r.target);
	if (!checksumOk(b))
		throw malformed(`${what} ${sig} checksum mismatch at ${addr}`, r.target);
	return b;
}

/** Byte reader over one file with bounds checks against its size. */
export class IndexReader {
	readonly fd: number;
	readonly size: number;
	readonly sb: Superblock;
	readonly target: string;
	constructor(fd: number, size: number, sb: Superblock, target: string) {
		this.fd = fd;
		this.size = size;
		this.sb = sb;
		this.target = target;
	}
	/** Reads `n` bytes at the relative address `addr`. */
	at(addr: number, n: number): Uint8Array {
		const pos = this.sb.base + addr;
		if (
			!(Number.isSafeInteger(pos) && pos >= 0 && n >= 0 && pos + n <= this.size)
		)
			throw malformed(
				`${n} bytes at ${addr} lie outside the file (${this.size} bytes)`,
				this.target,
			);
		const b = new Uint8Array(n);
		let got = 0;
		while (got < n) {
			const r = readSync(this.fd, b, got, n - got, pos + got);
			if (r <= 0)
				throw malformed(`unexpected end of file at ${pos + got}`, this.target);
			got += r;
		}
		return b;
	}
	/** Checks a chunk's extent and returns its entry with an absolute address. */
	entry(addr: number, size: number, mask: number): ChunkEntry {
		const pos = this.sb.base + addr;
		if (!(size > 0 && pos >= 0 && pos + size <= this.size))
			throw malformed(
				`chunk of ${size} bytes at ${addr} lies outside the file (${this.size} bytes)`,
				this.target,
			);
		return { address: pos, size, mask };
	}
}

/** Little-endian unsigned integer of `n` bytes at `at`. */
export function uint(b: Uint8Array, at: number, n: number): number {
	let v = 0;
	for (let i = n - 1; i >= 0; i--) v = v * 256 + (b[at + i] as number);
	return v;
}

/** True when the `n`-byte address at `at` is HDF5's undefined address (all bits set). */
export function isUndefined(b: Uint8Array, at: number, n: number): boolean {
	for (let i = 0; i < n; i++) if (b[at + i] !== 0xff) return false;
	return true;
}
