/**
 * The version-2 B-tree chunk index (format spec §III.A.2; HDF5's H5B2*.c, H5Dbtree2.c), used by
 * layout 4+ for datasets with more than one unlimited dimension. Records (type 10: address and
 * scaled offsets; type 11: address, stored size, filter mask and scaled offsets) sit in leaves
 * and in internal nodes; a node's record count comes from its parent's pointer (the root's
 * from the header), with field sizes derived from the node size as HDF5 derives them.
 */
import type { ChunkTable } from "./chunk-index.js";
import {
	checksumOk,
	type IndexReader,
	isUndefined,
	malformed,
	signedBlock,
	uint,
} from "./index-reader.js";

const MAX_DEPTH = 32;

// Bytes that hold any count up to `n` (H5VM_limit_enc_size).
function encSize(n: number): number {
	return Math.floor(Math.floor(Math.log2(Math.max(1, n))) / 8) + 1;
}

/**
 * Fills `table` from the version-2 B-tree whose header is at `addr` (dataset of `rank`
 * dimensions, chunks of `chunkBytes` before filters).
 * @throws {MalformedError} an inconsistent tree.
 */
export function readBTree2(
	r: IndexReader,
	addr: number,
	rank: number,
	chunkBytes: number,
	table: ChunkTable,
): void {
	const { offsetSize: os, lengthSize: ls } = r.sb;
	const hsize = 16 + os + 2 + ls + 4;
	const h = r.at(addr, hsize);
	if (
		String.fromCharCode(...h.subarray(0, 4)) !== "BTHD" ||
		h[4] !== 0 ||
		!checksumOk(h)
	)
		throw malformed(`no version-2 B-tree header at ${addr}`, r.target);
	const type = h[5] as number;
	const nodeSize = uint(h, 6, 4);
	const rsize = uint(h, 10, 2);
	const depth = uint(h, 12, 2);
	const rootNrec = uint(h, 16 + os, 2);
	const sizeLen = rsize - os - 4 - 8 * rank;
	if (
		(type === 10
			? rsize !== os + 8 * rank
			: type !== 11 || sizeLen < 1 || sizeLen > 8) ||
		depth > MAX_DEPTH ||
		nodeSize < 16 ||
		rsize < 1
	)
		throw malformed(
			`version-2 B-tree header at ${addr} is inconsistent`,
			r.target,
		);
	if (rootNrec === 0 || isUndefined(h, 16, os)) return;
	// Field sizes per depth, as H5B2__hdr_init computes them.
	const leafMax = Math.floor((nodeSize - 10) / rsize);
	const nrecSize = encSize(leafMax);
	const cum: number[] = [leafMax];
	const cumSize: number[] = [0];
	const ptrSize = (d: number): number =>
		os + nrecSize + (d > 1 ? (cumSize[d - 1] as number) : 0);
	for (let d = 1; d <= depth; d++) {
		const p = ptrSize(d);
		const max = Math.floor((nodeSize - (10 + p)) / (rsize + p));
		cum.push((max + 1) * (cum[d - 1] as number) + max);
		cumSize.push(encSize(cum[d] as number));
	}
	const record = (b: Uint8Array, at: number): void => {
		const size = type === 10 ? chunkBytes : uint(b, at + os, sizeLen);
		const mask = type === 10 ? 0 : uint(b, at + os + sizeLen, 4);
		const first = at + (type === 10 ? os : os + sizeLen + 4);
		const scaled: number[] = [];
		for (let d = 0; d < rank; d++) scaled.push(uint(b, first + 8 * d, 8));
		if (isUndefined(b, at, os)) return;
		table.set(scaled, r.entry(uint(b, at, os), size, mask));
	};
	const seen = new Set<number>();
	const visit = (at: number, d: number, nrec: number): void => {
		if (seen.has(at))
			throw malformed(`version-2 B-tree node ${at} is reached twice`, r.target);
		seen.add(at);
		if (d === 0) {
			const b = signedBlock(
				r,
				at,
				6 + nrec * rsize + 4,
				"BTLF",
				type,
				"version-2 B-tree",
			);
			for (let i = 0; i < nrec; i++) record(b, 6 + i * rsize);
			return;
		}
		const ps = ptrSize(d);
		const b = signedBlock(
			r,
			at,
			6 + nrec * rsize + (nrec + 1) * ps + 4,
			"BTIN",
			type,
			"version-2 B-tree",
		);
		for (let i = 0; i < nrec; i++) record(b, 6 + i * rsize);
		for (let i = 0; i <= nrec; i++) {
			const p = 6 + nrec * rsize + i * ps;
			visit(uint(b, p, os), d - 1, uint(b, p + os, nrecSize));
		}
	};
	visit(uint(h, 16, os), depth, rootNrec);
}
