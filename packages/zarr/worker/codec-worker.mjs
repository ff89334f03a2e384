// Worker thread entry: runs codec tasks from the pool in src/worker-pool.ts. Plain JavaScript
// (see codec-kernel.mjs for why). Results are transferred, never copied.
import { parentPort } from "node:worker_threads";
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

parentPort.on("message", async (msg) => {
	try {
		const out = owned(await runTask(msg));
		parentPort.postMessage({ id: msg.id, ok: true, bytes: out }, [out.buffer]);
	} catch (err) {
		parentPort.postMessage({
			id: msg.id,
			ok: false,
			kind: err?.kind ?? "error",
			message: err?.message ?? String(err),
		});
	}
});
