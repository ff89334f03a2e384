// Worker thread entry: runs codec tasks and chunk write batches from the pool in
// src/worker-pool.ts. Plain JavaScript (see codec-kernel.mjs for why). Results are
// transferred, never copied.
import { parentPort } from "node:worker_threads";
import { runRead } from "./chunk-reader.mjs";
import { runWrite } from "./chunk-writer.mjs";
import { runTask } from "./codec-kernel.mjs";

function owned(bytes) {
	// Transfer needs a buffer we own whole; zlib's Buffers may share theirs.
	if (
		bytes.byteOffset === 0 &&
		bytes.byteLength === bytes.buffer.byteLength &&
		!(bytes.buffer instanceof SharedArrayBuffer)
	)
		return bytes;
	const copy = new Uint8Array(bytes.length);
	copy.set(bytes);
	return copy;
}

function failure(id, err, results) {
	return {
		results,
		id,
		ok: false,
		kind: err?.kind ?? "error",
		message: err?.message ?? String(err),
		code: err?.code,
		syscall: err?.syscall,
		path: err?.path,
	};
}

parentPort.on("message", async (msg) => {
	if (msg.op === "write") {
		const results = new Array(msg.items.length).fill(null);
		try {
			await runWrite(msg, results);
			parentPort.postMessage({ id: msg.id, ok: true, results });
		} catch (err) {
			parentPort.postMessage(failure(msg.id, err, results));
		}
		return;
	}
	if (msg.op === "read") {
		try {
			await runRead(msg);
			parentPort.postMessage({ id: msg.id, ok: true });
		} catch (err) {
			parentPort.postMessage(failure(msg.id, err));
		}
		return;
	}
	try {
		const out = owned(await runTask(msg));
		parentPort.postMessage({ id: msg.id, ok: true, bytes: out }, [out.buffer]);
	} catch (err) {
		parentPort.postMessage(failure(msg.id, err));
	}
});
