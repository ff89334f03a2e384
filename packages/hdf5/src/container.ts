/**
 * An HDF5 file as a `ContainerDriver`: listing (never following links), attributes of any
 * object, datasets opened as drivers (through soft links; through external links only when
 * allowed), and groups and datasets created in writable modes.
 */
import {
	AlreadyExistsError,
	type ArrayDriver,
	type Attributes,
	type ContainerDriver,
	type DriverCreateOptions,
	type DriverOpenOptions,
	NotFoundError,
	type TreeEntry,
	UnsupportedError,
} from "@arraystore/core";
import { readAttrs, writeAttrs } from "./attrs.js";
import { createDataset, ensureGroups } from "./create.js";
import { openDataset } from "./dataset.js";
import { ADAPTER } from "./errors.js";
import { H5File } from "./file-handle.js";
import { externalPrefix, externalTarget, linkAt } from "./links.js";
import { joinPath, normalizePath } from "./paths.js";
import { defaultReadWorkers } from "./read-pool.js";
import { unlink } from "./unlink.js";

/** Where a path leads after soft and (allowed) external links. */
export interface Resolved {
	readonly file: H5File;
	readonly path: string;
	/** True when `file` is an extra reference the caller must release. */
	readonly borrowed: boolean;
}

/** Resolves `path` in `file`, opening an external file (read-only) when the link may be followed. */
export function resolveObject(
	file: H5File,
	path: string,
	follow: boolean,
	depth = 0,
): Resolved {
	const ext = externalPrefix(file, path);
	if (!ext) return { file, path, borrowed: false };
	if (depth > 8)
		throw new UnsupportedError(
			`${file.target}#${path}: too many external links`,
			{ adapter: ADAPTER, target: file.target },
		);
	const rest = path.slice(ext.at.length);
	const target = externalTarget(file, ext, rest, follow);
	const other = H5File.acquire(file.runtime, target.file, "r", target.file);
	try {
		const inner = resolveObject(
			other,
			normalizePath(target.path),
			follow,
			depth + 1,
		);
		if (inner.borrowed) other.release();
		return { file: inner.file, path: inner.path, borrowed: true };
	} catch (err) {
		other.release();
		throw err;
	}
}

/** Opens the dataset at `path` (absolute) of `file` as a driver. */
export function openArrayIn(
	file: H5File,
	path: string,
	writable: boolean,
	options: { readonly adapterOptions: Readonly<Record<string, unknown>> },
): ArrayDriver {
	const follow = options.adapterOptions.followExternalLinks === true;
	const r = resolveObject(file, path, follow);
	const link = linkAt(r.file, r.path);
	const kind =
		link === null
			? null
			: link.kind === "hard"
				? link.type
				: link.kind === "soft"
					? link.resolves
					: "other";
	if (kind !== "dataset") {
		if (r.borrowed) r.file.release();
		const what =
			kind === null
				? "does not exist"
				: kind === "group"
					? "is a group, not a dataset"
					: "is not a dataset";
		throw new NotFoundError(`${file.target}#${path} ${what}`, {
			adapter: ADAPTER,
			target: `${file.target}#${path}`,
		});
	}
	if (writable && r.borrowed) {
		r.file.release();
		throw new UnsupportedError(
			`${file.target}#${path}: datasets behind external links are opened read-only`,
			{ adapter: ADAPTER, target: file.target },
		);
	}
	// The dataset holds its own reference to the file.
	if (!r.borrowed)
		H5File.acquire(file.runtime, file.path, writable ? "a" : "r", file.target);
	try {
		return openDataset(r.file, r.path, {
			writable,
			readWorkers: readWorkersOption(options.adapterOptions),
			// `adapterOptions.directChunks: false` reads every chunk through HDF5 (direct-read.ts).
			directChunks: options.adapterOptions.directChunks !== false,
		});
	} catch (err) {
		r.file.release();
		throw err;
	}
}

/**
 * `adapterOptions.readWorkers`: worker threads decoding compressed chunks of read-only files
 * (0 = none; default: one per available core, at most 4).
 * @throws {UnsupportedError} not a non-negative integer.
 */
export function readWorkersOption(
	adapterOptions: Readonly<Record<string, unknown>>,
): number {
	const v = adapterOptions.readWorkers;
	if (v === undefined) return defaultReadWorkers();
	if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 64)
		throw new UnsupportedError(
			`adapterOptions.readWorkers must be an integer from 0 to 64 (got ${JSON.stringify(v)})`,
			{ adapter: ADAPTER },
		);
	return v;
}

/** The container driver of one open file (takes over one reference of `file`). */
export function containerDriver(
	file: H5File,
	adapterOptions: Readonly<Record<string, unknown>>,
): ContainerDriver {
	let closed = false;
	const follow = adapterOptions.followExternalLinks === true;
	const live = (): H5File => {
		if (closed)
			throw new UnsupportedError(`${file.target} is closed`, {
				adapter: ADAPTER,
				target: file.target,
			});
		return file;
	};
	const writable = (): H5File => {
		const f = live();
		if (!f.writable)
			throw new UnsupportedError(`${file.target} is open read-only`, {
				adapter: ADAPTER,
				target: file.target,
			});
		return f;
	};
	const driver: ContainerDriver = {
		async list(path: string, recursive: boolean): Promise<TreeEntry[]> {
			const f = live();
			const start = normalizePath(path, f.target);
			const r = resolveObject(f, start, follow);
			try {
				const link = linkAt(r.file, r.path);
				if (link === null)
					throw new NotFoundError(`${f.target}#${start} does not exist`, {
						adapter: ADAPTER,
						target: f.target,
					});
				const isGroup =
					link.kind === "hard"
						? link.type === "group"
						: link.kind === "soft" && link.resolves === "group";
				// A dataset (or a link that leads nowhere) has no members.
				if (!isGroup) return [];
				const out: TreeEntry[] = [];
				walk(r.file, r.path, start, recursive, out);
				return out.sort((a, b) =>
					a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
				);
			} finally {
				if (r.borrowed) r.file.release();
			}
		},
		async attrs(path: string): Promise<Attributes> {
			const f = live();
			const r = resolveObject(f, normalizePath(path, f.target), follow);
			try {
				if (linkAt(r.file, r.path) === null)
					throw new NotFoundError(`${f.target}#${path} does not exist`, {
						adapter: ADAPTER,
						target: f.target,
					});
				return readAttrs(r.file, r.path);
			} finally {
				if (r.borrowed) r.file.release();
			}
		},
		async openArray(
			path: string,
			options: DriverOpenOptions,
		): Promise<ArrayDriver> {
			const f = live();
			const writing = options.mode === "r+";
			if (writing && !f.writable)
				throw new UnsupportedError(`${f.target} is open read-only`, {
					adapter: ADAPTER,
					target: f.target,
				});
			return openArrayIn(f, normalizePath(path, f.target), writing, options);
		},
		async flush(): Promise<void> {
			if (!closed) file.flush();
		},
		async close(): Promise<void> {
			if (closed) return;
			closed = true;
			try {
				file.flush();
			} finally {
				file.release();
			}
		},
	};
	if (!file.writable) return driver;
	return Object.assign(driver, {
		async setAttrs(path: string, attrs: Attributes): Promise<void> {
			const f = writable();
			const abs = normalizePath(path, f.target);
			if (externalPrefix(f, abs))
				throw new UnsupportedError(
					`${f.target}#${abs}: objects behind external links are read-only`,
					{ adapter: ADAPTER, target: f.target },
				);
			if (linkAt(f, abs) === null)
				throw new NotFoundError(`${f.target}#${abs} does not exist`, {
					adapter: ADAPTER,
					target: f.target,
				});
			writeAttrs(f, abs, attrs);
		},
		async createGroup(path: string, attrs?: Attributes): Promise<void> {
			const f = writable();
			const abs = normalizePath(path, f.target);
			const link = linkAt(f, abs);
			if (link !== null && !(link.kind === "hard" && link.type === "group")) {
				throw new AlreadyExistsError(
					`${f.target}#${abs} exists and is not a group`,
					{ adapter: ADAPTER, target: f.target },
				);
			}
			ensureGroups(f, abs);
			if (attrs) writeAttrs(f, abs, attrs);
		},
		async createArray(
			path: string,
			options: DriverCreateOptions,
		): Promise<ArrayDriver> {
			const f = writable();
			const abs = normalizePath(path, f.target);
			createDataset(f, abs, options);
			if (options.attrs) writeAttrs(f, abs, options.attrs);
			return openArrayIn(f, abs, true, options);
		},
		async delete(path: string): Promise<void> {
			const f = writable();
			const abs = normalizePath(path, f.target);
			if (abs === "/")
				throw new UnsupportedError(
					`${f.target}: the root group cannot be deleted`,
					{ adapter: ADAPTER, target: f.target },
				);
			if (linkAt(f, abs) === null)
				throw new NotFoundError(`${f.target}#${abs} does not exist`, {
					adapter: ADAPTER,
					target: f.target,
				});
			// Removes the link only; the object stays in the file unreferenced (as h5py's del).
			unlink(f, abs);
		},
	});
}

function walk(
	file: H5File,
	group: string,
	shown: string,
	recursive: boolean,
	out: TreeEntry[],
): void {
	const names = file.call(`list ${group}`, (api, id) =>
		api.get_names(id, group, false),
	);
	for (const name of names) {
		const abs = joinPath(group, name);
		const rel = joinPath(shown, name).slice(1);
		const link = linkAt(file, abs, true);
		if (link === null) continue;
		if (link.kind === "soft")
			out.push({ path: rel, kind: "softLink", target: link.target });
		else if (link.kind === "external")
			out.push({
				path: rel,
				kind: "externalLink",
				target: `${link.file}#${link.path}`,
			});
		else if (link.type === "group") {
			out.push({ path: rel, kind: "group" });
			if (recursive) walk(file, abs, joinPath(shown, name), recursive, out);
		} else if (link.type === "dataset") out.push({ path: rel, kind: "array" });
	}
}
