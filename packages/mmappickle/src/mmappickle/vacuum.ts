/**
 * `vacuum`: drops dead frames (deleted and overwritten entries, alignment tombstones) by moving
 * every live frame backwards, then truncates, rewrites the terminator and resets the commit
 * number (to 0, or to 1 when it already was 0, so that it always changes). Offsets of live
 * arrays change: never vacuum a file that is open elsewhere.
 */
import { open } from "node:fs/promises";
import { fromNodeError } from "@arraystore/core";
import { readLayout } from "./entries.js";
import { COMMIT_OFFSET, TERMINATOR } from "./format.js";

const CHUNK = 1 << 20;

/** Result of {@link vacuumMmappickle}. */
export interface VacuumResult {
	readonly bytesBefore: number;
	readonly bytesAfter: number;
	readonly removedFrames: number;
}

/**
 * Compacts an mmappickle file in place.
 * @throws {NotFoundError} missing file.
 * @throws {MalformedError | TruncatedError | UnsupportedVersionError} not a valid mmappickle file (nothing is written).
 */
export async function vacuumMmappickle(path: string): Promise<VacuumResult> {
	let fh: Awaited<ReturnType<typeof open>>;
	try {
		fh = await open(path, "r+");
	} catch (err) {
		throw fromNodeError(err, { target: path, adapter: "mmappickle" });
	}
	try {
		const size = (await fh.stat()).size;
		const layout = await readLayout(fh, size);
		let w = 24;
		const buf = new Uint8Array(CHUNK);
		for (const e of layout.entries) {
			const len = 9 + e.frameLength;
			if (e.live && e.offset !== w) {
				for (let done = 0; done < len; done += CHUNK) {
					const n = Math.min(CHUNK, len - done);
					const r = await fh.read(buf, 0, n, e.offset + done);
					await fh.write(buf, 0, r.bytesRead, w + done);
				}
			}
			if (e.live) w += len;
		}
		await fh.write(TERMINATOR, 0, TERMINATOR.length, w);
		await fh.truncate(w + TERMINATOR.length);
		const commit = new Uint8Array(4);
		new DataView(commit.buffer).setInt32(0, layout.commit === 0 ? 1 : 0, true);
		await fh.write(commit, 0, 4, COMMIT_OFFSET);
		return {
			bytesBefore: size,
			bytesAfter: w + TERMINATOR.length,
			removedFrames: layout.entries.filter((e) => !e.live).length,
		};
	} catch (err) {
		throw fromNodeError(err, { target: path, adapter: "mmappickle" });
	} finally {
		await fh.close().catch(() => {});
	}
}
