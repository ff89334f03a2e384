/**
 * Whether a dataset can be read by {@link DirectReader} and, if so, its reader: a chunked
 * dataset of a fixed-size type whose filters are all in {@link DIRECT_FILTERS}, in a file
 * open read-only, with a chunk index chunk-index.ts understands. Anything else gets null and
 * is read through HDF5 as before.
 */
import { closeSync, fstatSync, openSync } from "node:fs";
import { ArrayStoreError, fromNodeError } from "@arraystore/core";
import { readChunkTable } from "./chunk-index.js";
import {
	DIRECT_FILTERS,
	DirectReader,
	MAX_DIRECT_CHUNK_BYTES,
} from "./direct-read.js";
import { ADAPTER } from "./errors.js";
import type { H5File } from "./file-handle.js";
import { objectAddress } from "./header-patch.js";
import { decodeFill, MSG } from "./messages.js";
import type { H5Filter } from "./module.js";
import { ObjectHeader, readSuperblock } from "./object-header.js";

/** What the dataset knows about itself. */
export interface DirectCandidate {
	readonly path: string;
	readonly target: string;
	readonly shape: readonly number[];
	readonly maxshape: readonly number[] | null;
	readonly chunks: readonly number[] | null;
	readonly itemsize: number;
	readonly filters: readonly H5Filter[];
}

/** True when the dataset's pipeline and layout are ones {@link openDirect} may take. */
export function directEligible(c: DirectCandidate): boolean {
	return (
		c.chunks !== null &&
		c.chunks.length > 0 &&
		c.itemsize > 0 &&
		c.chunks.reduce((a, b) => a * b, c.itemsize) <= MAX_DIRECT_CHUNK_BYTES &&
		c.filters.length <= 32 &&
		c.filters.every((f) => DIRECT_FILTERS.has(f.id))
	);
}

/**
 * The direct reader of the dataset, or null when its chunk index is of a kind left to HDF5.
 * @throws {MalformedError} an inconsistent chunk index.
 */
export function openDirect(
	file: H5File,
	c: DirectCandidate,
): DirectReader | null {
	if (!directEligible(c) || c.chunks === null) return null;
	const chunks = c.chunks;
	const address = objectAddress(file, c.path);
	let fd: number;
	try {
		fd = openSync(file.path, "r");
	} catch (err) {
		throw fromNodeError(err, { adapter: ADAPTER, target: c.target });
	}
	try {
		const size = fstatSync(fd).size;
		const sb = readSuperblock(fd, size);
		const header = ObjectHeader.read(fd, sb, address);
		const layout = header.find(MSG.LAYOUT)[0];
		if (!layout) {
			closeSync(fd);
			return null;
		}
		const table = readChunkTable(
			fd,
			size,
			sb,
			layout.body,
			{
				shape: c.shape,
				maxshape: c.maxshape ?? c.shape,
				chunks,
				itemsize: c.itemsize,
				filters: c.filters.length,
			},
			c.target,
		);
		if (table === null) {
			closeSync(fd);
			return null;
		}
		const fillMsg = header.find(MSG.FILL)[0] ?? header.find(MSG.FILL_OLD)[0];
		const fill = fillMsg ? decodeFill(fillMsg.type, fillMsg.body) : null;
		// A fill value of another size than the element: HDF5 converts it; leave that to HDF5.
		if (fill !== null && fill.length !== c.itemsize) {
			closeSync(fd);
			return null;
		}
		return new DirectReader({
			target: c.target,
			fd,
			table,
			chunks,
			itemsize: c.itemsize,
			filters: c.filters.map((f) => ({
				id: f.id,
				elementSize: f.cd_values[0] ?? c.itemsize,
			})),
			fill,
		});
	} catch (err) {
		closeSync(fd);
		if (err instanceof ArrayStoreError) throw err;
		throw fromNodeError(err, { adapter: ADAPTER, target: c.target });
	}
}
