/**
 * A container view of a store whose root is the array itself (a Zarr array store, as
 * `zarr.save("out.zarr", a)` makes): the copy of a single-array source into Zarr keeps the
 * array at the root instead of inventing a name for it.
 */
import {
	type AdapterRegistry,
	type ArrayStore,
	type Attributes,
	type Capabilities,
	type ContainerStore,
	type CreateOptions,
	type OpenExistingOptions,
	type TreeEntry,
	UnsupportedError,
} from "@arraystore/core";

/** The container that creates (or reopens) one array at the root of `file`. */
export function rootArrayContainer(
	registry: AdapterRegistry,
	file: string,
	format: string,
	adapterOptions: Readonly<Record<string, unknown>>,
	capabilities: Capabilities,
): ContainerStore {
	let array: ArrayStore | undefined;
	let closed = false;
	const only = (path: string) => {
		if (path !== "" && path !== "/")
			throw new UnsupportedError(
				`${file} holds one array at its root, not ${JSON.stringify(path)}`,
			);
	};
	const container: ContainerStore = {
		format,
		target: file,
		mode: "w+",
		capabilities,
		get closed() {
			return closed;
		},
		async list(): Promise<TreeEntry[]> {
			return array ? [{ path: "", kind: "array" }] : [];
		},
		async attrs(path: string): Promise<Attributes> {
			only(path);
			return array ? array.attrs() : {};
		},
		async setAttrs(path: string, attrs: Attributes): Promise<void> {
			only(path);
			if (!array)
				throw new UnsupportedError(
					"create the root array before its attributes",
				);
			// The root's attributes are the array's: reopen it when the copy closed it already.
			if (!array.closed) return array.setAttrs(attrs);
			await using again = await registry.open(file, {
				mode: "r+",
				format,
				adapterOptions,
			});
			await again.setAttrs(attrs);
		},
		async openArray(
			path: string,
			options: Omit<OpenExistingOptions, "path" | "format"> = {},
		): Promise<ArrayStore> {
			only(path);
			array = await registry.open(file, {
				...options,
				format,
				adapterOptions: { ...adapterOptions, ...options.adapterOptions },
			});
			return array;
		},
		async createGroup(): Promise<void> {
			throw new UnsupportedError(
				`${file} is a root array store; it has no groups`,
			);
		},
		async createArray(
			path: string,
			options: Omit<CreateOptions, "mode" | "path" | "format">,
		): Promise<ArrayStore> {
			only(path);
			array = await registry.create(file, {
				...options,
				format,
				adapterOptions: { ...adapterOptions, ...options.adapterOptions },
			});
			return array;
		},
		async flush(): Promise<void> {
			if (array && !array.closed) await array.flush();
		},
		async close(): Promise<void> {
			closed = true;
			if (array && !array.closed) await array.close();
		},
		[Symbol.asyncDispose](): Promise<void> {
			return container.close();
		},
	};
	return container;
}
