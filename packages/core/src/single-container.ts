/**
 * Single-array formats (raw, npy) seen as a container with one array at path "", so a tree
 * copy treats every format alike.
 */
import type {
	ArrayAdapter,
	ArrayDriver,
	ContainerDriver,
	DriverCreateOptions,
	DriverOpenOptions,
} from "./driver.js";
import { NotFoundError, UnsupportedError } from "./errors.js";
import type { Attributes, Mode, TreeEntry } from "./types.js";

/** A container driver over one array file. */
export function singleArrayContainer(
	adapter: ArrayAdapter,
	file: string,
	mode: Mode,
): ContainerDriver {
	let exists = mode !== "w+";
	const only = (path: string) => {
		if (path !== "" && path !== "/")
			throw new NotFoundError(
				`${adapter.name} files hold one array at path "" (asked for ${JSON.stringify(path)})`,
			);
	};
	return {
		async list(path: string): Promise<TreeEntry[]> {
			only(path);
			return exists ? [{ path: "", kind: "array" }] : [];
		},
		async attrs(path: string): Promise<Attributes> {
			only(path);
			return {};
		},
		async openArray(
			path: string,
			options: DriverOpenOptions,
		): Promise<ArrayDriver> {
			only(path);
			return adapter.open(file, { ...options, path: "" });
		},
		async createArray(
			path: string,
			options: DriverCreateOptions,
		): Promise<ArrayDriver> {
			only(path);
			if (!adapter.create)
				throw new UnsupportedError(`${adapter.name} is read-only`);
			const d = await adapter.create(file, { ...options, path: "" });
			exists = true;
			return d;
		},
		async close() {},
	};
}
