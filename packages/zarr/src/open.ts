/**
 * The adapter's operations (loaded lazily by adapter.ts): open and create arrays, open
 * containers. Paths inside a store are validated before any file is touched.
 */
import { resolve } from "node:path";
import {
	type ArrayDriver,
	type Attributes,
	type ContainerDriver,
	type DriverCreateOptions,
	type DriverOpenOptions,
	InvalidSelectionError,
	type Mode,
	NotFoundError,
	ReadOnlyError,
	type TreeEntry,
	UnsupportedError,
	wrapError,
} from "@arraystore/core";
import {
	driverOptions,
	parseArrayMeta,
	ZarrArrayDriver,
} from "./array-driver.js";
import { attrsFromJson, attrsToJson } from "./attrs.js";
import {
	arrayDoc,
	checkVersionDType,
	clearForCreate,
	createAttrs,
	createOptions,
	ensureParents,
	groupDoc,
	storeFormat,
} from "./create.js";
import { Hierarchy } from "./hierarchy.js";
import { checkKey, FsStore } from "./store.js";

/** Normalises a member path: leading/trailing `/` dropped, then checked. */
export function nodePath(path: string | undefined): string {
	const p = (path ?? "").replace(/^\/+|\/+$/g, "");
	try {
		return checkKey(p);
	} catch (err) {
		throw err instanceof InvalidSelectionError
			? err
			: new InvalidSelectionError(String(err));
	}
}

function details(target: string, path: string) {
	return { target: path ? `${target}#${path}` : target, adapter: "zarr" };
}

/** Opens an existing array (modes r, r+). */
export async function openArray(
	target: string,
	options: DriverOpenOptions,
): Promise<ArrayDriver> {
	const path = nodePath(options.path);
	try {
		const h = new Hierarchy(new FsStore(resolve(target)));
		return await openIn(h, path, options);
	} catch (err) {
		throw wrapError(err, details(target, path));
	}
}

async function openIn(
	h: Hierarchy,
	path: string,
	options: DriverOpenOptions,
): Promise<ArrayDriver> {
	const node = await h.node(path);
	if (!node) {
		if (path === "" && !(await h.store.isDirectory("")))
			throw new NotFoundError(`${h.store.root} does not exist`);
		throw new NotFoundError(
			`no Zarr array at ${JSON.stringify(path)} in ${h.store.root}`,
		);
	}
	if (node.kind !== "array")
		throw new NotFoundError(
			`${JSON.stringify(path)} is a Zarr group, not an array`,
		);
	const meta = parseArrayMeta(node.doc, node.zarrFormat);
	return new ZarrArrayDriver(
		h,
		path,
		meta,
		options.mode === "r+",
		driverOptions(options.adapterOptions),
	);
}

/** Creates (or replaces) an array: mode w+. */
export async function createArray(
	target: string,
	spec: DriverCreateOptions,
): Promise<ArrayDriver> {
	const path = nodePath(spec.path);
	try {
		const h = new Hierarchy(new FsStore(resolve(target)));
		return await createIn(h, path, spec);
	} catch (err) {
		throw wrapError(err, details(target, path));
	}
}

async function createIn(
	h: Hierarchy,
	path: string,
	spec: DriverCreateOptions,
	inherited?: 2 | 3,
): Promise<ArrayDriver> {
	const opts = createOptions(spec.adapterOptions);
	const existing = path === "" ? undefined : await storeFormat(h);
	const zarrFormat = opts.zarrFormat ?? inherited ?? existing ?? 3;
	checkVersionDType(spec.dtype, zarrFormat);
	// Build (and so validate) everything before the first file changes.
	const doc = arrayDoc(spec, zarrFormat, opts);
	const attrs = createAttrs(spec);
	const meta = parseArrayMeta(
		zarrFormat === 3 ? { ...doc, attributes: attrs } : doc,
		zarrFormat,
	);
	if (existing !== undefined && existing !== zarrFormat)
		throw new UnsupportedError(
			`cannot add a Zarr v${zarrFormat} array to a v${existing} hierarchy`,
		);
	await clearForCreate(h, path, spec.exclusive);
	await ensureParents(h, path, zarrFormat);
	await h.writeNode(path, "array", zarrFormat, doc, attrs);
	return new ZarrArrayDriver(
		h,
		path,
		meta,
		true,
		driverOptions(spec.adapterOptions),
	);
}

/** Opens a store as a container; mode w+ replaces it with an empty root group. */
export async function openContainer(
	target: string,
	options: {
		readonly mode: Mode;
		readonly adapterOptions?: Readonly<Record<string, unknown>>;
	},
): Promise<ContainerDriver> {
	const root = resolve(target);
	try {
		const h = new Hierarchy(new FsStore(root));
		const adapterOptions = options.adapterOptions ?? {};
		let zarrFormat: 2 | 3;
		if (options.mode === "w+") {
			zarrFormat = createOptions(adapterOptions).zarrFormat ?? 3;
			await clearForCreate(h, "", false);
			await h.writeNode(
				"",
				"group",
				zarrFormat,
				groupDoc(zarrFormat),
				zarrFormat === 2 ? {} : undefined,
			);
		} else {
			const node = await h.node("");
			if (!node) {
				if (!(await h.store.isDirectory("")))
					throw new NotFoundError(`${root} does not exist`);
				throw new NotFoundError(
					`${root} is not a Zarr store (no zarr.json, .zgroup or .zarray)`,
				);
			}
			zarrFormat = node.zarrFormat;
		}
		return new ZarrContainer(
			h,
			zarrFormat,
			options.mode === "r" || options.mode === "c",
			adapterOptions,
		);
	} catch (err) {
		throw wrapError(err, { target, adapter: "zarr" });
	}
}

class ZarrContainer implements ContainerDriver {
	readonly #h: Hierarchy;
	readonly #format: 2 | 3;
	readonly #readOnly: boolean;
	readonly #options: Readonly<Record<string, unknown>>;

	constructor(
		h: Hierarchy,
		zarrFormat: 2 | 3,
		readOnly: boolean,
		options: Readonly<Record<string, unknown>>,
	) {
		this.#h = h;
		this.#format = zarrFormat;
		this.#readOnly = readOnly;
		this.#options = options;
	}

	async list(path: string, recursive: boolean): Promise<TreeEntry[]> {
		const p = nodePath(path);
		const node = await this.#h.need(p);
		if (node.kind === "array")
			return p === "" ? [{ path: "", kind: "array" }] : [];
		return this.#h.list(p, recursive);
	}

	async attrs(path: string): Promise<Attributes> {
		return attrsFromJson((await this.#h.need(nodePath(path))).attrs);
	}

	async setAttrs(path: string, attrs: Attributes): Promise<void> {
		this.#mustWrite("setAttrs");
		const p = nodePath(path);
		const node = await this.#h.need(p);
		await this.#h.writeAttrs(p, { ...node.attrs, ...attrsToJson(attrs) });
	}

	openArray(path: string, options: DriverOpenOptions): Promise<ArrayDriver> {
		if (options.mode === "r+") this.#mustWrite("openArray r+");
		return openIn(this.#h, nodePath(path), {
			...options,
			adapterOptions: { ...this.#options, ...options.adapterOptions },
		});
	}

	async createGroup(path: string, attrs?: Attributes): Promise<void> {
		this.#mustWrite("createGroup");
		const p = nodePath(path);
		const node = await this.#h.node(p);
		if (node?.kind === "array")
			throw new InvalidSelectionError(`${JSON.stringify(p)} is an array`);
		await ensureParents(this.#h, p, this.#format);
		const json = attrs ? attrsToJson(attrs) : {};
		if (node) {
			if (attrs) await this.#h.writeAttrs(p, { ...node.attrs, ...json });
			return;
		}
		await this.#h.writeNode(
			p,
			"group",
			this.#format,
			groupDoc(this.#format),
			json,
		);
	}

	createArray(
		path: string,
		options: DriverCreateOptions,
	): Promise<ArrayDriver> {
		this.#mustWrite("createArray");
		const p = nodePath(path);
		if (p === "")
			return Promise.reject(
				new InvalidSelectionError(
					"the container root is a group; give the array a path",
				),
			);
		return createIn(
			this.#h,
			p,
			{
				...options,
				adapterOptions: { ...this.#options, ...options.adapterOptions },
			},
			this.#format,
		);
	}

	async delete(path: string): Promise<void> {
		this.#mustWrite("delete");
		await this.#h.delete(nodePath(path));
	}

	async flush(): Promise<void> {}

	async close(): Promise<void> {}

	#mustWrite(what: string): void {
		if (this.#readOnly)
			throw new ReadOnlyError(`${what}: the Zarr store is open read-only`);
	}
}
