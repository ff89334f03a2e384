/**
 * The h5wasm module, loaded lazily once per process: the throwing error handler is switched
 * on (HDF5 otherwise only prints its diagnostics), and the h5wasm-plugins filters are put on
 * the plugin search path. Everything that touches h5wasm's internal (module-level) API goes
 * through the narrow {@link H5Api} type declared here, so a version bump shows up in one file.
 */
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Metadata } from "h5wasm/node";
import { instantiateH5wasm, type SharedWasm } from "./h5wasm-instance.js";
import { installNativeDeflate } from "./native-deflate.js";

/** One filter of a dataset's pipeline, as h5wasm reports it. */
export interface H5Filter {
	readonly id: number;
	readonly name: string;
	readonly cd_values: readonly number[];
}

/** Metadata h5wasm passes to its create calls. */
export interface H5WriteMetadata {
	readonly type: number;
	readonly size: number;
	readonly signed: boolean;
	readonly vlen: boolean;
	readonly littleEndian: boolean;
	readonly cset?: number;
	readonly compound_type?: {
		readonly nmembers: number;
		readonly members: readonly (H5WriteMetadata & {
			readonly name: string;
			readonly offset: number;
		})[];
	};
	readonly shape?: readonly bigint[];
	readonly maxshape?: readonly bigint[] | null;
	readonly chunks?: readonly bigint[] | null;
	readonly compression?: number;
	readonly compression_opts?: readonly number[];
	readonly track_order?: boolean;
}

/** The part of the Emscripten module (h5wasm 0.10.3) this package uses. */
export interface H5Api {
	readonly HEAPU8: Uint8Array;
	readonly MAXIMUM_MEMORY: number;
	_malloc(n: number): number;
	_free(ptr: number): void;
	_H5allocate_memory(size: number, clear: number): number;
	_H5free_memory(ptr: number): number;
	open(
		path: string,
		mode: number,
		trackOrder: boolean,
		libverLow: number,
		libverHigh: number,
	): bigint;
	close_file(fileId: bigint): number;
	flush(fileId: bigint): number;
	get_type(fileId: bigint, path: string): number;
	get_names(fileId: bigint, path: string, recursive: boolean): string[];
	get_symbolic_link(fileId: bigint, path: string): string | null;
	get_external_link(
		fileId: bigint,
		path: string,
	): { filename?: string; obj_path?: string };
	get_dataset_metadata(fileId: bigint, path: string): Metadata;
	get_dataset_filters(fileId: bigint, path: string): H5Filter[];
	get_dataset_data(
		fileId: bigint,
		path: string,
		count: bigint[] | null,
		offset: bigint[] | null,
		strides: bigint[] | null,
		ptr: bigint,
	): number;
	set_dataset_data(
		fileId: bigint,
		path: string,
		count: bigint[] | null,
		offset: bigint[] | null,
		strides: bigint[] | null,
		ptr: bigint,
	): number;
	reclaim_vlen_memory_count(
		fileId: bigint,
		path: string,
		attr: string,
		ptr: bigint,
		count: bigint[],
	): number;
	reclaim_vlen_memory(
		fileId: bigint,
		path: string,
		attr: string,
		ptr: bigint,
	): number;
	resize_dataset(fileId: bigint, path: string, shape: bigint[]): number;
	create_group(fileId: bigint, path: string, trackOrder: boolean): number;
	create_dataset(
		fileId: bigint,
		path: string,
		ptr: bigint,
		metadata: H5WriteMetadata,
	): number;
	create_vlen_str_dataset(
		fileId: bigint,
		path: string,
		data: string[],
		metadata: H5WriteMetadata,
	): number;
	get_attribute_names(fileId: bigint, path: string): string[];
	get_attribute_metadata(fileId: bigint, path: string, name: string): Metadata;
	get_attribute_data(
		fileId: bigint,
		path: string,
		name: string,
		ptr: bigint,
	): number;
	create_attribute(
		fileId: bigint,
		path: string,
		name: string,
		ptr: bigint,
		metadata: H5WriteMetadata,
	): number;
	create_vlen_str_attribute(
		fileId: bigint,
		path: string,
		name: string,
		data: string[],
		metadata: H5WriteMetadata,
	): number;
	delete_attribute(fileId: bigint, path: string, name: string): number;
	create_object_reference(fileId: bigint, path: string): ArrayLike<number>;
	activate_throwing_error_handler(): number;
	insert_plugin_search_path(path: string, index: number): number;
	readonly H5F_ACC_RDONLY: number;
	readonly H5F_ACC_RDWR: number;
	readonly H5F_ACC_TRUNC: number;
	readonly H5F_LIBVER_EARLIEST: number;
	readonly H5F_LIBVER_V110: number;
	readonly H5G_GROUP: number;
	readonly H5G_DATASET: number;
	readonly H5G_TYPE: number;
	readonly H5G_LINK: number;
	readonly H5G_UDLINK: number;
}

/** The loaded module and what it can decode. */
export interface H5Runtime {
	readonly api: H5Api;
	/** Filter ids this module can run: HDF5's built-ins plus the installed plugins. */
	readonly filters: ReadonlyMap<number, string>;
	/** The h5wasm-plugins folder (null when the package is missing). */
	readonly pluginDir: string | null;
	/** True when HDF5's deflate runs Node's zlib (native-deflate.ts). */
	readonly nativeDeflate: boolean;
	/** The compiled module, for read workers (null: they load h5wasm themselves). */
	readonly shared: SharedWasm | null;
}

/** HDF5's built-in filters (all compiled into h5wasm's libhdf5, szip through libaec). */
const BUILTIN_FILTERS: ReadonlyMap<number, string> = new Map([
	[1, "deflate"],
	[2, "shuffle"],
	[3, "fletcher32"],
	[4, "szip"],
	[5, "nbit"],
	[6, "scaleoffset"],
]);

/** Registered HDF5 filter ids of the plugins h5wasm-plugins 0.2.1 ships (`libH5Z<name>.so`). */
export const PLUGIN_FILTER_IDS: ReadonlyMap<string, number> = new Map([
	["bz2", 307],
	["lzf", 32000],
	["blosc", 32001],
	["lz4", 32004],
	["bshuf", 32008],
	["zfp", 32013],
	["zstd", 32015],
	["jpeg", 32019],
	["bitgroom", 32022],
	["bitround", 32023],
	["blosc2", 32026],
]);

let runtime: Promise<H5Runtime> | undefined;

/** Loads h5wasm (once), activates the throwing error handler and installs the plugins. */
export function loadH5(): Promise<H5Runtime> {
	runtime ??= init().catch((err: unknown) => {
		runtime = undefined;
		throw err;
	});
	return runtime;
}

async function init(): Promise<H5Runtime> {
	const { api, env, shared } = await instantiateH5wasm();
	// Before any other HDF5 call: HDF5 copies its filter classes into its table on first use.
	const nativeDeflate = env !== null && (await installNativeDeflate(api, env));
	api.activate_throwing_error_handler();
	const filters = new Map(BUILTIN_FILTERS);
	const pluginDir = findPluginDir();
	if (pluginDir !== null) {
		api.insert_plugin_search_path(pluginDir, 0);
		for (const file of readdirSync(pluginDir)) {
			const name = /^libH5Z(\w+)\.so$/.exec(file)?.[1];
			const id = name === undefined ? undefined : PLUGIN_FILTER_IDS.get(name);
			if (id !== undefined && name !== undefined) filters.set(id, name);
		}
	}
	return { api, filters, pluginDir, nativeDeflate, shared };
}

// h5wasm-plugins' own install_local_plugins does the same insert; resolving the folder here
// also tells us which plugin files exist, so the registered set is known before any read.
function findPluginDir(): string | null {
	try {
		const require = createRequire(import.meta.url);
		return join(
			dirname(require.resolve("h5wasm-plugins/package.json")),
			"plugins",
		);
	} catch {
		return null;
	}
}
