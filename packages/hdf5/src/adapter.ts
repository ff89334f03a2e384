/**
 * `hdf5Adapter`: HDF5 files through h5wasm 0.10.3 (loaded on first use). Modes map as
 * `r` → "r", `r+` → "a", `w+` → "a" (or "w" for a new file) plus creating the dataset, and
 * `c` → "r" with core's copy-on-write overlay.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import {
	type ArrayAdapter,
	type ArrayDriver,
	type Capabilities,
	type ContainerDriver,
	type ContainerOptions,
	type DriverCreateOptions,
	type DriverOpenOptions,
	type DType,
	type DTypeSupport,
	fromNodeError,
	InvalidSelectionError,
	MalformedError,
	type Mode,
	NotFoundError,
	type Probe,
} from "@arraystore/core";
import { writeAttrs } from "./attrs.js";
import { containerDriver, openArrayIn } from "./container.js";
import { createDataset, validateCreate } from "./create.js";
import { checkDType } from "./dtype-write.js";
import { ADAPTER } from "./errors.js";
import { type FileMode, H5File } from "./file-handle.js";
import { WRITE_CODECS } from "./filters.js";
import { linkAt } from "./links.js";
import { loadH5 } from "./module.js";
import { joinPath, normalizePath } from "./paths.js";

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function isSignature(b: Uint8Array | undefined, at = 0): boolean {
	return (
		b !== undefined &&
		b.length >= at + 8 &&
		SIGNATURE.every((v, i) => b[at + i] === v)
	);
}

/** True when the file starts with the HDF5 signature at 0 or after a user block (512, 1024, …). */
export function hasHdf5Signature(path: string): boolean {
	let fd: number;
	try {
		fd = openSync(path, "r");
	} catch {
		return false;
	}
	try {
		const size = statSync(path).size;
		const b = new Uint8Array(8);
		for (let at = 0; at + 8 <= size; at = at === 0 ? 512 : at * 2) {
			if (readSync(fd, b, 0, 8, at) === 8 && isSignature(b)) return true;
		}
		return false;
	} finally {
		closeSync(fd);
	}
}

const CAPABILITIES: Capabilities = Object.freeze({
	modes: Object.freeze(["r", "r+", "w+", "c"] as Mode[]),
	orders: Object.freeze(["C"] as const),
	byteOrders: Object.freeze(["<"] as const),
	chunked: true,
	codecs: WRITE_CODECS,
	attributes: "readwrite",
	hierarchy: "tree",
	needsLayout: false,
	resize: true,
	zeroCopy: false,
});

function checkExisting(target: string): void {
	if (!existsSync(target))
		throw new NotFoundError(`${target} does not exist`, {
			adapter: ADAPTER,
			target,
		});
	if (!hasHdf5Signature(target))
		throw new MalformedError(
			`${target} is not an HDF5 file (no signature at 0, 512, 1024, …)`,
			{ adapter: ADAPTER, target },
		);
}

async function acquire(target: string, mode: FileMode): Promise<H5File> {
	const runtime = await loadH5();
	try {
		return H5File.acquire(runtime, target, mode, target);
	} catch (err) {
		throw fromNodeError(err, { adapter: ADAPTER, target });
	}
}

// numpy-style convenience: a file with exactly one dataset opens without a path.
function soleDataset(
	file: H5File,
	group = "/",
	found: string[] = [],
): string[] {
	const names = file.call(`list ${group}`, (api, id) =>
		api.get_names(id, group, false),
	);
	for (const name of names) {
		const abs = joinPath(group, name);
		const link = linkAt(file, abs, true);
		if (link?.kind !== "hard") continue;
		if (link.type === "dataset") found.push(abs);
		else if (link.type === "group") soleDataset(file, abs, found);
		if (found.length > 1) break;
	}
	return found;
}

/** The HDF5 adapter. */
export const hdf5Adapter: ArrayAdapter = {
	name: ADAPTER,
	extensions: Object.freeze([".h5", ".hdf5", ".hdf", ".he5", ".nc"]),
	createExtensions: Object.freeze([".h5", ".hdf5", ".hdf", ".he5"]),
	capabilities: CAPABILITIES,

	sniff(probe: Probe): boolean {
		if (probe.isDirectory) return false;
		if (isSignature(probe.head)) return true;
		for (const [offset, bytes] of probe.signatures) {
			if (offset >= 512 && isSignature(bytes)) return true;
		}
		return false;
	},

	checkDType(dtype: DType): DTypeSupport {
		return checkDType(dtype);
	},

	async open(target: string, options: DriverOpenOptions): Promise<ArrayDriver> {
		checkExisting(target);
		const writable = options.mode === "r+";
		const file = await acquire(target, writable ? "a" : "r");
		try {
			let path = normalizePath(options.path ?? "", target);
			if (path === "/") {
				const found = soleDataset(file);
				if (found.length !== 1) {
					throw new InvalidSelectionError(
						`${target} holds ${found.length === 0 ? "no datasets" : "several datasets"}; give the dataset path (file.h5#/group/name)`,
						{ adapter: ADAPTER, target },
					);
				}
				path = found[0] as string;
			}
			return openArrayIn(file, path, writable, options);
		} finally {
			// openArrayIn took its own reference.
			file.release();
		}
	},

	async create(
		target: string,
		options: DriverCreateOptions,
	): Promise<ArrayDriver> {
		const exists = existsSync(target);
		if (exists) checkExisting(target);
		// Refuse what cannot be written before the file is touched.
		validateCreate(options, (await loadH5()).filters, target);
		const file = await acquire(target, exists ? "a" : "w");
		try {
			const path = normalizePath(options.path, target);
			if (path === "/")
				throw new InvalidSelectionError(
					`${target}: a dataset path is needed (file.h5#/name)`,
					{ adapter: ADAPTER, target },
				);
			createDataset(file, path, options);
			if (options.attrs) writeAttrs(file, path, options.attrs);
			return openArrayIn(file, path, true, options);
		} finally {
			file.release();
		}
	},

	async openContainer(
		target: string,
		options: ContainerOptions & { readonly mode: Mode },
	): Promise<ContainerDriver> {
		const mode: FileMode =
			options.mode === "w+" ? "w" : options.mode === "r+" ? "a" : "r";
		if (mode !== "w") checkExisting(target);
		const file = await acquire(target, mode);
		return containerDriver(file, options.adapterOptions ?? {});
	},
};
