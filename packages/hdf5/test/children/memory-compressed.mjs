// Child process of memory-compressed.test.ts (plain JavaScript on the built package; see
// ../child.ts): writes a 512 MiB gzip + shuffle dataset to FILE block by block (chunks deflated
// ahead in the thread pool, taken by HDF5's redirected deflate), reads it back through two read
// workers (each with its own wasm heap), then directly (direct-read.ts), and prints one JSON
// line: the three sha256, how many chunks each path handled (and how many were unshuffled with
// SIMD), and the peak RSS after the write and at the end (workers included).
import { createHash } from "node:crypto";
import { parseDType } from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { hdf5Adapter } from "@arraystore/hdf5";
import { directReadStats } from "../../dist/direct-read.js";
import { nativeDeflateStats } from "../../dist/native-deflate.js";
import { readPoolStats } from "../../dist/read-pool.js";
import { writeRows } from "./write-rows.mjs";

const COLS = 4096;
const ROWS = 32768; // 512 MiB of float32
const CHUNKS = [256, 1024]; // 1 MiB chunks
const file = process.env.FILE;

// A smooth field plus small integer noise (compresses ~3x with shuffle + gzip), cheap to make.
const BASE = Float32Array.from(
	{ length: COLS },
	(_, c) => Math.round(Math.sin(c * 0.0031) * 2048) / 4,
);
function fillRows(out, firstRow) {
	for (let r = 0; r < out.length / COLS; r++) {
		const row = firstRow + r;
		const shift = (row % 97) * 0.25;
		for (let c = 0; c < COLS; c++)
			out[r * COLS + c] = BASE[c] + shift + ((row * 31 + c) % 5);
	}
}

/** Every block of the dataset, hashed; the store is closed whatever happens. */
async function readAll(options) {
	const hash = createHash("sha256");
	const s = await registry.open(`${file}#/data`, options);
	try {
		for await (const b of s.iterBlocks()) hash.update(b.bytes);
	} finally {
		await s.close();
	}
	return hash.digest("hex");
}

const registry = createRegistry([hdf5Adapter]);
const written = await writeRows(
	await registry.create(`${file}#/data`, {
		dtype: parseDType("<f4"),
		shape: [ROWS, COLS],
		chunks: CHUNKS,
		codecs: [{ name: "shuffle" }, { name: "gzip", config: { level: 1 } }],
	}),
	ROWS,
	COLS,
	fillRows,
);
const deflated = (await nativeDeflateStats()).taken;
const afterWrite = process.resourceUsage().maxRSS * 1024;

const viaWorkers = await readAll({
	adapterOptions: { readWorkers: 2, directChunks: false },
});
const workerReads = readPoolStats().reads;
const direct = await readAll();
process.stdout.write(
	`${JSON.stringify({
		expected: written.sha256,
		viaWorkers,
		direct,
		deflated,
		workerReads,
		directChunks: directReadStats().chunks,
		directSimd: directReadStats().simd,
		afterWrite,
		peak: process.resourceUsage().maxRSS * 1024,
	})}\n`,
);
