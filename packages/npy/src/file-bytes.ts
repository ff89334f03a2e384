/**
 * Positional file I/O shared by the npy and npz readers and writers: opening with translated
 * OS errors, whole-buffer reads and writes, filling a range with one repeated element, and
 * moving a range towards the end of the file, all in bounded chunks.
 */
import { type FileHandle, open } from "node:fs/promises";
import { type ErrorDetails, fromNodeError } from "@arraystore/core";

const FILL_CHUNK = 1024 * 1024;
const MOVE_CHUNK = 8 * 1024 * 1024;

/**
 * Opens `path` with `flags` (new files get mode 0o666).
 * @throws {NotFoundError | AlreadyExistsError | IoError} the OS error, with `details`.
 */
export async function openFile(
	path: string,
	flags: string,
	details: ErrorDetails,
): Promise<FileHandle> {
	try {
		return await open(path, flags, 0o666);
	} catch (err) {
		throw fromNodeError(err, details);
	}
}

/**
 * Fills all of `into` from `position`; `eof(at)` is thrown when the file ends at `at` first.
 */
export async function readFully(
	fh: FileHandle,
	into: Uint8Array,
	position: number,
	eof: (at: number) => Error,
): Promise<void> {
	let done = 0;
	while (done < into.length) {
		const { bytesRead } = await fh.read(
			into,
			done,
			into.length - done,
			position + done,
		);
		if (bytesRead === 0) throw eof(position + done);
		done += bytesRead;
	}
}

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

/** {@link writeAt}, translating OS errors with `details`. */
export async function writeAll(
	fh: FileHandle,
	bytes: Uint8Array,
	position: number,
	details: ErrorDetails,
): Promise<void> {
	try {
		await writeAt(fh, bytes, position);
	} catch (err) {
		throw fromNodeError(err, details);
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

/** Copies `length` bytes from `from` to a larger offset `to`, last chunk first (the ranges overlap). */
export async function moveBytes(
	fh: FileHandle,
	from: number,
	to: number,
	length: number,
	details: ErrorDetails,
): Promise<void> {
	const buf = new Uint8Array(Math.min(MOVE_CHUNK, Math.max(1, length)));
	for (let end = length; end > 0; ) {
		const start = Math.max(0, end - buf.length);
		const n = end - start;
		let got = 0;
		while (got < n) {
			const { bytesRead } = await fh.read(
				buf,
				got,
				n - got,
				from + start + got,
			);
			if (bytesRead === 0) break;
			got += bytesRead;
		}
		await writeAll(fh, buf.subarray(0, n), to + start, details);
		end = start;
	}
}
