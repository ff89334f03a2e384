/**
 * The tree of a container for `info` and `ls`: groups, arrays (dtype, shape, chunks, codecs,
 * fill value, attributes) and links, as plain data that prints as text or JSON.
 */
import {
	type ArrayData,
	type Attributes,
	type AttrValue,
	type ContainerStore,
	decodeElement,
	isVString,
	linkOptions,
	shapeSize,
	type TreeEntry,
} from "@arraystore/core";
import { codecText } from "./plan-text.js";

/** One node of the tree. */
export interface TreeNode {
	readonly path: string;
	readonly kind: TreeEntry["kind"];
	readonly target?: string;
	readonly dtype?: string;
	readonly shape?: readonly number[];
	readonly order?: string;
	readonly chunks?: readonly number[] | null;
	readonly codecs?: readonly {
		readonly name: string;
		readonly config?: unknown;
	}[];
	readonly fillValue?: unknown;
	readonly byteOffset?: number | null;
	readonly attributes?: Readonly<Record<string, unknown>>;
	/** Why a node could not be described (e.g. a dangling link). */
	readonly error?: string;
}

// Attribute arrays longer than this are summarised in JSON.
const MAX_ATTR_ELEMENTS = 1000;

/** Walks a container. Links are described, never followed (external ones only on request). */
export async function readTree(
	container: ContainerStore,
	options: {
		readonly attributes: boolean;
		readonly followExternalLinks?: boolean;
	},
): Promise<TreeNode[]> {
	const entries = await container.list("", { recursive: true });
	const nodes: TreeNode[] = [];
	const hasRoot = entries.some((e) => e.path === "" || e.path === "/");
	if (!hasRoot && container.capabilities.hierarchy !== "none")
		nodes.push({
			path: "/",
			kind: "group",
			...(options.attributes
				? { attributes: jsonAttrs(await container.attrs("").catch(() => ({}))) }
				: {}),
		});
	for (const e of entries) {
		const path = e.path.startsWith("/") ? e.path : `/${e.path}`;
		if (e.kind === "group") {
			nodes.push({
				path,
				kind: "group",
				...(options.attributes
					? { attributes: jsonAttrs(await container.attrs(e.path)) }
					: {}),
			});
			continue;
		}
		if (
			e.kind !== "array" &&
			!(e.kind === "externalLink" && options.followExternalLinks)
		) {
			nodes.push({
				path,
				kind: e.kind,
				...(e.target !== undefined ? { target: e.target } : {}),
			});
			continue;
		}
		try {
			const a = await container.openArray(e.path, {
				mode: "r",
				...linkOptions(e),
			});
			try {
				const info = a.info;
				nodes.push({
					path,
					kind: e.kind,
					...(e.target !== undefined ? { target: e.target } : {}),
					dtype: info.dtype.str,
					shape: info.shape,
					order: info.order,
					chunks: info.chunks,
					codecs: info.codecs,
					fillValue: jsonValue(info.fillValue),
					byteOffset: info.byteOffset,
					...(options.attributes
						? { attributes: jsonAttrs(await a.attrs()) }
						: {}),
				});
			} finally {
				await a.close();
			}
		} catch (err) {
			// A single-array file that cannot be opened has nothing else to show.
			if (container.capabilities.hierarchy === "none") throw err;
			nodes.push({
				path,
				kind: e.kind,
				error: err instanceof Error ? err.message : String(err),
			});
		}
	}
	return nodes;
}

/** `ls`: one line per node. */
export function lsText(nodes: readonly TreeNode[]): string {
	const width = Math.min(40, Math.max(8, ...nodes.map((n) => n.path.length)));
	return nodes
		.map((n) => {
			const head = n.path.padEnd(width);
			if (n.error) return `${head}  ${n.kind}  (${n.error})`;
			if (n.kind === "group") return `${head}  group`;
			if (n.kind === "softLink" || n.kind === "externalLink")
				if (n.dtype === undefined)
					return `${head}  ${n.kind === "softLink" ? "soft link" : "external link"} → ${n.target ?? "?"}`;
			const chunks = n.chunks ? `  chunks [${n.chunks.join(", ")}]` : "";
			const codecs =
				n.codecs && n.codecs.length > 0
					? `  ${codecText(n.codecs as never)}`
					: "";
			return `${head}  array  ${n.dtype} [${(n.shape ?? []).join(", ")}]${chunks}${codecs}`;
		})
		.map((l) => `${l}\n`)
		.join("");
}

/** `info`: every node with its details and attributes. */
export function infoText(header: string, nodes: readonly TreeNode[]): string {
	const lines = [header];
	for (const n of nodes) {
		if (n.kind === "group") lines.push(`${n.path}  (group)`);
		else if (n.dtype === undefined)
			lines.push(
				`${n.path}  (${n.kind}${n.target ? ` → ${n.target}` : ""}${n.error ? `: ${n.error}` : ""})`,
			);
		else {
			lines.push(
				`${n.path}  (array${n.kind !== "array" ? ` via ${n.kind} → ${n.target ?? "?"}` : ""})`,
			);
			lines.push(
				`    dtype ${n.dtype}  shape [${(n.shape ?? []).join(", ")}]  order ${n.order}`,
			);
			lines.push(
				`    chunks ${n.chunks ? `[${n.chunks.join(", ")}]` : "none (contiguous)"}  codecs ${codecText((n.codecs ?? []) as never)}`,
			);
			if (n.fillValue !== null && n.fillValue !== undefined)
				lines.push(`    fill value ${short(n.fillValue)}`);
			if (n.byteOffset !== null && n.byteOffset !== undefined)
				lines.push(`    data offset ${n.byteOffset}`);
		}
		for (const [k, v] of Object.entries(n.attributes ?? {}))
			lines.push(`    @${k} = ${short(v)}`);
	}
	return `${lines.join("\n")}\n`;
}

/** Attributes as JSON values (bigints as strings, arrays as {dtype, shape, data}). */
export function jsonAttrs(attrs: Attributes): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(attrs)) out[k] = jsonValue(v);
	return out;
}

// --- internal ---

function jsonValue(v: AttrValue | unknown): unknown {
	if (v === null || v === undefined) return null;
	if (typeof v === "bigint") return v.toString();
	if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
	if (v instanceof Uint8Array)
		return { bytes: Buffer.from(v).toString("base64") };
	if (Array.isArray(v)) return v.map(jsonValue);
	if (isArrayData(v)) {
		const n = shapeSize(v.shape);
		const data: unknown[] = [];
		if (isVString(v.dtype))
			data.push(...(v.data as unknown as string[]).slice(0, MAX_ATTR_ELEMENTS));
		else
			for (let i = 0; i < Math.min(n, MAX_ATTR_ELEMENTS); i++)
				data.push(
					jsonValue(
						decodeElement(
							v.dtype,
							v.bytes.subarray(
								i * v.dtype.itemsize,
								(i + 1) * v.dtype.itemsize,
							),
						),
					),
				);
		return {
			dtype: v.dtype.str,
			shape: v.shape,
			data,
			...(n > MAX_ATTR_ELEMENTS ? { truncated: true } : {}),
		};
	}
	if (typeof v === "object") {
		const out: Record<string, unknown> = {};
		for (const [k, x] of Object.entries(v as Record<string, unknown>))
			out[k] = jsonValue(x);
		return out;
	}
	return v;
}

function isArrayData(v: unknown): v is ArrayData {
	return (
		typeof v === "object" &&
		v !== null &&
		(v as ArrayData).bytes instanceof Uint8Array &&
		Array.isArray((v as ArrayData).shape) &&
		typeof (v as ArrayData).dtype === "object"
	);
}

function short(v: unknown): string {
	const text = JSON.stringify(v);
	return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}
