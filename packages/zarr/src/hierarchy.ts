/**
 * Nodes of a Zarr hierarchy on a store: reading and writing array and group metadata and
 * attributes of either version, consolidated v2 metadata (`.zmetadata`), listing and deletion.
 */
import {
	MalformedError,
	NotFoundError,
	type TreeEntry,
	UnsupportedVersionError,
} from "@arraystore/core";
import {
	isJsonObject,
	type JsonObject,
	parseJsonBytes,
	stringifyJson,
} from "./json.js";
import { checkKey, type FsStore, joinKey } from "./store.js";

/** One node as stored. */
export interface NodeDoc {
	readonly kind: "array" | "group";
	readonly zarrFormat: 2 | 3;
	/** `.zarray` / `.zgroup` or `zarr.json`. */
	readonly doc: JsonObject;
	/** `.zattrs`, or `attributes` of `zarr.json`. */
	readonly attrs: JsonObject;
}

const ZMETA = ".zmetadata";

/** Serialises a metadata document as zarr-python does (v2: sorted keys, indent 4; v3: indent 2). */
export function metadataBytes(doc: unknown, zarrFormat: 2 | 3): Uint8Array {
	return new TextEncoder().encode(
		stringifyJson(
			doc,
			zarrFormat === 2 ? { indent: 4, sortKeys: true } : { indent: 2 },
		),
	);
}

/** The hierarchy of one store. */
export class Hierarchy {
	readonly store: FsStore;
	#consolidated: Map<string, JsonObject> | null | undefined;

	constructor(store: FsStore) {
		this.store = store;
	}

	async #json(key: string): Promise<JsonObject | undefined> {
		const bytes = await this.store.get(key);
		if (bytes === undefined) return undefined;
		const v = parseJsonBytes(bytes, key);
		if (!isJsonObject(v))
			throw new MalformedError(`${key} is not a JSON object`);
		return v;
	}

	/** `.zmetadata` entries, or null when the store has none. */
	async consolidated(): Promise<Map<string, JsonObject> | null> {
		if (this.#consolidated === undefined) {
			const doc = await this.#json(ZMETA);
			if (!doc) this.#consolidated = null;
			else {
				const meta = doc.metadata;
				if (!isJsonObject(meta))
					throw new MalformedError(".zmetadata has no metadata object");
				const m = new Map<string, JsonObject>();
				for (const [k, v] of Object.entries(meta))
					if (isJsonObject(v)) m.set(k, v);
				this.#consolidated = m;
			}
		}
		return this.#consolidated;
	}

	// A v2 metadata file: the file itself, else its consolidated copy.
	async #v2(key: string): Promise<JsonObject | undefined> {
		return (await this.#json(key)) ?? (await this.consolidated())?.get(key);
	}

	/** The node at `path`, or null. */
	async node(path: string): Promise<NodeDoc | null> {
		checkKey(path);
		const v3 = await this.#json(joinKey(path, "zarr.json"));
		if (v3) {
			if (v3.zarr_format !== 3)
				throw new UnsupportedVersionError(
					`zarr.json has zarr_format ${JSON.stringify(v3.zarr_format)}`,
				);
			const kind = v3.node_type;
			if (kind !== "array" && kind !== "group")
				throw new MalformedError(`zarr.json node_type ${JSON.stringify(kind)}`);
			return {
				kind,
				zarrFormat: 3,
				doc: v3,
				attrs: isJsonObject(v3.attributes) ? v3.attributes : {},
			};
		}
		const zarray = await this.#v2(joinKey(path, ".zarray"));
		const zgroup = zarray
			? undefined
			: await this.#v2(joinKey(path, ".zgroup"));
		const doc = zarray ?? zgroup;
		if (!doc) return null;
		if (doc.zarr_format !== 2)
			throw new UnsupportedVersionError(
				`${zarray ? ".zarray" : ".zgroup"} has zarr_format ${JSON.stringify(doc.zarr_format)}`,
			);
		const attrs = (await this.#v2(joinKey(path, ".zattrs"))) ?? {};
		return { kind: zarray ? "array" : "group", zarrFormat: 2, doc, attrs };
	}

	/** The node at `path`, or NotFoundError. */
	async need(path: string): Promise<NodeDoc> {
		const n = await this.node(path);
		if (!n)
			throw new NotFoundError(
				`no Zarr array or group at ${JSON.stringify(path)} in ${this.store.root}`,
			);
		return n;
	}

	/** Writes a node document (v3: attributes inside; v2: `.zattrs` beside when given). */
	async writeNode(
		path: string,
		kind: "array" | "group",
		zarrFormat: 2 | 3,
		doc: JsonObject,
		attrs?: JsonObject,
	): Promise<void> {
		if (zarrFormat === 3) {
			await this.store.set(
				joinKey(path, "zarr.json"),
				metadataBytes({ ...doc, ...(attrs ? { attributes: attrs } : {}) }, 3),
			);
			return;
		}
		const name = kind === "array" ? ".zarray" : ".zgroup";
		await this.store.set(joinKey(path, name), metadataBytes(doc, 2));
		if (attrs !== undefined)
			await this.store.set(joinKey(path, ".zattrs"), metadataBytes(attrs, 2));
		await this.#updateConsolidated(path, {
			[name]: doc,
			...(attrs !== undefined ? { ".zattrs": attrs } : {}),
		});
	}

	/** Replaces the attributes of a node. */
	async writeAttrs(path: string, attrs: JsonObject): Promise<void> {
		const n = await this.need(path);
		if (n.zarrFormat === 3) await this.writeNode(path, n.kind, 3, n.doc, attrs);
		else {
			await this.store.set(joinKey(path, ".zattrs"), metadataBytes(attrs, 2));
			await this.#updateConsolidated(path, { ".zattrs": attrs });
		}
	}

	// Keeps `.zmetadata` true to the files when the store has one.
	async #updateConsolidated(
		path: string,
		entries: Record<string, JsonObject>,
	): Promise<void> {
		const c = await this.consolidated();
		if (!c) return;
		for (const [name, doc] of Object.entries(entries))
			c.set(joinKey(path, name), doc);
		const metadata = Object.fromEntries(
			[...c.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
		);
		await this.store.set(
			ZMETA,
			metadataBytes({ metadata, zarr_consolidated_format: 1 }, 2),
		);
	}

	/** Removes the node at `path` and everything below it. */
	async delete(path: string): Promise<void> {
		checkKey(path);
		if (path === "") throw new MalformedError("cannot delete the root node");
		if (!(await this.node(path)))
			throw new NotFoundError(`no Zarr node at ${JSON.stringify(path)}`);
		await this.store.deleteTree(path);
		const c = await this.consolidated();
		if (c) {
			for (const k of [...c.keys()]) if (k.startsWith(`${path}/`)) c.delete(k);
			await this.#updateConsolidated("", {});
		}
	}

	/** Children of the group at `path` (recursively on request), sorted by path. */
	async list(path: string, recursive: boolean): Promise<TreeEntry[]> {
		const n = await this.need(path);
		if (n.kind !== "group") return [];
		const out: TreeEntry[] = [];
		const walk = async (p: string): Promise<void> => {
			const names = new Set<string>();
			for (const e of await this.store.list(p))
				if (e.isDirectory) names.add(e.name);
			const c = await this.consolidated();
			if (c) {
				const prefix = p === "" ? "" : `${p}/`;
				for (const k of c.keys()) {
					if (!k.startsWith(prefix)) continue;
					const rest = k.slice(prefix.length).split("/");
					if (rest.length === 2 && rest[0]) names.add(rest[0]);
				}
			}
			for (const name of [...names].sort()) {
				const child = joinKey(p, name);
				const node = await this.node(child);
				if (!node) continue;
				out.push({ path: child, kind: node.kind });
				if (recursive && node.kind === "group") await walk(child);
			}
		};
		await walk(path);
		return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
	}
}
