/**
 * A minimal reader and rewriter of HDF5 object headers (format spec §IV.A), used for what
 * h5wasm does not expose: fill values, and patching headers of objects we just created
 * (filter pipelines, datatypes, dataspaces, attributes). Object addresses come from HDF5
 * itself (`H5Rcreate` object references are header addresses), so no group walking is needed.
 * Version-1 and version-2 headers are handled; a rewrite keeps every message in its chunk and
 * collects the free space into one NULL message (version 2 chunks get a new checksum).
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { MalformedError, UnsupportedError } from "@arraystore/core";
import { ADAPTER } from "./errors.js";
import { lookup3 } from "./lookup3.js";

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** What the superblock says about addressing. */
export interface Superblock {
	readonly version: number;
	/** Absolute file position that addresses are relative to. */
	readonly base: number;
	readonly offsetSize: number;
	readonly lengthSize: number;
}

/** One header message. */
export interface HeaderMessage {
	readonly type: number;
	flags: number;
	body: Uint8Array;
	/** Index of the chunk holding it. */
	readonly chunk: number;
	/** Version-2 creation order, when tracked. */
	readonly order?: number;
}

interface Chunk {
	/** Absolute position of the chunk's first message. */
	readonly start: number;
	/** Absolute end of the message area (before a version-2 checksum). */
	readonly end: number;
	/** Absolute position where a version-2 checksum covers from. */
	readonly checksumFrom: number;
}

function malformed(msg: string, target?: string): MalformedError {
	return new MalformedError(`HDF5 object header: ${msg}`, {
		adapter: ADAPTER,
		target,
	});
}

function readAt(fd: number, pos: number, n: number, size: number): Uint8Array {
	if (pos < 0 || n < 0 || pos + n > size)
		throw malformed(
			`read of ${n} bytes at ${pos} is outside the file (${size} bytes)`,
		);
	const b = new Uint8Array(n);
	let got = 0;
	while (got < n) {
		const r = readSync(fd, b, got, n - got, pos + got);
		if (r <= 0) throw malformed(`unexpected end of file at ${pos + got}`);
		got += r;
	}
	return b;
}

function uint(b: Uint8Array, at: number, n: number): number {
	let v = 0;
	for (let i = n - 1; i >= 0; i--) v = v * 256 + (b[at + i] as number);
	return v;
}

/** Finds and reads the superblock (at 0 or after a user block at 512, 1024, …). */
export function readSuperblock(fd: number, size: number): Superblock {
	for (let at = 0; at + 48 <= size; at = at === 0 ? 512 : at * 2) {
		const head = readAt(fd, at, Math.min(48, size - at), size);
		if (!SIGNATURE.every((v, i) => head[i] === v)) continue;
		const version = head[8] as number;
		if (version <= 1) {
			const offsetSize = head[13] as number;
			const lengthSize = head[14] as number;
			const base = uint(head, version === 0 ? 24 : 28, offsetSize);
			return { version, base, offsetSize, lengthSize };
		}
		const offsetSize = head[9] as number;
		const lengthSize = head[10] as number;
		return {
			version,
			base: uint(head, 12, offsetSize),
			offsetSize,
			lengthSize,
		};
	}
	throw malformed("no HDF5 superblock signature");
}

/** A parsed object header, rewritable in place. */
export class ObjectHeader {
	readonly version: 1 | 2;
	readonly messages: HeaderMessage[];
	readonly superblock: Superblock;
	readonly #address: number;
	readonly #chunks: Chunk[];
	readonly #trackOrder: boolean;
	readonly #dirty = new Set<number>();

	private constructor(
		version: 1 | 2,
		address: number,
		chunks: Chunk[],
		messages: HeaderMessage[],
		superblock: Superblock,
		trackOrder: boolean,
	) {
		this.version = version;
		this.#address = address;
		this.#chunks = chunks;
		this.messages = messages;
		this.superblock = superblock;
		this.#trackOrder = trackOrder;
	}

	/** Reads the header at `address` (relative to the superblock base). */
	static read(
		fd: number,
		superblock: Superblock,
		address: number,
	): ObjectHeader {
		const size = fstatSync(fd).size;
		const abs = superblock.base + address;
		const os = superblock.offsetSize;
		const ls = superblock.lengthSize;
		const first = readAt(fd, abs, Math.min(64, size - abs), size);
		const messages: HeaderMessage[] = [];
		const chunks: Chunk[] = [];
		const pending: [number, number][] = [];
		if (first[0] === 1) {
			const headerSize = uint(first, 8, 4);
			pending.push([abs + 16, headerSize]);
			while (pending.length > 0) {
				const [start, len] = pending.shift() as [number, number];
				if (chunks.length > 64) throw malformed("too many continuation chunks");
				const data = readAt(fd, start, len, size);
				const index = chunks.length;
				chunks.push({ start, end: start + len, checksumFrom: start });
				for (let p = 0; p + 8 <= len; ) {
					const type = uint(data, p, 2);
					const msize = uint(data, p + 2, 2);
					if (p + 8 + msize > len)
						throw malformed(`message of ${msize} bytes overruns its chunk`);
					const body = data.slice(p + 8, p + 8 + msize);
					messages.push({
						type,
						flags: data[p + 4] as number,
						body,
						chunk: index,
					});
					if (type === 0x10)
						pending.push([
							superblock.base + uint(body, 0, os),
							uint(body, os, ls),
						]);
					p += 8 + msize;
				}
			}
			return new ObjectHeader(1, abs, chunks, messages, superblock, false);
		}
		if (
			!(
				first[0] === 0x4f &&
				first[1] === 0x48 &&
				first[2] === 0x44 &&
				first[3] === 0x52
			)
		)
			throw malformed(`no object header at ${address}`);
		const flags = first[5] as number;
		let p = 6;
		if (flags & 0x20) p += 16;
		if (flags & 0x10) p += 4;
		const sizeBytes = 1 << (flags & 3);
		const chunk0 = uint(first, p, sizeBytes);
		p += sizeBytes;
		const trackOrder = (flags & 0x04) !== 0;
		pending.push([abs + p, chunk0]);
		let checksumFrom = abs;
		while (pending.length > 0) {
			const [start, len] = pending.shift() as [number, number];
			if (chunks.length > 64) throw malformed("too many continuation chunks");
			const data = readAt(fd, start, len, size);
			const index = chunks.length;
			chunks.push({ start, end: start + len, checksumFrom });
			const hdr = trackOrder ? 6 : 4;
			for (let q = 0; q + hdr <= len; ) {
				const type = data[q] as number;
				const msize = uint(data, q + 1, 2);
				if (q + hdr + msize > len)
					throw malformed(`message of ${msize} bytes overruns its chunk`);
				const body = data.slice(q + hdr, q + hdr + msize);
				const order = trackOrder ? uint(data, q + 4, 2) : undefined;
				messages.push({
					type,
					flags: data[q + 3] as number,
					body,
					chunk: index,
					...(order !== undefined ? { order } : {}),
				});
				if (type === 0x10) {
					// A continuation chunk: "OCHK", messages, checksum.
					const at = superblock.base + uint(body, 0, os);
					const clen = uint(body, os, ls);
					pending.push([at + 4, clen - 8]);
					checksumFrom = at;
				}
				q += hdr + msize;
			}
			checksumFrom = pending[0] ? pending[0][0] - 4 : checksumFrom;
		}
		return new ObjectHeader(2, abs, chunks, messages, superblock, trackOrder);
	}

	/** Messages of one type, in header order. */
	find(type: number): HeaderMessage[] {
		return this.messages.filter((m) => m.type === type);
	}

	/** Replaces a message's body. */
	replace(msg: HeaderMessage, body: Uint8Array): void {
		msg.body = body;
		this.#dirty.add(msg.chunk);
	}

	/** Inserts a new message right after `after` (same chunk). */
	insertAfter(
		after: HeaderMessage,
		type: number,
		flags: number,
		body: Uint8Array,
	): void {
		const i = this.messages.indexOf(after);
		this.messages.splice(i + 1, 0, { type, flags, body, chunk: after.chunk });
		this.#dirty.add(after.chunk);
	}

	/** Removes a message (its space becomes free). */
	remove(msg: HeaderMessage): void {
		const i = this.messages.indexOf(msg);
		if (i >= 0) this.messages.splice(i, 1);
		this.#dirty.add(msg.chunk);
	}

	/**
	 * Writes the changed chunks back.
	 * @throws {UnsupportedError} when the changed messages no longer fit in their chunk.
	 */
	commit(fd: number): void {
		for (const index of this.#dirty) this.#writeChunk(fd, index);
		if (this.version === 1) {
			const count = new Uint8Array(2);
			const n = this.messages.length;
			count[0] = n & 0xff;
			count[1] = n >> 8;
			writeSync(fd, count, 0, 2, this.#address + 2);
		}
		this.#dirty.clear();
	}

	#writeChunk(fd: number, index: number): void {
		const chunk = this.#chunks[index] as Chunk;
		const len = chunk.end - chunk.start;
		const out = new Uint8Array(len);
		// Free space is re-collected from scratch: drop the chunk's NULL messages first.
		const mine = this.messages.filter((m) => m.chunk === index && m.type !== 0);
		const others = this.messages.filter((m) => m.chunk !== index);
		let p = 0;
		const v1 = this.version === 1;
		const hdr = v1 ? 8 : this.#trackOrder ? 6 : 4;
		const kept: HeaderMessage[] = [];
		let order = 0;
		for (const m of mine) {
			const size = v1 ? Math.ceil(m.body.length / 8) * 8 : m.body.length;
			if (p + hdr + size > len) {
				throw new UnsupportedError(
					"the HDF5 object header has no room for this change",
					{ adapter: ADAPTER },
				);
			}
			writeMessageHeader(
				out,
				p,
				v1,
				m.type,
				size,
				m.flags,
				this.#trackOrder ? (m.order ?? order) : undefined,
			);
			out.set(m.body, p + hdr);
			p += hdr + size;
			order = (m.order ?? order) + 1;
			kept.push(m);
		}
		const free = len - p;
		if (free >= hdr) {
			writeMessageHeader(
				out,
				p,
				v1,
				0,
				free - hdr,
				0,
				this.#trackOrder ? 0 : undefined,
			);
			kept.push({
				type: 0,
				flags: 0,
				body: new Uint8Array(free - hdr),
				chunk: index,
			});
		}
		writeSync(fd, out, 0, len, chunk.start);
		if (!v1) {
			const covered = new Uint8Array(chunk.end - chunk.checksumFrom);
			readSync(fd, covered, 0, covered.length, chunk.checksumFrom);
			const sum = new Uint8Array(4);
			new DataView(sum.buffer).setUint32(0, lookup3(covered), true);
			writeSync(fd, sum, 0, 4, chunk.end);
		}
		this.messages.splice(
			0,
			this.messages.length,
			...this.#inChunkOrder(others, kept, index),
		);
	}

	#inChunkOrder(
		others: HeaderMessage[],
		kept: HeaderMessage[],
		index: number,
	): HeaderMessage[] {
		const before = others.filter((m) => m.chunk < index);
		const after = others.filter((m) => m.chunk > index);
		return [...before, ...kept, ...after];
	}
}

function writeMessageHeader(
	out: Uint8Array,
	p: number,
	v1: boolean,
	type: number,
	size: number,
	flags: number,
	order: number | undefined,
): void {
	if (v1) {
		out[p] = type & 0xff;
		out[p + 1] = type >> 8;
		out[p + 2] = size & 0xff;
		out[p + 3] = size >> 8;
		out[p + 4] = flags;
		return;
	}
	out[p] = type;
	out[p + 1] = size & 0xff;
	out[p + 2] = size >> 8;
	out[p + 3] = flags;
	if (order !== undefined) {
		out[p + 4] = order & 0xff;
		out[p + 5] = order >> 8;
	}
}

/** Opens `path`, runs `fn` with its descriptor, superblock and size, and closes it. */
export function withFile<T>(
	path: string,
	write: boolean,
	fn: (fd: number, sb: Superblock) => T,
): T {
	const fd = openSync(path, write ? "r+" : "r");
	try {
		return fn(fd, readSuperblock(fd, fstatSync(fd).size));
	} finally {
		closeSync(fd);
	}
}
