// Whole-chunk and whole-shard writes inside a codec worker: the main thread hands over a box of
// array bytes (a SharedArrayBuffer, shared, not copied) and a list of chunks lying wholly inside
// it; per chunk this extracts the chunk into a reused scratch buffer, skips it when it equals
// the fill value, encodes it through the chain and writes the file with synchronous calls
// (temporary file beside it, then rename: never a torn chunk). The main thread then does almost
// nothing per chunk, and no garbage per chunk lands on its heap.
//
// Plain JavaScript (see codec-kernel.mjs for why). Message and reply shapes: src/batch-write.ts.
import { randomBytes } from "node:crypto";
import {
	closeSync,
	mkdirSync,
	openSync,
	renameSync,
	rmSync,
	unlinkSync,
	writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { compact, give } from "./buffer-pool.mjs";
import { crc32c, encodeChain } from "./codec-kernel.mjs";

// Chunks of one batch encoded at once: one encodes on libuv's pool while the other is copied
// out or written.
const LANES = 2;
// Sharded writes: one more, so a lane's chunk is always compressing while a shard is written.
const SHARD_LANES = 3;
const EMPTY = 0xffffffffffffffffn;

// Per-thread scratch buffers (one per lane), reused while the chunk size stays the same; ones
// above SCRATCH_KEPT bytes are dropped after each batch, so big chunks do not pin memory.
const scratch = [];
const SCRATCH_KEPT = 8 * 1024 * 1024;

function scratchFor(lane, n) {
	let b = scratch[lane];
	if (!b || b.length !== n) {
		b = new Uint8Array(n);
		scratch[lane] = b;
	}
	return b;
}

/**
 * Copies a box of `shape` elements from `src` (element strides `ss`, element offset `sb`) into
 * `dst` (element strides `ds`, element offset `db`). Dimensions contiguous in both merge into
 * one run.
 */
export function copyBox(src, sb, ss, dst, ds, shape, itemsize, db = 0) {
	const dims = [];
	for (let d = 0; d < shape.length; d++) if (shape[d] !== 1) dims.push(d);
	dims.sort((a, b) => ds[a] - ds[b]);
	let run = 1;
	let k = 0;
	while (k < dims.length && ss[dims[k]] === run && ds[dims[k]] === run) {
		run *= shape[dims[k]];
		k++;
	}
	const outer = dims.slice(k);
	const runBytes = run * itemsize;
	const idx = outer.map(() => 0);
	let s = sb;
	let t = db;
	for (;;) {
		const from = s * itemsize;
		dst.set(src.subarray(from, from + runBytes), t * itemsize);
		let j = 0;
		for (; j < outer.length; j++) {
			const d = outer[j];
			idx[j]++;
			s += ss[d];
			t += ds[d];
			if (idx[j] < shape[d]) break;
			s -= ss[d] * shape[d];
			t -= ds[d] * shape[d];
			idx[j] = 0;
		}
		if (j === outer.length) return;
	}
}

/**
 * Sets a box of `shape` elements of `dst` (element strides `ds`, element offset `db`) to the
 * element `fill`, run by run.
 */
export function fillBox(dst, db, ds, shape, fill) {
	const itemsize = fill.length;
	const dims = [];
	for (let d = 0; d < shape.length; d++) if (shape[d] !== 1) dims.push(d);
	dims.sort((a, b) => ds[a] - ds[b]);
	let run = 1;
	let k = 0;
	while (k < dims.length && ds[dims[k]] === run) {
		run *= shape[dims[k]];
		k++;
	}
	const outer = dims.slice(k);
	const runBytes = run * itemsize;
	const uniform = fill.every((b) => b === fill[0]);
	const idx = outer.map(() => 0);
	let t = db;
	for (;;) {
		const at = t * itemsize;
		if (uniform) dst.fill(fill[0] ?? 0, at, at + runBytes);
		else {
			dst.set(fill, at);
			// Doubling copies: log(n) calls instead of one per element.
			for (let done = itemsize; done < runBytes; done *= 2)
				dst.copyWithin(at + done, at, at + Math.min(done, runBytes - done));
		}
		let j = 0;
		for (; j < outer.length; j++) {
			const d = outer[j];
			idx[j]++;
			t += ds[d];
			if (idx[j] < shape[d]) break;
			t -= ds[d] * shape[d];
			idx[j] = 0;
		}
		if (j === outer.length) return;
	}
}

/** True when every element of `buf` equals `fill` (one element's bytes). */
function isAllFill(buf, fill) {
	const w = fill.length;
	if (fill.every((b) => b === 0)) {
		let i = 0;
		if (buf.byteOffset % 4 === 0) {
			const n4 = buf.length >> 2;
			const words = new Uint32Array(buf.buffer, buf.byteOffset, n4);
			for (let k = 0; k < n4; k++) if (words[k] !== 0) return false;
			i = n4 << 2;
		}
		for (; i < buf.length; i++) if (buf[i] !== 0) return false;
		return true;
	}
	for (let i = 0; i < buf.length; i += w)
		for (let b = 0; b < w; b++) if (buf[i + b] !== fill[b]) return false;
	return true;
}

/** An error the main thread maps with core's fromNodeError (`kind` "fs"). */
export function fsError(err, path) {
	const e = new Error(err?.message ?? String(err));
	e.kind = "fs";
	e.code = err?.code;
	e.syscall = err?.syscall;
	e.path = path;
	return e;
}

// Temporary names: a random tag per thread and a counter (one random draw per file cost
// ~20 µs each, for nothing more unique).
const TMP_TAG = `${process.pid}.${randomBytes(6).toString("hex")}`;
let tmpCount = 0;

/** Writes `parts` one after the other as the file `path`, atomically (tmp file + rename). */
function writeAtomic(path, parts) {
	const dir = dirname(path);
	const tmp = join(
		dir,
		`.${basename(path)}.${TMP_TAG}.${(tmpCount++).toString(36)}.partial`,
	);
	let fd;
	try {
		try {
			fd = openSync(tmp, "w");
		} catch (err) {
			// The directory is usually there: create it only when the first open says so.
			if (err?.code !== "ENOENT") throw err;
			mkdirSync(dir, { recursive: true });
			fd = openSync(tmp, "w");
		}
		for (const p of parts) {
			let at = 0;
			while (at < p.length) at += writeSync(fd, p, at, p.length - at);
		}
		closeSync(fd);
		fd = undefined;
		renameSync(tmp, path);
	} catch (err) {
		if (fd !== undefined) {
			try {
				closeSync(fd);
			} catch {}
		}
		rmSync(tmp, { force: true });
		throw fsError(err, path);
	}
}

function remove(path) {
	try {
		unlinkSync(path);
	} catch (err) {
		const c = err?.code;
		if (c === "ENOENT" || c === "EISDIR" || c === "ENOTDIR") return;
		throw fsError(err, path);
	}
}

// Extracts and encodes one chunk at element offset `base` of the box; null when it is empty.
// The result may be the lane's scratch buffer (empty chain): use it before the lane goes on.
async function encodeOne(msg, src, lane, base) {
	const raw = scratchFor(lane, msg.chunkBytes);
	copyBox(
		src,
		base,
		msg.boxStrides,
		raw,
		msg.unitStrides,
		msg.unit,
		msg.itemsize,
	);
	if (msg.fill && isAllFill(raw, msg.fill)) return null;
	return encodeChain(msg.chain, raw, msg.native ?? true);
}

// Runs `fn(i, lane)` for i in [0, n) on `width` lanes; the first failure wins after all settle.
export async function lanes(n, fn, width = LANES) {
	let next = 0;
	let failure;
	const lane = async (l) => {
		while (failure === undefined && next < n) {
			const i = next++;
			try {
				await fn(i, l);
			} catch (err) {
				failure ??= { err };
			}
		}
	};
	await Promise.all(
		Array.from({ length: Math.min(width, n) }, (_, l) => lane(l)),
	);
	if (failure) throw failure.err;
}

async function writeChunks(msg, src, results) {
	await lanes(msg.items.length, async (i, l) => {
		const item = msg.items[i];
		const enc = await encodeOne(msg, src, l, item.base);
		if (enc === null) {
			remove(item.path);
			results[i] = -1;
			return;
		}
		try {
			writeAtomic(item.path, [enc]);
		} finally {
			give(enc);
		}
		results[i] = enc.length;
	});
}

function shardIndex(shard, parts, dataStart) {
	const count = parts.length;
	const index = new Uint8Array(count * 16 + (shard.crc ? 4 : 0));
	const view = new DataView(index.buffer);
	const le = shard.littleEndian;
	let at = dataStart;
	for (let i = 0; i < count; i++) {
		const p = parts[i];
		if (!p) {
			view.setBigUint64(i * 16, EMPTY, le);
			view.setBigUint64(i * 16 + 8, EMPTY, le);
			continue;
		}
		view.setBigUint64(i * 16, BigInt(at), le);
		view.setBigUint64(i * 16 + 8, BigInt(p.length), le);
		at += p.length;
	}
	if (shard.crc)
		view.setUint32(count * 16, crc32c(index.subarray(0, count * 16)), true);
	return index;
}

// Every chunk of every shard of the batch goes through the same lanes (no wait at the end of
// each shard), and a shard is put together and written as soon as its last chunk is encoded:
// while this thread writes one shard, libuv's pool keeps compressing chunks of the next.
async function writeShards(msg, src, results) {
	const shard = msg.shard;
	const jobs = [];
	for (let s = 0; s < msg.items.length; s++)
		for (let k = 0; k < msg.items[s].bases.length; k++) jobs.push([s, k]);
	const parts = msg.items.map((it) => new Array(it.bases.length).fill(null));
	const left = msg.items.map((it) => it.bases.length);
	const finish = (s) => {
		const item = msg.items[s];
		const mine = parts[s];
		try {
			if (mine.every((p) => p === null)) {
				remove(item.path);
				results[s] = -1;
				return;
			}
			const ib = mine.length * 16 + (shard.crc ? 4 : 0);
			const atStart = shard.indexLocation === "start";
			const index = shardIndex(shard, mine, atStart ? ib : 0);
			const data = mine.filter((p) => p !== null);
			writeAtomic(item.path, atStart ? [index, ...data] : [...data, index]);
			results[s] = data.reduce((n, p) => n + p.length, ib);
		} finally {
			for (const p of mine) if (p) give(p);
			parts[s] = null;
		}
	};
	try {
		await lanes(
			jobs.length,
			async (j, l) => {
				const [s, k] = jobs[j];
				let enc = await encodeOne(msg, src, l, msg.items[s].bases[k]);
				// A codec-less chain hands back the scratch buffer itself: keep a copy. Encoded
				// chunks wait for the rest of their shard: each in a buffer of its own size,
				// not of the encoder's bound.
				if (enc && enc.buffer === scratch[l]?.buffer) enc = enc.slice();
				else if (enc) enc = compact(enc);
				parts[s][k] = enc;
				if (--left[s] === 0) finish(s);
			},
			SHARD_LANES,
		);
	} finally {
		// Shards left unfinished by a failure give their encoded chunks back.
		for (const mine of parts) if (mine) for (const p of mine) if (p) give(p);
	}
}

/**
 * Runs one write batch: `{ buffer, byteOffset, byteLength, itemsize, boxStrides, unit,
 * unitStrides, chunkBytes, chain, native, fill, items, shard }`. Fills `results` per item with
 * the bytes stored, or -1 when the chunk (shard) was empty and its file removed; on failure the
 * items done so far are there (null for the others).
 */
export async function runWrite(msg, results) {
	const src = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
	try {
		if (msg.shard) await writeShards(msg, src, results);
		else await writeChunks(msg, src, results);
	} finally {
		for (let l = 0; l < scratch.length; l++)
			if ((scratch[l]?.length ?? 0) > SCRATCH_KEPT) scratch[l] = undefined;
	}
}
