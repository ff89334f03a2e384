// One worker of the HDF5 read pool (src/read-pool.ts). Plain JavaScript: Node 20 cannot load
// TypeScript in worker threads. The worker holds its own h5wasm instance (its own wasm heap),
// opens one file read-only and serves hyperslab reads: { id, path, start, shape, nbytes } →
// { id, bytes } with the ArrayBuffer transferred, or { id, error }.
import { parentPort, workerData } from "node:worker_threads";
import { installNativeDeflate, setInflateHint } from "./native-deflate.mjs";

const { file, pluginDir, maxBytes } = workerData;
let api;
let fileId;
let scratchPtr = 0;
let scratchSize = 0;
let native = false;

// One heap buffer reused for every read: the wasm heap never shrinks, so a steady buffer keeps
// this worker's heap at the largest piece instead of fragmenting it.
function scratch(n) {
	if (n <= scratchSize) return scratchPtr;
	if (scratchPtr !== 0) api._free(scratchPtr);
	scratchPtr = 0;
	scratchSize = 0;
	const ptr = api._malloc(n);
	if (ptr === 0)
		throw new Error(`the HDF5 wasm heap cannot allocate ${n} bytes`);
	scratchPtr = ptr;
	scratchSize = n;
	return ptr;
}

function read({ path, start, shape, nbytes, hint, buffer }) {
	if (!(Number.isSafeInteger(nbytes) && nbytes > 0 && nbytes <= maxBytes))
		throw new Error(`read of ${nbytes} bytes refused (limit ${maxBytes})`);
	const ptr = scratch(nbytes);
	if (native) setInflateHint(hint);
	api.get_dataset_data(
		fileId,
		path,
		shape.map(BigInt),
		start.map(BigInt),
		shape.map(() => 1n),
		BigInt(ptr),
	);
	// The pool lends a buffer to fill (transferred both ways): no allocation per read.
	const out =
		buffer instanceof ArrayBuffer && buffer.byteLength >= nbytes
			? buffer
			: new ArrayBuffer(nbytes);
	new Uint8Array(out, 0, nbytes).set(api.HEAPU8.subarray(ptr, ptr + nbytes));
	return out;
}

// h5wasm from main's compiled module when given (no compile, shared code, and the import
// object at hand, so HDF5's deflate can run Node's zlib), else h5wasm's own entry point.
async function load() {
	const { factory, module } = workerData;
	if (factory && module) {
		const { pathToFileURL } = await import("node:url");
		const { default: create } = await import(pathToFileURL(factory).href);
		let env = null;
		const instance = await create({
			noInitialRun: true,
			instantiateWasm(imports, done) {
				env = imports.env;
				WebAssembly.instantiate(module, imports).then((inst) =>
					done(inst, module),
				);
				return {};
			},
		});
		// Before any other HDF5 call (see native-deflate.mjs).
		native = env !== null && installNativeDeflate(instance, env);
		return instance;
	}
	const h5wasm = await import("h5wasm/node");
	return h5wasm.ready;
}

try {
	api = await load();
	api.activate_throwing_error_handler();
	if (pluginDir) api.insert_plugin_search_path(pluginDir, 0);
	fileId = api.open(file, api.H5F_ACC_RDONLY, false, -1, -1);
	if (fileId < 0n) throw new Error(`H5Fopen returned ${fileId}`);
	parentPort.postMessage({ ready: true, native });
} catch (err) {
	parentPort.postMessage({ failed: String(err?.message ?? err) });
}

parentPort.on("message", (task) => {
	if (fileId === undefined) return;
	try {
		const buffer = read(task);
		parentPort.postMessage({ id: task.id, buffer }, [buffer]);
	} catch (err) {
		parentPort.postMessage({
			id: task.id,
			error: String(err?.message ?? err).slice(0, 4000),
		});
	}
});
