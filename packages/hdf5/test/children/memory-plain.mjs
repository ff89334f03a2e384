// Child process of memory.test.ts (plain JavaScript on the built package; see ../child.ts):
// writes an uncompressed chunked dataset of ROWS × 16384 float32 (4 MiB chunks) to FILE block
// by block, reads it back with iterBlocks, and prints one JSON line: sha256 of what it wrote
// and of what it read, the block counts, the file size and its peak RSS.
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { parseDType } from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { hdf5Adapter } from "@arraystore/hdf5";
import { writeRows } from "./write-rows.mjs";

const COLS = 16384; // 64 KiB rows of float32
const CHUNK_ROWS = 64;
const ROWS = Number(process.env.ROWS);
const file = process.env.FILE;

function fillRows(out, firstRow) {
	out.fill(0);
	for (let r = 0; r < out.length / COLS; r++) {
		const base = (firstRow + r) * 7;
		for (let c = 0; c < COLS; c += 1024) out[r * COLS + c] = base + c;
	}
}

const registry = createRegistry([hdf5Adapter]);
const written = await writeRows(
	await registry.create(`${file}#/data`, {
		dtype: parseDType("<f4"),
		shape: [ROWS, COLS],
		chunks: [CHUNK_ROWS, COLS],
	}),
	ROWS,
	COLS,
	fillRows,
);
const afterWrite = process.resourceUsage().maxRSS * 1024;

const got = createHash("sha256");
let blocks = 0;
const s = await registry.open(`${file}#/data`);
try {
	for await (const b of s.iterBlocks()) {
		got.update(b.bytes);
		blocks++;
	}
} finally {
	await s.close();
}
process.stdout.write(
	`${JSON.stringify({
		expected: written.sha256,
		got: got.digest("hex"),
		writeBlockBytes: written.blockBytes,
		blocks,
		fileSize: statSync(file).size,
		afterWrite,
		peak: process.resourceUsage().maxRSS * 1024,
	})}\n`,
);
