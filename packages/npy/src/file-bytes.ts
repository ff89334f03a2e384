/**
 * Positional file writes shared by the npy and npz writers: whole-buffer writes and filling a
 * range with one repeated element, in bounded chunks.
 */
import type { FileHandle } from "node:fs/promises";

const FILL_CHUNK = 1024 * 1024;

/** Writes all of `bytes` at `position`. */
export async function writeAt(
	fh: FileHandle,
	bytes: Uint8Array,
	position: number,
): Promise<void> {
	for (let done = 0; done < bytes.length; ) {
		const { bytesWritten } = await fh.write(
			bytes,
			done,
			bytes.length - done,
			position + done,
		);
		done += bytesWritten;
	}
}

/** Writes `element` repeatedly over `nbytes` bytes at `position` (nothing for an all-zero element: the range is already zeros). */
export async function fillRange(
	fh: FileHandle,
	position: number,
	nbytes: number,
	element: Uint8Array,
	signal?: AbortSignal,
): Promise<void> {
	if (nbytes === 0 || element.every((b) => b === 0)) return;
	const per = Math.max(1, Math.floor(FILL_CHUNK / element.length));
	const pattern = new Uint8Array(per * element.length);
	for (let i = 0; i < per; i++) pattern.set(element, i * element.length);
	for (let done = 0; done < nbytes; done += pattern.length) {
		signal?.throwIfAborted();
		await writeAt(
			fh,
			pattern.subarray(0, Math.min(pattern.length, nbytes - done)),
			position + done,
		);
	}
}
