/**
 * mmappickle as a container: keys are flat paths. ndarray entries are arrays read lazily (and,
 * in r+, written in place) at their data offsets through `openRawRegion`. A masked array is its
 * data at `key` and its mask at `key.mask`. Generic values are decoded with the restricted VM
 * on first use: plain values are attributes of the root; a dict holding arrays is a group whose
 * arrays are read-only; a numpy scalar is a 0-d array. A value that fails to decode (an unsafe
 * global) is left out of `list` and fails `attrs("")` and `openArray(key)`.
 */
import {
	AlreadyExistsError,
	type ArrayDriver,
	type Attributes,
	type ContainerDriver,
	type DriverCreateOptions,
	type DriverOpenOptions,
	encodeElement,
	NotFoundError,
	ReadOnlyError,
	shapeSize,
	type TreeEntry,
	UnsupportedError,
} from "@arraystore/core";
import { openRawRegion } from "@arraystore/raw";
import { toAttr } from "../attr-value.js";
import {
	openRef,
	type RefSource,
	type RegionIo,
	readDataRef,
	regionIo,
} from "../open-ref.js";
import type { PyValue } from "../pickle-vm/values.js";
import { refDriver } from "../ref-driver.js";
import { addValue, MASK_SUFFIX, type Members } from "../tree.js";
import type { ArrayFragment, Entry } from "./entries.js";
import type { MmpFile } from "./file.js";

interface Catalog {
	readonly paths: Map<string, TreeEntry["kind"]>;
	readonly members: Members;
	readonly plain: Map<string, PyValue>;
	readonly errors: Map<string, unknown>;
}

const ADAPTER = "mmappickle";

/** The container driver over one open {@link MmpFile}. */
export class MmpContainer implements ContainerDriver {
	readonly file: MmpFile;
	readonly #src: RefSource;
	#catalog: Promise<Catalog> | undefined;

	constructor(file: MmpFile, options: RegionIo = {}) {
		this.file = file;
		this.#src = {
			path: file.path,
			codec: null,
			adapter: ADAPTER,
			readFile: (o, n) => file.read(o, n),
			...regionIo(options),
		};
	}

	async list(path: string, recursive: boolean): Promise<TreeEntry[]> {
		const { paths } = await this.#cat();
		if (path !== "" && !paths.has(path))
			throw new NotFoundError(`mmappickle: no key ${JSON.stringify(path)}`);
		if (paths.get(path) === "array") return [];
		const prefix = path === "" ? "" : `${path}/`;
		const out: TreeEntry[] = [];
		for (const [p, kind] of paths) {
			if (p === path || !p.startsWith(prefix)) continue;
			// Keys are flat: only paths inside decoded generic groups nest.
			if (!recursive && path !== "" && p.slice(prefix.length).includes("/"))
				continue;
			if (
				!recursive &&
				path === "" &&
				!this.file.live().has(p) &&
				!isMask(p, this.file)
			)
				continue;
			out.push({ path: p, kind });
		}
		return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
	}

	async attrs(path: string): Promise<Attributes> {
		const cat = await this.#cat();
		const read = (d: Parameters<typeof readDataRef>[0]) =>
			readDataRef(d, this.#src);
		if (path === "") {
			const [first] = cat.errors.values();
			if (first !== undefined) throw first;
			const out: Record<string, Attributes[string]> = {};
			for (const [k, v] of cat.plain) out[k] = await toAttr(v, read);
			return out;
		}
		const e = this.file.live().get(path);
		if (e?.kind === "masked") return { mask: `${path}${MASK_SUFFIX}` };
		if (e?.kind === "ndarray" || isMask(path, this.file)) return {};
		const m = cat.members.get(path);
		if (!m)
			throw new NotFoundError(`mmappickle: no key ${JSON.stringify(path)}`);
		const out: Record<string, Attributes[string]> = {};
		for (const [k, v] of m.attrs) out[k] = await toAttr(v, read);
		return out;
	}

	async setAttrs(path: string, attrs: Attributes): Promise<void> {
		this.#writable();
		if (path !== "")
			throw new UnsupportedError(
				"mmappickle stores plain values as keys of the root only",
			);
		const live = this.file.live();
		for (const k of Object.keys(attrs)) {
			const kind = live.get(k)?.kind;
			if (kind === "ndarray" || kind === "masked")
				throw new UnsupportedError(
					`mmappickle: key ${JSON.stringify(k)} holds an array; delete it before storing a value`,
				);
		}
		try {
			for (const [k, v] of Object.entries(attrs))
				await this.file.putValue(k, v);
		} finally {
			this.#catalog = undefined;
		}
	}

	async openArray(
		path: string,
		options: DriverOpenOptions,
	): Promise<ArrayDriver> {
		const mode = options.mode === "r+" ? "r+" : "r";
		if (mode === "r+") this.#writable();
		const live = this.file.live();
		const e = live.get(path);
		if (e?.kind === "ndarray")
			return this.#region(await this.file.arrayOf(e), mode);
		if (e?.kind === "masked")
			return this.#region((await this.file.maskedOf(e)).data, mode);
		if (!e && path.endsWith(MASK_SUFFIX)) {
			const base = live.get(path.slice(0, -MASK_SUFFIX.length));
			if (base?.kind === "masked")
				return this.#region((await this.file.maskedOf(base)).mask, mode);
		}
		// Generic values: the key itself (a numpy scalar) or an array inside a dict.
		const owner =
			e?.kind === "generic"
				? e
				: [...live.values()].find(
						(x) => x.kind === "generic" && path.startsWith(`${x.key}/`),
					);
		if (owner) {
			const members: Members = new Map();
			addValue(members, owner.key, await this.file.valueOf(owner), true);
			const m = members.get(path);
			if (m?.kind === "array") {
				if (mode === "r+")
					throw new ReadOnlyError(
						`mmappickle: ${JSON.stringify(path)} is inside a pickled value and cannot be written in place`,
					);
				return openRef(m.ref, this.#src, "r", options.signal);
			}
		}
		throw new NotFoundError(`mmappickle: no array ${JSON.stringify(path)}`);
	}

	async createArray(
		path: string,
		options: DriverCreateOptions,
	): Promise<ArrayDriver> {
		this.#writable();
		if (options.exclusive && this.file.live().has(path))
			throw new AlreadyExistsError(
				`mmappickle: key ${JSON.stringify(path)} exists`,
			);
		let offset: number;
		try {
			offset = await this.file.putArray(path, options.dtype, options.shape);
		} finally {
			this.#catalog = undefined;
		}
		const frag: ArrayFragment = {
			dtype: options.dtype,
			shape: options.shape,
			dataOffset: offset,
			nbytes: shapeSize(options.shape) * options.dtype.itemsize,
			end: 0,
		};
		const driver = await this.#region(frag, "r+");
		if (options.fillValue !== undefined && frag.nbytes > 0)
			await fill(
				driver,
				encodeElement(options.dtype, options.fillValue),
				options.shape,
			);
		return driver;
	}

	async delete(path: string): Promise<void> {
		this.#writable();
		try {
			await this.file.delete(path);
		} finally {
			this.#catalog = undefined;
		}
	}

	async close(): Promise<void> {
		await this.file.close();
	}

	// --- internal ---

	#writable(): void {
		if (!this.file.writable)
			throw new ReadOnlyError(`${this.file.path} is open read-only`);
	}

	async #region(frag: ArrayFragment, mode: "r" | "r+"): Promise<ArrayDriver> {
		if (frag.dtype.itemsize === 0) {
			return refDriver({
				dtype: frag.dtype,
				storedShape: frag.shape,
				perm: frag.shape.map((_, i) => i),
				byteOffset: frag.dataOffset,
				fetch: async () => new Uint8Array(0),
			});
		}
		return openRawRegion(
			this.file.path,
			{
				mode,
				dtype: frag.dtype,
				shape: frag.shape,
				order: "C",
				offset: frag.dataOffset,
				...regionIo(this.#src),
			},
			{ adapter: ADAPTER },
		);
	}

	#cat(): Promise<Catalog> {
		this.#catalog ??= this.#build();
		return this.#catalog;
	}

	async #build(): Promise<Catalog> {
		const cat: Catalog = {
			paths: new Map(),
			members: new Map(),
			plain: new Map(),
			errors: new Map(),
		};
		const live = this.file.live();
		for (const [key, e] of live) {
			if (e.kind === "ndarray") cat.paths.set(key, "array");
			else if (e.kind === "masked") {
				cat.paths.set(key, "array");
				if (!live.has(`${key}${MASK_SUFFIX}`))
					cat.paths.set(`${key}${MASK_SUFFIX}`, "array");
			} else await this.#addGeneric(cat, e);
		}
		return cat;
	}

	async #addGeneric(cat: Catalog, e: Entry): Promise<void> {
		let value: PyValue;
		try {
			value = await this.file.valueOf(e);
		} catch (err) {
			cat.errors.set(e.key, err);
			return;
		}
		const members: Members = new Map();
		if (!addValue(members, e.key, value, true)) {
			cat.plain.set(e.key, value);
			return;
		}
		for (const [p, m] of members) {
			cat.members.set(p, m);
			cat.paths.set(p, m.kind);
		}
	}
}

function isMask(path: string, file: MmpFile): boolean {
	if (!path.endsWith(MASK_SUFFIX) || file.live().has(path)) return false;
	return file.live().get(path.slice(0, -MASK_SUFFIX.length))?.kind === "masked";
}

/** Fills a new array with one element value, in slabs. */
async function fill(
	driver: ArrayDriver,
	element: Uint8Array,
	shape: readonly number[],
): Promise<void> {
	if (element.every((b) => b === 0)) return;
	const rows = shape.length === 0 ? 1 : (shape[0] as number);
	const rowElems = shape.length === 0 ? 1 : shapeSize(shape.slice(1));
	const perSlab = Math.max(
		1,
		Math.floor((4 << 20) / Math.max(1, rowElems * element.length)),
	);
	for (let r = 0; r < rows; r += perSlab) {
		const n = Math.min(perSlab, rows - r);
		const buf = new Uint8Array(n * rowElems * element.length);
		for (let i = 0; i < buf.length; i += element.length) buf.set(element, i);
		const region =
			shape.length === 0
				? { start: [], shape: [] }
				: {
						start: [r, ...shape.slice(1).map(() => 0)],
						shape: [n, ...shape.slice(1)],
					};
		await driver.write?.(region, buf);
	}
}
