/**
 * The chunk index of a chunked dataset, read from the file itself (format spec §III.A.1 and
 * §VII): h5wasm 0.10.3 exposes none of H5Dget_chunk_info / H5Dchunk_iter. Supported: layout
 * version 3 with its version-1 B-tree (what h5py and this package write by default), and
 * layout versions 4 and 5 with a single chunk, an implicit index, an unpaged fixed array or
 * an extensible array (extensible-array.ts) or a version-2 B-tree (btree2.ts). Paged fixed
 * arrays and data blocks, and "partial edge chunks not filtered" give `null`: the caller reads through HDF5
 * instead. Structures that are present but inconsistent (bad signature, checksum, address
 * outside the file, chunk off the grid) are a {@link MalformedError}.
 */
import { shapeSize } from "@arraystore/core";
import { readBTree2 } from "./btree2.js";
import { readExtensibleArray } from "./extensible-array.js";
import {
	checksumOk,
	IndexReader,
	isUndefined,
	malformed,
	uint,
} from "./index-reader.js";
import type { Superblock } from "./object-header.js";

/** One stored chunk: absolute file position, stored size and filter mask. */
export interface ChunkEntry {
	readonly address: number;
	readonly size: number;
	/** Bit i set: filter i of the pipeline was not applied to this chunk. */
	readonly mask: number;
}

/** Largest chunk grid indexed (cells × 20 bytes of tables). */
export const MAX_INDEXED_CHUNKS: number = 1 << 21;
// B-tree walks stop here: a cycle or absurd depth is a corrupt file, not a big one.
const MAX_BTREE_DEPTH = 64;

/** Stored chunks by linear (C-order) position in the dataset's current chunk grid. */
export class ChunkTable {
	/** Chunks per dimension of the current shape. */
	readonly grid: readonly number[];
	readonly #address: Float64Array;
	readonly #size: Float64Array;
	readonly #mask: Uint32Array;

	constructor(grid: readonly number[]) {
		this.grid = grid;
		const n = shapeSize(grid);
		this.#address = new Float64Array(n).fill(-1);
		this.#size = new Float64Array(n);
		this.#mask = new Uint32Array(n);
	}

	/** Number of chunks stored. */
	get stored(): number {
		let n = 0;
		for (const a of this.#address) if (a >= 0) n++;
		return n;
	}

	/** The chunk at linear grid position `i`, or null when it was never written. */
	get(i: number): ChunkEntry | null {
		const address = this.#address[i];
		if (address === undefined || address < 0) return null;
		return {
			address,
			size: this.#size[i] as number,
			mask: this.#mask[i] as number,
		};
	}

	/** Records a chunk at `scaled` grid coordinates (ignored outside the current grid). */
	set(scaled: readonly number[], e: ChunkEntry): void {
		let i = 0;
		for (let d = 0; d < this.grid.length; d++) {
			const g = this.grid[d] as number;
			const s = scaled[d] as number;
			if (s >= g) return; // left over from a larger extent
			i = i * g + s;
		}
		this.#address[i] = e.address;
		this.#size[i] = e.size;
		this.#mask[i] = e.mask;
	}
}

/** What the dataset's header says, as h5wasm reports it. */
export interface ChunkedDataset {
	readonly shape: readonly number[];
	/** Maximum shape (dimensions at or beyond 2^53 are unlimited). */
	readonly maxshape: readonly number[];
	readonly chunks: readonly number[];
	readonly itemsize: number;
	/** Number of filters in the pipeline. */
	readonly filters: number;
}

/**
 * Reads the chunk table of a dataset from its layout message body (`layout`); null when the
 * layout or index type is one this reader leaves to HDF5.
 * @throws {MalformedError} an index that is present but inconsistent.
 */
export function readChunkTable(
	fd: number,
	fileSize: number,
	sb: Superblock,
	layout: Uint8Array,
	ds: ChunkedDataset,
	target: string,
): ChunkTable | null {
	const r = new IndexReader(fd, fileSize, sb, target);
	const rank = ds.shape.length;
	const grid = ds.shape.map((s, d) => Math.ceil(s / (ds.chunks[d] as number)));
	if (rank === 0 || shapeSize(grid) > MAX_INDEXED_CHUNKS) return null;
	const os = sb.offsetSize;
	const version = layout[0];
	// Version 5 (HDF5 2.0, libver "latest") encodes chunked layouts as version 4 does.
	if (layout[1] !== 2 || version === undefined || version < 3 || version > 5)
		return null;
	const table = new ChunkTable(grid);
	const chunkBytes = shapeSize(ds.chunks) * ds.itemsize;
	if (version === 3) {
		const dims = layout[2] as number;
		if (dims !== rank + 1 || layout.length < 3 + os + 4 * dims) return null;
		if (!sameDims(layout, 3 + os, 4, ds)) return null;
		if (isUndefined(layout, 3, os)) return table;
		walkBTree(r, uint(layout, 3, os), rank, table, ds.chunks);
		return table;
	}
	const flags = layout[2] as number;
	const dims = layout[3] as number;
	const enc = layout[4] as number;
	// Partial edge chunks stored unfiltered: left to HDF5.
	if (flags & 1 || dims !== rank + 1 || enc < 1 || enc > 8) return null;
	if (!sameDims(layout, 5, enc, ds)) return null;
	let p = 5 + dims * enc;
	const type = layout[p++];
	const maxGrid = ds.maxshape.map((m, d) =>
		m >= 2 ** 53
			? Number.POSITIVE_INFINITY
			: Math.ceil(m / (ds.chunks[d] as number)),
	);
	if (type === 1) {
		let size = chunkBytes;
		let mask = 0;
		if (flags & 2) {
			size = uint(layout, p, sb.lengthSize);
			mask = uint(layout, p + sb.lengthSize, 4);
			p += sb.lengthSize + 4;
		}
		if (p + os > layout.length) return null;
		if (!isUndefined(layout, p, os))
			table.set(
				grid.map(() => 0),
				r.entry(uint(layout, p, os), size, mask),
			);
		return table;
	}
	if (type === 2) {
		if (
			ds.filters > 0 ||
			p + os > layout.length ||
			!maxGrid.every(Number.isFinite)
		)
			return null;
		if (isUndefined(layout, p, os)) return table;
		const base = uint(layout, p, os);
		forEachScaled(maxGrid, (scaled, i) =>
			table.set(scaled, r.entry(base + i * chunkBytes, chunkBytes, 0)),
		);
		return table;
	}
	if (type === 4) {
		// Creation parameters (5 bytes, repeated in the array's header), then the address.
		p += 5;
		const unlimited = maxGrid.map((g) => !Number.isFinite(g));
		const u = unlimited.indexOf(true);
		if (p + os > layout.length || u < 0 || unlimited.lastIndexOf(true) !== u)
			return null;
		if (isUndefined(layout, p, os)) return table;
		return readExtensibleArray(
			r,
			uint(layout, p, os),
			u,
			maxGrid,
			chunkBytes,
			table,
		)
			? table
			: null;
	}
	if (type === 5) {
		// Node size (4), split and merge percentages (1 + 1), then the address.
		p += 6;
		if (p + os > layout.length) return null;
		if (isUndefined(layout, p, os)) return table;
		readBTree2(r, uint(layout, p, os), rank, chunkBytes, table);
		return table;
	}
	if (type === 3) {
		const pageBits = layout[p++] as number;
		if (p + os > layout.length || !maxGrid.every(Number.isFinite)) return null;
		if (isUndefined(layout, p, os)) return table;
		return readFixedArray(
			r,
			uint(layout, p, os),
			pageBits,
			maxGrid,
			chunkBytes,
			table,
		)
			? table
			: null;
	}
	return null;
}

// The chunk dimensions of the layout message equal h5wasm's, and the element size ours.
function sameDims(
	b: Uint8Array,
	at: number,
	enc: number,
	ds: ChunkedDataset,
): boolean {
	const rank = ds.shape.length;
	for (let d = 0; d < rank; d++)
		if (uint(b, at + d * enc, enc) !== ds.chunks[d]) return false;
	return uint(b, at + rank * enc, enc) === ds.itemsize;
}

// Calls fn for every cell of `grid` in C order with its linear index.
function forEachScaled(
	grid: readonly number[],
	fn: (scaled: readonly number[], i: number) => void,
): void {
	const n = shapeSize(grid);
	const idx = grid.map(() => 0);
	for (let i = 0; i < n; i++) {
		fn(idx, i);
		for (let d = grid.length - 1; d >= 0; d--) {
			idx[d] = (idx[d] as number) + 1;
			if ((idx[d] as number) < (grid[d] as number)) break;
			idx[d] = 0;
		}
	}
}

function walkBTree(
	r: IndexReader,
	root: number,
	rank: number,
	table: ChunkTable,
	chunks: readonly number[],
): void {
	const os = r.sb.offsetSize;
	const keySize = 8 + 8 * (rank + 1);
	const seen = new Set<number>();
	const visit = (addr: number, depth: number, expectLevel: number): void => {
		if (depth > MAX_BTREE_DEPTH || seen.has(addr))
			throw malformed(`B-tree node ${addr} revisited or too deep`, r.target);
		seen.add(addr);
		const head = r.at(addr, 8 + 2 * os);
		if (
			head[0] !== 0x54 ||
			head[1] !== 0x52 ||
			head[2] !== 0x45 ||
			head[3] !== 0x45
		)
			throw malformed(`no B-tree node at ${addr}`, r.target);
		const level = head[5] as number;
		if (head[4] !== 1 || (expectLevel >= 0 && level !== expectLevel))
			throw malformed(`unexpected B-tree node at ${addr}`, r.target);
		const used = uint(head, 6, 2);
		const body = r.at(addr + head.length, used * (keySize + os) + keySize);
		for (let i = 0; i < used; i++) {
			const k = i * (keySize + os);
			const child = uint(body, k + keySize, os);
			if (level > 0) {
				visit(child, depth + 1, level - 1);
				continue;
			}
			const size = uint(body, k, 4);
			const mask = uint(body, k + 4, 4);
			const scaled: number[] = [];
			for (let d = 0; d < rank; d++) {
				const off = uint(body, k + 8 + 8 * d, 8);
				const c = chunks[d] as number;
				if (off % c !== 0)
					throw malformed(
						`chunk offset ${off} is off the chunk grid`,
						r.target,
					);
				scaled.push(off / c);
			}
			table.set(scaled, r.entry(child, size, mask));
		}
	};
	visit(root, 0, -1);
}

function readFixedArray(
	r: IndexReader,
	addr: number,
	pageBits: number,
	maxGrid: readonly number[],
	chunkBytes: number,
	table: ChunkTable,
): boolean {
	const { offsetSize: os, lengthSize: ls } = r.sb;
	const hsize = 8 + ls + os + 4;
	const h = r.at(addr, hsize);
	if (uint(h, 0, 4) !== 0x44484146 || h[4] !== 0)
		// "FAHD"
		throw malformed(`no fixed array header at ${addr}`, r.target);
	if (!checksumOk(h))
		throw malformed(
			`fixed array header checksum mismatch at ${addr}`,
			r.target,
		);
	const client = h[5] as number;
	const entrySize = h[6] as number;
	const count = uint(h, 8, ls);
	if (count !== shapeSize(maxGrid) || count > MAX_INDEXED_CHUNKS * 4)
		throw malformed(
			`fixed array of ${count} entries for ${shapeSize(maxGrid)} chunks`,
			r.target,
		);
	if (pageBits !== h[7] || pageBits > 32)
		throw malformed(`fixed array page bits ${h[7]} ≠ ${pageBits}`, r.target);
	const sizeBytes = entrySize - os - 4;
	if (
		client === 0
			? entrySize !== os
			: client !== 1 || sizeBytes < 1 || sizeBytes > 8
	)
		throw malformed(`fixed array entries of ${entrySize} bytes`, r.target);
	const blockAddr = uint(h, 8 + ls, os);
	if (isUndefined(h, 8 + ls, os)) return true;
	// More entries than one page: the data block holds a bitmap of initialised pages, and
	// the pages (entries and a checksum each) follow it.
	const pageElmts = 2 ** pageBits;
	const paged = count > pageElmts;
	const npages = paged ? Math.ceil(count / pageElmts) : 0;
	const bitmap = Math.ceil(npages / 8);
	const dsize = 6 + os + (paged ? bitmap : count * entrySize) + 4;
	const b = r.at(blockAddr, dsize);
	if (uint(b, 0, 4) !== 0x42444146 || b[4] !== 0 || b[5] !== client)
		// "FADB"
		throw malformed(`no fixed array data block at ${blockAddr}`, r.target);
	if (!checksumOk(b))
		throw malformed(
			`fixed array data block checksum mismatch at ${blockAddr}`,
			r.target,
		);
	const entry = (
		e: Uint8Array,
		at: number,
		scaled: readonly number[],
	): void => {
		if (isUndefined(e, at, os)) return;
		const size = client === 0 ? chunkBytes : uint(e, at + os, sizeBytes);
		const mask = client === 0 ? 0 : uint(e, at + os + sizeBytes, 4);
		table.set(scaled, r.entry(uint(e, at, os), size, mask));
	};
	if (!paged) {
		forEachScaled(maxGrid, (scaled, i) =>
			entry(b, 6 + os + i * entrySize, scaled),
		);
		return true;
	}
	let page: Uint8Array | null = null;
	let pageNo = -1;
	forEachScaled(maxGrid, (scaled, i) => {
		const p = Math.floor(i / pageElmts);
		if (p !== pageNo) {
			pageNo = p;
			page = null;
			// Bit p of the bitmap, most significant bit first (H5VM_bit_get).
			const init =
				((b[6 + os + (p >>> 3)] as number) & (0x80 >>> (p & 7))) !== 0;
			if (init) {
				// Pages follow the block back to back, all full but the last.
				const at = blockAddr + dsize + p * (pageElmts * entrySize + 4);
				const psize =
					Math.min(pageElmts, count - p * pageElmts) * entrySize + 4;
				page = r.at(at, psize);
				if (!checksumOk(page))
					throw malformed(
						`fixed array page checksum mismatch at ${at}`,
						r.target,
					);
			}
		}
		if (page !== null) entry(page, (i - p * pageElmts) * entrySize, scaled);
	});
	return true;
}
