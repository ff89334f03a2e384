/**
 * Positional reads from a file handle, the one loop every reader in this package shares: it
 * retries short reads and stops at the end of the file, translating OS errors.
 */
import type { FileHandle } from "node:fs/promises";
import { type ErrorDetails, fromNodeError } from "@arraystore/core";

/**
 * Reads `n` bytes at `pos`: exactly `n`, or fewer only at the end of the file.
 * @throws {IoError | NotFoundError} an OS error (with `details`).
 */
export async function readAt(
	fh: FileHandle,
	pos: number,
	n: number,
	details: ErrorDetails = {},
): Promise<Uint8Array> {
	const out = new Uint8Array(n);
	let got = 0;
	try {
		while (got < n) {
			const r = await fh.read(out, got, n - got, pos + got);
			if (r.bytesRead === 0) break;
			got += r.bytesRead;
		}
	} catch (err) {
		throw fromNodeError(err, details);
	}
	return got === n ? out : out.subarray(0, got);
}
