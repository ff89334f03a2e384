/**
 * The extensible array chunk index (format spec §III.H and §VII.A; HDF5's H5EA*.c, H5Dearray.c),
 * used by layout 4+ for datasets with exactly one unlimited dimension. Elements live in the
 * index block, then in data blocks of growing size grouped into "super blocks", whose data
 * block addresses sit in the index block (the first super blocks) or in secondary blocks.
 * Element i is the chunk at position i of the chunk grid taken in C order with the unlimited
 * dimension moved first and the other dimensions at their maximum chunk counts. Paged data
 * blocks give `false` (the caller reads through HDF5).
 */
import { shapeSize } from "@arraystore/core";
import { type ChunkTable, MAX_INDEXED_CHUNKS } from "./chunk-index.js";
import {
	type IndexReader,
	isUndefined,
	malformed,
	signedBlock,
	uint,
} from "./index-reader.js";

// An extensible-array metadata block (header, index, super or data block).
function ea(
	r: IndexReader,
	addr: number,
	n: number,
	sig: string,
	client: number,
): Uint8Array {
	return signedBlock(r, addr, n, sig, client, "extensible array");
}

/**
 * Fills `table` from the extensible array whose header is at `addr`; false when it holds
 * structures left to HDF5 (paged data blocks).
 * @throws {MalformedError} an inconsistent array.
 */
export function readExtensibleArray(
	r: IndexReader,
	addr: number,
	unlimited: number,
	maxGrid: readonly number[],
	chunkBytes: number,
	table: ChunkTable,
): boolean {
	const { offsetSize: os, lengthSize: ls } = r.sb;
	const hsize = 12 + 6 * ls + os + 4;
	const h = ea(r, addr, hsize, "EAHD", -1);
	const client = h[5] as number;
	const esize = h[6] as number;
	const maxBits = h[7] as number;
	const iblkElmts = h[8] as number;
	const minElmts = h[9] as number;
	const minPtrs = h[10] as number;
	const pageBits = h[11] as number;
	const sizeBytes = esize - os - 4;
	const pow2 = (v: number): boolean => v > 0 && (v & (v - 1)) === 0;
	if (
		(client === 0
			? esize !== os
			: client !== 1 || sizeBytes < 1 || sizeBytes > 8) ||
		maxBits < 1 ||
		maxBits > 64 ||
		!pow2(minElmts) ||
		!pow2(minPtrs)
	)
		throw malformed(
			`extensible array header at ${addr} is inconsistent`,
			r.target,
		);
	const maxIndexSet = uint(h, 12 + 4 * ls, ls);
	const iblockAddr = uint(h, 12 + 6 * ls, os);
	// Elements that can matter: those of chunks inside the current grid.
	const others = maxGrid.filter((_, d) => d !== unlimited);
	const perRow = shapeSize(others);
	const rows = table.grid[unlimited] as number;
	const limit = Math.min(maxIndexSet, rows * perRow);
	if (limit > MAX_INDEXED_CHUNKS * 4) return false;
	if (limit === 0 || isUndefined(h, 12 + 6 * ls, os)) return true;
	// The chunk of element i: unlimited coordinate first, the others in C order.
	const scaled = maxGrid.map(() => 0);
	const put = (i: number, b: Uint8Array, at: number): void => {
		if (i >= limit || isUndefined(b, at, os)) return;
		let rest = i % perRow;
		scaled[unlimited] = Math.floor(i / perRow);
		for (let d = maxGrid.length - 1; d >= 0; d--) {
			if (d === unlimited) continue;
			const g = maxGrid[d] as number;
			scaled[d] = rest % g;
			rest = Math.floor(rest / g);
		}
		const size = client === 0 ? chunkBytes : uint(b, at + os, sizeBytes);
		const mask = client === 0 ? 0 : uint(b, at + os + sizeBytes, 4);
		table.set(scaled, r.entry(uint(b, at, os), size, mask));
	};
	// Super blocks: u holds 2^floor(u/2) data blocks of 2^floor((u+1)/2) * minElmts elements.
	const log2 = (v: number): number => 31 - Math.clz32(v);
	const nsblks = 1 + maxBits - log2(minElmts);
	const iblkSblks = 2 * log2(minPtrs);
	const ndblkAddrs = 2 * (minPtrs - 1);
	const nsblkAddrs = Math.max(0, nsblks - iblkSblks);
	const isize = 6 + os + iblkElmts * esize + (ndblkAddrs + nsblkAddrs) * os + 4;
	const ib = ea(r, iblockAddr, isize, "EAIB", client);
	for (let i = 0; i < iblkElmts; i++) put(i, ib, 6 + os + i * esize);
	const dblkAt = 6 + os + iblkElmts * esize;
	const sblkAt = dblkAt + ndblkAddrs * os;
	const offBytes = Math.ceil(maxBits / 8);
	let start = iblkElmts;
	let dblk = 0; // data blocks of the index block's super blocks seen so far
	for (let u = 0; u < nsblks && start < limit; u++) {
		const ndblks = 2 ** Math.floor(u / 2);
		const nelmts = 2 ** Math.floor((u + 1) / 2) * minElmts;
		let addrs: Uint8Array;
		let addrAt: number;
		if (u < iblkSblks) {
			addrs = ib;
			addrAt = dblkAt + dblk * os;
			dblk += ndblks;
			if (dblk > ndblkAddrs)
				throw malformed(
					`extensible array index block at ${iblockAddr} is too small`,
					r.target,
				);
		} else {
			const at = sblkAt + (u - iblkSblks) * os;
			if (isUndefined(ib, at, os)) {
				start += ndblks * nelmts;
				continue;
			}
			if (nelmts > 2 ** pageBits) return false; // paged data blocks
			const ssize = 6 + os + offBytes + ndblks * os + 4;
			addrs = ea(r, uint(ib, at, os), ssize, "EASB", client);
			addrAt = 6 + os + offBytes;
		}
		for (let k = 0; k < ndblks && start < limit; k++, start += nelmts) {
			if (isUndefined(addrs, addrAt + k * os, os)) continue;
			if (nelmts > 2 ** pageBits) return false; // paged data blocks
			const dsize = 6 + os + offBytes + nelmts * esize + 4;
			const db = ea(r, uint(addrs, addrAt + k * os, os), dsize, "EADB", client);
			const first = 6 + os + offBytes;
			for (let e = 0; e < nelmts; e++) put(start + e, db, first + e * esize);
		}
	}
	return true;
}
