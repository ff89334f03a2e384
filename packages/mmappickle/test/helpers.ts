import { join } from "node:path";
import { PICKLE_DIR, pickleManifest, sha256 } from "@arraystore/conformance";
import {
	type ArrayData,
	type ContainerStore,
	isBigEndian,
	parseDType,
	swapInPlace,
} from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { mmappickleAdapter, pickleAdapter } from "../src/index.js";

export const registry = createRegistry([mmappickleAdapter, pickleAdapter]);

export interface ArrayEntry {
	readonly kind: "ndarray";
	readonly dtype: string;
	readonly shape: number[];
	readonly sha256: string;
	readonly data_offset?: number | null;
	readonly decompressed_data_offset?: number | null;
}
export interface KeyEntry {
	readonly kind:
		| "ndarray"
		| "python"
		| "numpy_scalar"
		| "object_array"
		| "masked_array";
	readonly [k: string]: unknown;
}
export interface FileEntry {
	readonly path: string;
	readonly format: string;
	readonly top_level?: string;
	readonly expected: {
		readonly result: "ok" | "error";
		readonly error?: string;
		readonly error_key?: string;
		readonly forbidden_globals?: string[];
		readonly may_reject_keys?: Record<string, string>;
		readonly key_errors?: Record<string, string>;
	};
	readonly keys?: Record<string, KeyEntry>;
}

export function manifestFiles(): FileEntry[] {
	return (
		pickleManifest<{ files: FileEntry[] }>().files as FileEntry[]
	).slice();
}

export function fixturePath(rel: string): string {
	return join(PICKLE_DIR, rel);
}

/** sha256 of an array read by us, in the listed dtype's byte order (C order). */
export function hashAs(data: ArrayData, dtype: string): string {
	const d = parseDType(dtype);
	const bytes = data.bytes.slice();
	if (isBigEndian(d)) swapInPlace(d, bytes);
	return sha256(bytes);
}

export async function openContainer(rel: string): Promise<ContainerStore> {
	return registry.openContainer(fixturePath(rel));
}
