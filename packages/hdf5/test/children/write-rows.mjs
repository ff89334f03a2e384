// Shared by the memory children: writes a new float32 [rows, cols] store block by block (its
// own block shape), each block filled by `fillRows(part, firstRow)`, and closes it whatever
// happens. Returns the sha256 of every byte written and the bytes of one full block.
import { createHash } from "node:crypto";

export async function writeRows(store, rows, cols, fillRows) {
	const hash = createHash("sha256");
	const step = store.info.blockShape[0];
	try {
		const block = new Float32Array(step * cols);
		for (let r = 0; r < rows; r += step) {
			const n = Math.min(step, rows - r);
			const part = n === step ? block : block.subarray(0, n * cols);
			fillRows(part, r);
			hash.update(
				new Uint8Array(part.buffer, part.byteOffset, part.byteLength),
			);
			await store.write([{ start: r, stop: r + n }], part);
		}
	} finally {
		await store.close();
	}
	return { sha256: hash.digest("hex"), blockBytes: step * cols * 4 };
}
