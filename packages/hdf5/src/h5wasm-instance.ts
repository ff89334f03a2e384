/**
 * Instantiates h5wasm's Emscripten module ourselves (its `dist/node/hdf5_util.js` factory, the
 * one `h5wasm/node` calls at import) so that we also get the module's import object, which
 * holds the wasm function table (native-deflate.ts puts its filter there), and the compiled
 * module (read workers instantiate it without compiling again). Emscripten offers no handle on
 * either, so `WebAssembly.instantiate` is wrapped for the duration of the factory call and the
 * first call that carries Emscripten's dynamic-linking imports is recorded (and passed on
 * unchanged). If anything here fails, `h5wasm/node` is used as before, with HDF5's own deflate.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { H5Api } from "./module.js";

/** The module, and its import object when it could be captured. */
export interface H5Instance {
	readonly api: H5Api;
	readonly env: Record<string, unknown> | null;
	/** The compiled wasm module and the factory's path: workers instantiate it without compiling. */
	readonly shared: SharedWasm | null;
}

/** What a worker needs to instantiate h5wasm from main's compiled module. */
export interface SharedWasm {
	readonly factory: string;
	readonly module: unknown;
}

type Factory = (options: Record<string, unknown>) => Promise<unknown>;

// h5wasm's package exports only its high-level entry points; the factory sits beside them.
function factoryPath(): string | null {
	const require = createRequire(import.meta.url);
	for (const dir of require.resolve.paths("h5wasm") ?? []) {
		const file = join(dir, "h5wasm", "dist", "node", "hdf5_util.js");
		if (existsSync(file)) return file;
	}
	return null;
}

// The global WebAssembly object (this package's TypeScript libs do not declare it).
interface Wasm {
	instantiate: (
		source: unknown,
		imports?: Record<string, unknown>,
	) => Promise<unknown>;
}
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

async function captured(file: string): Promise<H5Instance | null> {
	const mod = (await import(pathToFileURL(file).href)) as { default?: Factory };
	const factory = mod.default;
	if (typeof factory !== "function") return null;
	const original = wasm.instantiate;
	let env: Record<string, unknown> | null = null;
	let module: unknown = null;
	const wrapper = (
		source: unknown,
		imports?: Record<string, unknown>,
	): Promise<unknown> => {
		const e = imports?.env as Record<string, unknown> | undefined;
		if (env === null && e !== undefined && imports && "GOT.mem" in imports) {
			env = e;
			wasm.instantiate = original;
			return original.call(wasm, source, imports).then((r) => {
				module = (r as { module?: unknown }).module ?? null;
				return r;
			});
		}
		return original.call(wasm, source, imports);
	};
	wasm.instantiate = wrapper;
	try {
		const api = (await factory({ noInitialRun: true })) as H5Api;
		return {
			api,
			env,
			shared: module === null ? null : { factory: file, module },
		};
	} finally {
		if (wasm.instantiate === wrapper) wasm.instantiate = original;
	}
}

/** Loads h5wasm, capturing its import object when possible. */
export async function instantiateH5wasm(): Promise<H5Instance> {
	const file = factoryPath();
	if (file !== null) {
		try {
			const got = await captured(file);
			if (got) return got;
		} catch {
			// fall through to the public entry point
		}
	}
	const h5wasm = await import("h5wasm/node");
	return {
		api: (await h5wasm.ready) as unknown as H5Api,
		env: null,
		shared: null,
	};
}
