// Chunk reads inside a codec worker, the counterpart of chunk-writer.mjs: the main thread hands
// over the result box (a SharedArrayBuffer, written in place) and a list of chunk files with the
// part of each the box wants; per chunk this reads the file with synchronous calls, decodes it
// through the chain (every decoder capped by `limits`, as on the main thread) and copies the
// wanted part into the box, or the fill value where the chunk is missing.
//
// Plain JavaScript (see codec-kernel.mjs for why). Message and reply shapes: src/batch-read.ts.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { give, take } from "./buffer-pool.mjs";
import { copyBox, fillBox, fsError, lanes } from "./chunk-writer.mjs";
import { decodeChain } from "./codec-kernel.mjs";

function malformed(message) {
	const e = new Error(message);
	e.kind = "malformed";
	return e;
}

// The bytes of the file at `path` in a pooled buffer, or null when it does not exist.
function readWhole(path) {
	let fd;
	try {
		fd = openSync(path, "r");
	} catch (err) {
		const c = err?.code;
		if (c === "ENOENT" || c === "EISDIR" || c === "ENOTDIR") return null;
		throw fsError(err, path);
	}
	try {
		const { size } = fstatSync(fd);
		const out = take(size);
		let got = 0;
		while (got < size) {
			const n = readSync(fd, out, got, size - got, got);
			if (n === 0) break;
			got += n;
		}
		return got === size ? out : out.subarray(0, got);
	} catch (err) {
		throw fsError(err, path);
	} finally {
		closeSync(fd);
	}
}

/**
 * Runs one read batch: `{ buffer, byteOffset, byteLength, itemsize, boxStrides, unitStrides,
 * chunkBytes, chain, limits, native, fill, items: [{ path, src, dst, shape }] }` (`src`: element
 * offset of the wanted part in the chunk, `dst`: in the box).
 */
export async function runRead(msg) {
	const out = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
	await lanes(msg.items.length, async (i) => {
		const item = msg.items[i];
		const enc = readWhole(item.path);
		if (enc === null) {
			fillBox(out, item.dst, msg.boxStrides, item.shape, msg.fill);
			return;
		}
		let raw = enc;
		try {
			if (msg.chain.length > 0)
				raw = await decodeChain(msg.chain, enc, msg.limits, msg.native ?? true);
			if (raw.length !== msg.chunkBytes)
				throw malformed(
					`chunk decodes to ${raw.length} bytes, expected ${msg.chunkBytes}`,
				);
			copyBox(
				raw,
				item.src,
				msg.unitStrides,
				out,
				msg.boxStrides,
				item.shape,
				msg.itemsize,
				item.dst,
			);
		} finally {
			if (raw !== enc) give(raw);
			give(enc);
		}
	});
}
