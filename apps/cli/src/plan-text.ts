/**
 * The plan of an output as text (`--dry-run`) and as a JSON event: arrays with shapes, dtypes,
 * chunks and codecs, the estimated output size and the peak memory.
 */
import { type CodecInfo, formatBytes } from "@arraystore/core";
import type { PreparedJob } from "./job.js";

/** "zstd(level=3)", "blosc(cname=lz4, clevel=5, shuffle=1)", "none". */
export function codecText(codecs: readonly CodecInfo[] | undefined): string {
	if (codecs === undefined) return "default";
	if (codecs.length === 0) return "none";
	return codecs
		.map((c) => {
			const cfg = Object.entries(c.config ?? {})
				.filter(([, v]) => typeof v !== "object" || v === null)
				.map(([k, v]) => `${k}=${String(v)}`);
			return cfg.length > 0 ? `${c.name}(${cfg.join(", ")})` : c.name;
		})
		.join(" → ");
}

function shapeText(shape: readonly number[] | null | undefined): string {
	return shape ? `[${shape.join(", ")}]` : "-";
}

/** The human-readable plan of one output. */
export function describePlan(job: PreparedJob, maxMemory: number): string {
	const { plan, spec, paths } = job;
	const lines = [
		`plan: ${spec.source.file} (${plan.sourceFormat}) → ${paths.final} (${plan.targetFormat})`,
	];
	for (const a of plan.arrays) {
		const from = a.source === "" ? '""' : a.source;
		const to = a.target === "" ? '""' : a.target;
		lines.push(
			`  ${from} → ${to}${a.via ? ` (via ${a.via})` : ""}`,
			`      dtype ${a.sourceDType.str}${a.dtype.str !== a.sourceDType.str ? ` → ${a.dtype.str}` : ""}  shape ${shapeText(a.shape)}  order ${a.order}`,
			`      chunks ${shapeText(a.sourceChunks)} → ${shapeText(a.chunks)}  codecs ${codecText(a.sourceCodecs)} → ${codecText(a.codecs)}`,
			`      ${a.plan.blockCount} block${a.plan.blockCount === 1 ? "" : "s"} of ${shapeText(a.plan.blockShape)} (${formatBytes(a.plan.blockBytes)}), ${formatBytes(a.plan.totalBytes)}`,
		);
	}
	if (plan.groups.length > 0)
		lines.push(`  groups: ${plan.groups.map((g) => g.target).join(", ")}`);
	for (const n of plan.notCarried)
		lines.push(`  not carried: ${n.path} ${n.what}: ${n.reason}`);
	for (const a of plan.arrays)
		if (a.dtypeChanged)
			lines.push(
				`  dtype change: ${a.target || '""'} ${a.dtypeChanged} (the target cannot keep the byte order)`,
			);
	lines.push(
		`  estimated output: ${formatBytes(plan.totalBytes)} before compression, ${plan.arrays.length} array${plan.arrays.length === 1 ? "" : "s"}`,
		`  peak memory: about ${formatBytes(plan.peakMemory)} (budget ${formatBytes(maxMemory)})`,
	);
	return `${lines.join("\n")}\n`;
}

/** The plan of one output as a JSON event. */
export function planJson(
	job: PreparedJob,
	maxMemory: number,
): Record<string, unknown> {
	const { plan, spec, paths } = job;
	return {
		event: "plan",
		source: spec.source.file,
		sourceFormat: plan.sourceFormat,
		output: paths.final,
		targetFormat: plan.targetFormat,
		arrays: plan.arrays.map((a) => ({
			source: a.source,
			target: a.target,
			...(a.via ? { via: a.via } : {}),
			shape: a.shape,
			sourceDType: a.sourceDType.str,
			dtype: a.dtype.str,
			...(a.dtypeChanged ? { dtypeChanged: a.dtypeChanged } : {}),
			order: a.order,
			sourceChunks: a.sourceChunks,
			chunks: a.chunks,
			sourceCodecs: a.sourceCodecs,
			codecs: a.codecs ?? "default",
			blockShape: a.plan.blockShape,
			blocks: a.plan.blockCount,
			bytes: a.plan.totalBytes,
			peakMemory: a.plan.peakMemory,
		})),
		groups: plan.groups.map((g) => g.target),
		notCarried: plan.notCarried,
		estimatedBytes: plan.totalBytes,
		peakMemory: plan.peakMemory,
		maxMemory,
	};
}
