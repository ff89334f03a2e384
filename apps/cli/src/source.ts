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
	return format === "raw" ||
		format === "npy" ||
		format === "mmappickle" ||
		format === "pickle"
		? { mmap: false }
		: {};
}

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
