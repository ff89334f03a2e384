/**
 * `copyTree`: copies a whole container (or the arrays picked from it) into another one: groups
 * with their attributes, arrays with theirs, soft links as copies of the array they lead to
 * (never looping: `list` does not follow links), external links only on request. Plain values
 * a pickle holds arrive as attributes; whatever the target cannot hold is reported.
 */
import { isArrayStoreError } from "../errors.js";
import type { ArrayStore, Attributes, ContainerStore } from "../types.js";
import { copyArray } from "./copy-array.js";
import type { ArrayCopyResult, CopyOptions } from "./options.js";
import {
	linkOptions,
	type NotCarried,
	type PlannedArray,
	planTree,
	type TreePlan,
	type TreePlanOptions,
} from "./plan-tree.js";

/** Options of `copyTree`. */
export interface CopyTreeOptions extends CopyOptions, TreePlanOptions {
	/** A plan made earlier with `planTree` (the CLI plans before creating the output). */
	readonly plan?: TreePlan;
	/** Called when an array starts (for logs). */
	readonly onArray?: (array: PlannedArray, index: number) => void;
}

/** What `copyTree` did. */
export interface TreeCopyReport {
	readonly plan: TreePlan;
	readonly arrays: readonly ArrayCopyResult[];
	/** Groups created by this run. */
	readonly groups: readonly string[];
	/** Plan-time omissions plus attributes the target refused. */
	readonly notCarried: readonly NotCarried[];
	/** "path: >f8 → <f8" for every array whose byte order the target could not keep. */
	readonly dtypeChanges: readonly string[];
}

/**
 * Copies `src` into `dst` (opened for writing: mode "w+", or "r+" when resuming with a journal).
 * @throws {UnsupportedDTypeError} some array cannot be stored by the target (before writing).
 * @example
 * await using src = await registry.openContainer("in.h5");
 * await using dst = await registry.openContainer("out.zarr", { mode: "w+" });
 * const report = await copyTree(src, dst, { maxMemory: 128 << 20 });
 */
export async function copyTree(
	src: ContainerStore,
	dst: ContainerStore,
	options: CopyTreeOptions = {},
): Promise<TreeCopyReport> {
	const plan = options.plan ?? (await planTree(src, dst, options));
	const journal = options.journal;
	const durable = options.durable !== false;
	const notCarried: NotCarried[] = [...plan.notCarried];
	const created: string[] = [];
	for (const g of plan.groups) {
		options.signal?.throwIfAborted();
		if (journal?.hasGroup(g.target)) continue;
		await dst.createGroup(g.target);
		await setAttrsCarefully(
			(a) => dst.setAttrs(g.target, a),
			g.attrs,
			g.target,
			notCarried,
		);
		created.push(g.target);
		if (journal) {
			await dst.flush();
			await journal.recordGroup(g.target, durable);
		}
	}
	const results: ArrayCopyResult[] = [];
	let bytesBefore = 0;
	for (const [i, a] of plan.arrays.entries()) {
		options.signal?.throwIfAborted();
		if (journal?.isDone(a.target)) {
			bytesBefore += a.plan.totalBytes;
			continue;
		}
		options.onArray?.(a, i);
		const source = await src.openArray(a.source, {
			mode: "r",
			...linkOptions({ kind: a.via ?? "array" }),
		});
		try {
			const target = await openTarget(
				dst,
				a,
				journal?.isCreated(a.target) === true,
			);
			try {
				if (journal && !journal.isCreated(a.target)) {
					await target.flush({ durable });
					await journal.recordCreated(a.target, durable);
				}
				await setAttrsCarefully(
					(attrs) => target.setAttrs(attrs),
					a.attrs,
					a.target,
					notCarried,
				);
				results.push(
					await copyArray(source, target, {
						...options,
						blockShape: a.plan.blockShape,
						budgetBlockBytes: a.plan.budget.maxBlockBytes,
						journalKey: a.target,
						progressContext: {
							array: a.target,
							arrayIndex: i,
							arrayCount: plan.arrays.length,
							bytesBefore,
							bytesTotal: plan.totalBytes,
						},
					}),
				);
				await target.flush({ durable });
			} finally {
				await target.close();
			}
			await journal?.recordDone(a.target, durable);
		} finally {
			await source.close();
		}
		bytesBefore += a.plan.totalBytes;
	}
	await setAttrsCarefully(
		(a) => dst.setAttrs("", a),
		plan.rootAttrs,
		"",
		notCarried,
	);
	await dst.flush();
	return {
		plan,
		arrays: results,
		groups: created,
		notCarried,
		dtypeChanges: plan.arrays
			.filter((a) => a.dtypeChanged)
			.map((a) => `${a.target || '""'}: ${a.dtypeChanged}`),
	};
}

// --- internal ---

async function openTarget(
	dst: ContainerStore,
	a: PlannedArray,
	exists: boolean,
): Promise<ArrayStore> {
	if (exists) return dst.openArray(a.target, { mode: "r+" });
	return dst.createArray(a.target, {
		dtype: a.dtype,
		shape: a.shape,
		order: a.order,
		...(a.chunks ? { chunks: a.chunks } : {}),
		...(a.codecs ? { codecs: a.codecs } : {}),
		...(a.fillValue !== undefined ? { fillValue: a.fillValue } : {}),
	});
}

// Sets attributes; when the target refuses the set, keeps every attribute it accepts one by
// one (works whether setAttrs merges or replaces) and reports the others. I/O errors propagate.
async function setAttrsCarefully(
	set: (attrs: Attributes) => Promise<void>,
	attrs: Attributes,
	path: string,
	notCarried: NotCarried[],
): Promise<void> {
	if (Object.keys(attrs).length === 0) return;
	try {
		await set(attrs);
		return;
	} catch (err) {
		if (!refusal(err)) throw err;
	}
	const accepted: Record<string, Attributes[string]> = {};
	for (const [k, v] of Object.entries(attrs)) {
		try {
			await set({ ...accepted, [k]: v });
			accepted[k] = v;
		} catch (err) {
			if (!refusal(err)) throw err;
			notCarried.push({
				path: path || "/",
				what: `attribute ${JSON.stringify(k)}`,
				reason: (err as Error).message,
			});
		}
	}
}

function refusal(err: unknown): boolean {
	return (
		isArrayStoreError(err) && err.code !== "IO_ERROR" && err.code !== "CLOSED"
	);
}
