/**
 * `planTree`: what a whole-container copy will do, decided before any output exists — which
 * arrays go where, their target dtype (byte order adapted where the target cannot create it),
 * order, chunks, codecs and block plan; which groups and attributes are carried; and what
 * cannot be carried (reported, never silently dropped). Every dtype the target cannot express
 * is refused here with `UnsupportedDTypeError`.
 */
import type { DTypeSupport } from "../driver.js";
import type { DType } from "../dtype/model.js";
import { parseDType } from "../dtype/parse.js";
import type { Scalar } from "../dtype/typed.js";
import {
	isArrayStoreError,
	UnsupportedDTypeError,
	UnsupportedError,
} from "../errors.js";
import type {
	Attributes,
	Capabilities,
	CodecInfo,
	ContainerStore,
	Order,
	TreeEntry,
} from "../types.js";
import type { ArrayCopyPlan, PlanBudgetOptions } from "./plan.js";
import { linkOptions, type MemberInfo, planMember } from "./plan-member.js";

/** The target side as far as planning needs it (an `ArrayAdapter` or a `ContainerStore` fits). */
export interface TreeTarget {
	/** Format name (a `ContainerStore` has `format`, an `ArrayAdapter` has `name`). */
	readonly format?: string;
	readonly name?: string;
	readonly capabilities: Capabilities;
	/** The adapter's dtype check; without it, refusals surface at creation. */
	checkDType?(dtype: DType): DTypeSupport;
}

/** One array picked from the source, optionally renamed. */
export interface ArraySelection {
	/** Path in the source container. */
	readonly source: string;
	/** Path in the target container; default the source path. */
	readonly target?: string;
}

/** How target arrays are laid out. */
export interface TreePlanOptions extends PlanBudgetOptions {
	/** Copy only these arrays (`--dataset` / `--name`); default the whole tree. */
	readonly select?: readonly ArraySelection[];
	/**
	 * Name given in a container target to an array that sits at the source's root (a `.npy`, a
	 * pickled array); default "data". "" keeps it at the root (Zarr can store a root array).
	 */
	readonly rootName?: string;
	/** Follow external links (they read arbitrary local files); default false. */
	readonly followExternalLinks?: boolean;
	/** Chunk shape for arrays of the same rank; default the source's, else about 1 MiB. */
	readonly chunks?: readonly number[];
	/** Codec pipeline of every target array; default the target adapter's. */
	readonly codecs?: readonly CodecInfo[];
	/** Cast every array to this dtype. */
	readonly dtype?: DType | string;
	/** Allow lossy casts. */
	readonly unsafeCast?: boolean;
	/** Storage order of target arrays; default the source's where the target can create it. */
	readonly order?: Order;
	/**
	 * Per-array chunks and codecs, overriding `chunks`/`codecs` where it returns a value (e.g.
	 * Zarr shards, whose codec names an inner chunk shape of the array's rank).
	 */
	readonly layout?: (array: {
		readonly path: string;
		readonly shape: readonly number[];
		readonly dtype: DType;
	}) =>
		| {
				readonly chunks?: readonly number[];
				readonly codecs?: readonly CodecInfo[];
		  }
		| undefined;
	readonly signal?: AbortSignal;
}

/** One planned array. */
export interface PlannedArray {
	readonly source: string;
	readonly target: string;
	/** Reached through a link, copied as an array of its own. */
	readonly via?: "softLink" | "externalLink";
	readonly shape: readonly number[];
	readonly sourceDType: DType;
	readonly dtype: DType;
	/** "›f8 → <f8" when the target cannot keep the byte order. */
	readonly dtypeChanged?: string;
	readonly order: Order;
	readonly sourceChunks: readonly number[] | null;
	readonly sourceCodecs: readonly CodecInfo[];
	readonly chunks: readonly number[] | null;
	readonly codecs: readonly CodecInfo[] | undefined;
	readonly fillValue: Scalar | undefined;
	readonly attrs: Attributes;
	readonly plan: ArrayCopyPlan;
}

/** One planned group (tree targets). */
export interface PlannedGroup {
	readonly source: string | null;
	readonly target: string;
	readonly attrs: Attributes;
}

/** Something the target cannot hold, reported to the user. */
export interface NotCarried {
	readonly path: string;
	readonly what: string;
	readonly reason: string;
}

/** The plan of a container copy. */
export interface TreePlan {
	readonly sourceFormat: string;
	readonly targetFormat: string;
	readonly arrays: readonly PlannedArray[];
	readonly groups: readonly PlannedGroup[];
	/** Attributes of the root group (carried when the target has a root with attributes). */
	readonly rootAttrs: Attributes;
	readonly notCarried: readonly NotCarried[];
	/** Sum of the arrays' sizes in their target dtype (uncompressed). */
	readonly totalBytes: number;
	/** Largest estimated peak memory of any array copy. */
	readonly peakMemory: number;
}

/** "/grp/x" → "grp/x"; "/" → "". */
export function normalizePath(path: string): string {
	return path.replace(/^\/+/, "").replace(/\/+$/, "");
}

/**
 * Plans a container copy.
 * @throws {UnsupportedDTypeError} the target cannot express some array's dtype (all are named).
 * @throws {UnsupportedError} several arrays into a single-array format without a selection.
 * @throws {NotFoundError} a selected array does not exist.
 * @throws {LimitExceededError} the memory budget cannot hold a target chunk.
 */
export async function planTree(
	src: ContainerStore,
	target: TreeTarget,
	options: TreePlanOptions = {},
): Promise<TreePlan> {
	const caps = target.capabilities;
	const format = target.format ?? target.name ?? "target";
	const notCarried: NotCarried[] = [];
	const entries = await src.list("", { recursive: true });
	const picks: { entry: TreeEntry; target: string }[] = [];
	const groups: PlannedGroup[] = [];
	let rootAttrs: Attributes = {};

	if (options.select && options.select.length > 0) {
		for (const sel of options.select) {
			const want = normalizePath(sel.source);
			const entry = entries.find((e) => normalizePath(e.path) === want) ?? {
				path: sel.source,
				kind: "array" as const,
			};
			if (entry.kind === "group")
				throw new UnsupportedError(
					`${sel.source} is a group, not an array; --dataset picks arrays`,
					{ target: src.target },
				);
			picks.push({ entry, target: normalizePath(sel.target ?? sel.source) });
		}
	} else {
		rootAttrs = await src.attrs("");
		for (const e of entries) {
			const path = normalizePath(e.path);
			if (e.kind === "group") {
				if (path === "") continue;
				groups.push({
					source: e.path,
					target: path,
					attrs: await src.attrs(e.path),
				});
			} else if (e.kind === "externalLink" && !options.followExternalLinks) {
				notCarried.push({
					path: e.path,
					what: "external link",
					reason: `not followed (points to ${e.target ?? "?"}); pass followExternalLinks / --follow-external-links`,
				});
			} else {
				picks.push({ entry: e, target: path });
			}
		}
	}

	// Open each candidate to read its layout; links that do not lead to an array are reported.
	const found: {
		entry: TreeEntry;
		target: string;
		info: MemberInfo;
		attrs: Attributes;
	}[] = [];
	for (const p of picks) {
		options.signal?.throwIfAborted();
		try {
			const store = await src.openArray(p.entry.path, linkOptions(p.entry));
			try {
				found.push({ ...p, info: store.info, attrs: await store.attrs() });
			} finally {
				await store.close();
			}
		} catch (err) {
			if (p.entry.kind === "array" || !isArrayStoreError(err)) throw err;
			notCarried.push({
				path: p.entry.path,
				what: p.entry.kind === "softLink" ? "soft link" : "external link",
				reason: `does not lead to an array (${p.entry.target ?? "?"}): ${(err as Error).message}`,
			});
		}
	}

	// Shape the hierarchy for the target.
	if (caps.hierarchy === "none") {
		if (found.length !== 1) {
			const names = found.map((f) => f.entry.path || '""').join(", ");
			throw new UnsupportedError(
				found.length === 0
					? `${src.target} holds no array to copy`
					: `${format} files hold one array, ${src.target} has ${found.length}: ${names}; pick one with --dataset`,
				{ target: src.target },
			);
		}
		for (const f of found) f.target = "";
		for (const g of groups)
			if (Object.keys(g.attrs).length > 0)
				notCarried.push({
					path: g.source ?? g.target,
					what: "group attributes",
					reason: `${format} has no groups`,
				});
		groups.length = 0;
	} else {
		for (const f of found)
			if (f.target === "") f.target = normalizePath(options.rootName ?? "data");
	}
	if (caps.hierarchy === "flat") {
		for (const g of groups)
			if (Object.keys(g.attrs).length > 0)
				notCarried.push({
					path: g.source ?? g.target,
					what: "group attributes",
					reason: `${format} has no groups (arrays keep their paths as keys)`,
				});
		groups.length = 0;
	} else if (caps.hierarchy === "tree") {
		// Every ancestor of an array must exist as a group.
		const have = new Set(groups.map((g) => g.target));
		for (const f of found) {
			const parts = f.target.split("/");
			for (let i = 1; i < parts.length; i++) {
				const g = parts.slice(0, i).join("/");
				if (!have.has(g)) {
					have.add(g);
					groups.push({ source: null, target: g, attrs: {} });
				}
			}
		}
		groups.sort(
			(a, b) =>
				depth(a.target) - depth(b.target) || (a.target < b.target ? -1 : 1),
		);
	}
	if (caps.attributes !== "readwrite" || caps.hierarchy === "none") {
		if (Object.keys(rootAttrs).length > 0)
			notCarried.push({
				path: "/",
				what: "root attributes",
				reason: `${format} cannot store them`,
			});
		rootAttrs = {};
	}

	const cast =
		options.dtype === undefined
			? undefined
			: typeof options.dtype === "string"
				? parseDType(options.dtype)
				: options.dtype;
	const arrays: PlannedArray[] = [];
	const refused: string[] = [];
	let firstRefusal: UnsupportedDTypeError | undefined;
	for (const f of found) {
		const planned = planMember(
			f,
			target,
			options,
			cast,
			notCarried,
			src.format,
		);
		if (planned instanceof UnsupportedDTypeError) {
			firstRefusal ??= planned;
			refused.push(
				`${src.target}${f.entry.path ? `#${f.entry.path}` : ""}: ${planned.message}`,
			);
			continue;
		}
		arrays.push(planned);
	}
	if (firstRefusal) {
		throw new UnsupportedDTypeError(
			refused.length === 1
				? `${refused[0]}`
				: `${refused.length} arrays cannot be stored as ${format}: ${refused.join("; ")}`,
			{ dtype: firstRefusal.dtype, format: format, target: src.target },
		);
	}
	const seen = new Set<string>();
	for (const a of arrays) {
		if (seen.has(a.target))
			throw new UnsupportedError(
				`two arrays would be written to ${a.target || '""'}`,
				{ target: src.target },
			);
		seen.add(a.target);
	}
	return {
		sourceFormat: src.format,
		targetFormat: format,
		arrays,
		groups,
		rootAttrs,
		notCarried,
		totalBytes: arrays.reduce((s, a) => s + a.plan.totalBytes, 0),
		peakMemory: arrays.reduce((m, a) => Math.max(m, a.plan.peakMemory), 0),
	};
}

export {
	DEFAULT_CHUNK_BYTES,
	defaultChunks,
	linkOptions,
} from "./plan-member.js";

// --- internal ---

function depth(path: string): number {
	return path === "" ? 0 : path.split("/").length;
}
