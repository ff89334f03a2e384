/**
 * File helpers shared by adapters and the copy engine: atomic replace (temporary sibling, then
 * rename), so a failed write never leaves something that looks complete.
 */
import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fromNodeError } from "../errors.js";

/** A unique temporary sibling of `path` (same directory, so rename is atomic). */
export function tempSibling(path: string, tag = "tmp"): string {
	return join(
		dirname(path),
		`.${basename(path)}.${tag}-${randomBytes(4).toString("hex")}`,
	);
}

/**
 * Writes `bytes` to `path` atomically: a temporary sibling is written (and fsynced when
 * `durable`), then renamed over `path`.
 */
export async function writeFileAtomic(
	path: string,
	bytes: Uint8Array,
	options: { readonly durable?: boolean } = {},
): Promise<void> {
	const tmp = tempSibling(path);
	try {
		const fh = await open(tmp, "w");
		try {
			await fh.writeFile(bytes);
			if (options.durable) await fh.sync();
		} finally {
			await fh.close();
		}
		await rename(tmp, path);
	} catch (err) {
		await rm(tmp, { force: true }).catch(() => {});
		throw fromNodeError(err, { target: path });
	}
}
