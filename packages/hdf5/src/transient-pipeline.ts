/**
 * Datasets written through the JavaScript deflate filter (js-filter.ts) carry that filter in
 * their pipeline message only while this process writes them. Before the file is flushed or
 * closed, the message is rewritten to the standard shuffle + deflate pipeline that describes
 * the same chunk bytes ("final"); a later write puts the filter back first ("fast"). A file
 * left in the fast state by a crash still reads here (the filter decodes), and opening it for
 * writing adopts the dataset again, so the next close finalises it.
 */
import { MalformedError } from "@arraystore/core";
import { ADAPTER } from "./errors.js";
import type { H5File } from "./file-handle.js";
import { pipelineFor, type WriteFilter } from "./filters.js";
import { objectAddress } from "./header-patch.js";
import {
	JS_FILTER_CD_COUNT,
	JS_FILTER_ID,
	JS_FILTER_NAME,
} from "./js-filter.js";
import { encodePipeline, MSG } from "./messages.js";
import type { H5Filter } from "./module.js";
import { ObjectHeader, withFile } from "./object-header.js";

/** Deflate level and shuffle element size (0 = no shuffle) of a transient dataset. */
export interface DeflatePlan {
	readonly level: number;
	readonly shuffle: number;
}

/** One dataset whose pipeline this process swaps. */
export interface Transient extends DeflatePlan {
	/** Object header address. */
	readonly address: number;
	/** The standard pipeline message. */
	readonly final: Uint8Array;
	/** The filter's pipeline message as HDF5 wrote it (known after the first finalisation). */
	fast: Uint8Array | null;
	state: "fast" | "final";
}

/** The filter parameters for a plan (padded so the message outsizes the standard one). */
export function jsFilterValues(plan: DeflatePlan): number[] {
	const cd = new Array<number>(JS_FILTER_CD_COUNT).fill(0);
	cd[0] = plan.level;
	cd[1] = plan.shuffle;
	return cd;
}

/** The plan for a pipeline the filter can write (deflate, or shuffle then deflate), else null. */
export function deflatePlan(
	filters: readonly WriteFilter[],
): DeflatePlan | null {
	const [a, b, ...rest] = filters;
	if (rest.length > 0 || a === undefined) return null;
	if (b === undefined)
		return a.id === 1 ? { level: a.cdValues[0] ?? 4, shuffle: 0 } : null;
	if (a.id !== 2 || b.id !== 1) return null;
	return { level: b.cdValues[0] ?? 4, shuffle: a.cdValues[0] ?? 0 };
}

/** The standard pipeline message for a plan (as h5py writes it: both filters optional). */
export function finalPipeline(plan: DeflatePlan): Uint8Array {
	const codecs = [
		...(plan.shuffle > 0 ? [{ name: "shuffle" }] : []),
		{ name: "gzip", config: { level: plan.level } },
	];
	const available = new Map([
		[1, "deflate"],
		[2, "shuffle"],
	]);
	return encodePipeline(pipelineFor(codecs, plan.shuffle, available));
}

/** The plan of a dataset whose pipeline is the filter alone (cd values as written), else null. */
export function planOf(
	filters: readonly {
		readonly id: number;
		readonly cd_values: readonly number[];
	}[],
): DeflatePlan | null {
	const f = filters[0];
	if (filters.length !== 1 || f?.id !== JS_FILTER_ID) return null;
	const level = f.cd_values[0] ?? -1;
	const shuffle = f.cd_values[1] ?? -1;
	if (!(level >= 0 && level <= 9 && shuffle >= 0 && shuffle < 65536))
		return null;
	return { level, shuffle };
}

/**
 * The plan of a dataset opened for writing whose pipeline is the JavaScript filter (created
 * so, or left so by a crash), recorded on its file so the next flush or close finalises it;
 * null for any other pipeline.
 */
export function adoptTransient(
	file: H5File,
	path: string,
	filters: readonly H5Filter[],
): DeflatePlan | null {
	const plan = planOf(filters);
	if (plan !== null && file.transient(path) === undefined)
		file.addTransient(path, {
			...plan,
			address: objectAddress(file, path),
			final: finalPipeline(plan),
			fast: null,
			state: "fast",
		});
	return plan;
}

// The first filter id of a version-1/2 pipeline message.
function firstFilter(body: Uint8Array): number {
	return (
		(body[body[0] === 1 ? 8 : 2] ?? 0) |
		((body[body[0] === 1 ? 9 : 3] ?? 0) << 8)
	);
}

function bad(msg: string, target: string): MalformedError {
	return new MalformedError(`${target}: ${msg}`, { adapter: ADAPTER, target });
}

/**
 * Rewrites the pipelines of `list` to `to` in the (closed) file at `path`. Each header must
 * hold what this process left there; anything else is refused before it is touched.
 */
export function swapPipelines(
	path: string,
	list: readonly Transient[],
	to: "fast" | "final",
	target: string,
): void {
	withFile(path, true, (fd, sb) => {
		for (const t of list) {
			if (t.state === to) continue;
			const header = ObjectHeader.read(fd, sb, t.address);
			const m = header.find(MSG.PIPELINE)[0];
			if (!m) throw bad("dataset header lost its filter pipeline", target);
			if (to === "final") {
				if (firstFilter(m.body) !== JS_FILTER_ID)
					throw bad(`no ${JS_FILTER_NAME} pipeline to finalise`, target);
				if (m.body.length < t.final.length)
					throw bad("filter pipeline message too small to finalise", target);
				t.fast = m.body.slice();
				header.replace(m, t.final);
			} else {
				const fast = t.fast;
				if (fast === null || !sameBytes(m.body, t.final))
					throw bad("dataset pipeline changed under the writer", target);
				header.replace(m, fast);
			}
			header.commit(fd);
			t.state = to;
		}
	});
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
	// A rewritten v1 message is padded to 8 bytes: compare the meaningful prefix.
	if (a.length < b.length) return false;
	for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
	for (let i = b.length; i < a.length; i++) if (a[i] !== 0) return false;
	return true;
}
