/**
 * Removing a link from a group, which h5wasm 0.10.3 cannot do (no `H5Ldelete` binding), so
 * that mode w+ can replace an existing dataset. Done on the closed file like the other header
 * patches: an old-style group drops the entry from its symbol-table node (format spec §III.B,
 * §III.C), a new-style compact group drops the link message from its header. The object
 * itself stays in the file unreferenced, as after h5py's `del` without repacking. Groups with
 * dense link storage are refused.
 */
import { fstatSync, readSync, writeSync } from "node:fs";
import { MalformedError, UnsupportedError } from "@arraystore/core";
import { ADAPTER } from "./errors.js";
import type { H5File } from "./file-handle.js";
import { objectAddress } from "./header-patch.js";
import { ObjectHeader, type Superblock, withFile } from "./object-header.js";
import { baseName, parentPath } from "./paths.js";

const LINK_INFO = 0x02;
const LINK = 0x06;
const SYMBOL_TABLE = 0x11;

function read(fd: number, pos: number, n: number): Uint8Array {
	// Sizes come from the file: check them against it before allocating.
	if (pos < 0 || n < 0 || pos + n > fstatSync(fd).size)
		throw new MalformedError(
			`HDF5: ${n} bytes at ${pos} lie outside the file`,
			{ adapter: ADAPTER },
		);
	const b = new Uint8Array(n);
	if (readSync(fd, b, 0, n, pos) !== n)
		throw new MalformedError(`HDF5: unexpected end of file at ${pos}`, {
			adapter: ADAPTER,
		});
	return b;
}

function uint(b: Uint8Array, at: number, n: number): number {
	let v = 0;
	for (let i = n - 1; i >= 0; i--) v = v * 256 + (b[at + i] as number);
	return v;
}

function tag(b: Uint8Array, s: string): boolean {
	return (
		String.fromCharCode(
			b[0] as number,
			b[1] as number,
			b[2] as number,
			b[3] as number,
		) === s
	);
}

/**
 * Removes the link `path` (absolute, not the root) from its parent group.
 * @throws {UnsupportedError} dense link storage, or the link was not found where HDF5 keeps it.
 */
export function unlink(file: H5File, path: string): void {
	const group = parentPath(path);
	const name = baseName(path);
	const address = objectAddress(file, group);
	file.whileClosed(() =>
		withFile(file.path, true, (fd, sb) => {
			const header = ObjectHeader.read(fd, sb, address);
			const symtab = header.find(SYMBOL_TABLE)[0];
			if (symtab) {
				removeFromSymbolTable(fd, sb, symtab.body, name, path);
				return;
			}
			const link = header.find(LINK).find((m) => linkName(m.body) === name);
			if (link) {
				header.remove(link);
				header.commit(fd);
				return;
			}
			if (header.find(LINK_INFO).length > 0) {
				throw new UnsupportedError(
					`${file.target}#${path}: the group keeps its links in dense storage, which cannot be edited here; write to a new file`,
					{ adapter: ADAPTER, target: file.target },
				);
			}
			throw new UnsupportedError(
				`${file.target}#${path}: link not found in its group`,
				{ adapter: ADAPTER, target: file.target },
			);
		}),
	);
}

function linkName(body: Uint8Array): string | null {
	if (body[0] !== 1) return null;
	const flags = body[1] as number;
	let p = 2;
	if (flags & 0x08) p += 1;
	if (flags & 0x04) p += 8;
	if (flags & 0x10) p += 1;
	const lenBytes = 1 << (flags & 3);
	const len = uint(body, p, lenBytes);
	p += lenBytes;
	return new TextDecoder().decode(body.subarray(p, p + len));
}

function removeFromSymbolTable(
	fd: number,
	sb: Superblock,
	body: Uint8Array,
	name: string,
	path: string,
): void {
	const os = sb.offsetSize;
	const ls = sb.lengthSize;
	const btree = uint(body, 0, os);
	const heapAddr = uint(body, os, os);
	const heap = read(fd, sb.base + heapAddr, 8 + 2 * ls + os);
	if (!tag(heap, "HEAP"))
		throw new MalformedError(`HDF5: no local heap at ${heapAddr}`, {
			adapter: ADAPTER,
		});
	const heapSize = uint(heap, 8, ls);
	const heapData = sb.base + uint(heap, 8 + 2 * ls, os);
	const names = read(fd, heapData, heapSize);
	const nameAt = (off: number): string => {
		let end = off;
		while (end < names.length && names[end] !== 0) end++;
		return new TextDecoder().decode(names.subarray(off, end));
	};
	const entrySize = 2 * os + 24;
	const stack = [btree];
	let visited = 0;
	while (stack.length > 0) {
		const node = stack.pop() as number;
		if (++visited > 100_000)
			throw new MalformedError("HDF5: group B-tree too large or cyclic", {
				adapter: ADAPTER,
			});
		const head = read(fd, sb.base + node, 8 + 2 * os);
		if (tag(head, "SNOD")) {
			const count = uint(head, 6, 2);
			const entries = read(fd, sb.base + node + 8, count * entrySize);
			for (let i = 0; i < count; i++) {
				if (nameAt(uint(entries, i * entrySize, os)) !== name) continue;
				// Shift the later entries down over this one and shrink the count.
				const rest = entries.slice((i + 1) * entrySize);
				const out = new Uint8Array(rest.length + entrySize);
				out.set(rest);
				writeSync(fd, out, 0, out.length, sb.base + node + 8 + i * entrySize);
				writeSync(
					fd,
					Uint8Array.of((count - 1) & 0xff, (count - 1) >> 8),
					0,
					2,
					sb.base + node + 6,
				);
				return;
			}
			continue;
		}
		if (!tag(head, "TREE") || head[4] !== 0)
			throw new MalformedError(`HDF5: no group B-tree node at ${node}`, {
				adapter: ADAPTER,
			});
		const used = uint(head, 6, 2);
		const body = read(
			fd,
			sb.base + node + 8 + 2 * os,
			(used + 1) * ls + used * os,
		);
		for (let i = 0; i < used; i++)
			stack.push(uint(body, ls + i * (ls + os), os));
	}
	throw new UnsupportedError(
		`${path}: link not found in its group's symbol table`,
		{ adapter: ADAPTER },
	);
}
