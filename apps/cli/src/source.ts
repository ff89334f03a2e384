/**
 * Opening the source of a command: detection (or `--from`), "file.h5#/grp/x" targets, and the
 * raw layout (`--dtype --shape --offset --order`) applied to every array opened from it.
 */
import type {
	AdapterRegistry,
	ArrayAdapter,
	ContainerStore,
	Layout,
} from "@arraystore/core";

/** An opened source. */
export interface Source {
	readonly container: ContainerStore;
	readonly adapter: ArrayAdapter;
	/** The file or directory. */
	readonly file: string;
	/** Inner path given as "file#path", or null. */
	readonly inner: string | null;
}

/** Options of {@link openSource}. */
export interface SourceOptions {
	readonly format?: string;
	readonly layout?: Partial<Layout>;
	readonly followExternalLinks?: boolean;
}

/** Resolves and opens a source read-only. */
export async function openSource(
	registry: AdapterRegistry,
	target: string,
	options: SourceOptions = {},
): Promise<Source> {
	const { adapter, file, inner } = await registry.resolve(
		target,
		options.format,
	);
	const adapterOptions = {
		...streamingOptions(adapter.name),
		...(options.followExternalLinks ? { followExternalLinks: true } : {}),
	};
	const container = await registry.openContainer(file, {
		mode: "r",
		format: adapter.name,
		adapterOptions,
	});
	const layout = options.layout;
	return {
		container:
			layout && Object.keys(layout).length > 0
				? withLayout(container, layout)
				: container,
		adapter,
		file,
		inner,
	};
}

/**
 * Adapter options for streaming through a format: raw, npy and (mm)pickle use positional I/O instead of
 * memory maps, whose touched pages would stay resident (RSS) beyond the memory budget.
 */
export function streamingOptions(format: string): Record<string, unknown> {
	return POSITIONAL.has(format) ? { mmap: false } : {};
}

/**
 * Adapter options for writing a format: {@link streamingOptions}, and for raw, npy and mmappickle
 * outputs long writes that bypass the page cache (O_DIRECT, where the file system allows) unless
 * `--page-cache`: the kernel's page-cache copy cost 1–3 CPU-seconds per 2 GiB on the decoding
 * cores, and a large output would evict the machine's page cache.
 */
export function outputOptions(
	format: string,
	pageCache: boolean,
): Record<string, unknown> {
	return {
		...streamingOptions(format),
		...(writesDirect(format, pageCache) ? { directWrites: true } : {}),
	};
}

/** Whether {@link outputOptions} has `format`'s long writes bypass the page cache. */
export function writesDirect(format: string, pageCache: boolean): boolean {
	return !pageCache && DIRECT.has(format);
}

/**
 * Blocks between unchunked layouts when the target writes past the page cache: the disk took
 * 2.3 s per 2 GiB in 1 MiB direct writes, 1.4 s in 4 MiB ones (buffered copies stay at core's
 * cache-sized 1 MiB).
 */
export const DIRECT_STREAM_BLOCK_BYTES: number = 4 * 1024 * 1024;

const POSITIONAL = new Set(["raw", "npy", "mmappickle", "pickle"]);
const DIRECT = new Set(["raw", "npy", "mmappickle"]);

/** A container whose `openArray` always passes `layout` (raw input without a sidecar). */
export function withLayout(
	container: ContainerStore,
	layout: Partial<Layout>,
): ContainerStore {
	return new Proxy(container, {
		get(target, key) {
			if (key === "openArray")
				return (
					path: string,
					options: Parameters<ContainerStore["openArray"]>[1] = {},
				) => target.openArray(path, { ...layout, ...options });
			const v: unknown = Reflect.get(target, key, target);
			return typeof v === "function"
				? (v as (...a: unknown[]) => unknown).bind(target)
				: v;
		},
	});
}
