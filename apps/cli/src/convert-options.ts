/**
 * The option values of `convert` as engine settings: the raw input layout, the plan options
 * (chunks, codecs, shards, casts, order) and format names.
 */
import {
	type CodecInfo,
	type DType,
	defaultChunks,
	isVString,
	type Layout,
	type TreePlanOptions,
} from "@arraystore/core";
import { FORMAT_ALIASES } from "./adapters.js";
import { UsageError } from "./errors.js";
import {
	checkDTypeText,
	type Flags,
	parseCodecs,
	parseCount,
	parseOrder,
	parseShapeList,
} from "./options.js";

/** A `--from`/`--to` value as an adapter name (and Zarr version). */
export function formatFlag(
	text: string,
	flag: string,
): { format: string; zarrFormat?: 2 | 3 } {
	const f = FORMAT_ALIASES[text.trim().toLowerCase()];
	if (!f)
		throw new UsageError(
			`${flag} must be one of ${Object.keys(FORMAT_ALIASES).join(", ")}, got ${JSON.stringify(text)}`,
		);
	return f;
}

/** `--dtype --shape --offset --order` of raw input (the sidecar is used when they are absent). */
export function rawLayout(flags: Flags): Partial<Layout> {
	return {
		...(flags.dtype !== undefined
			? { dtype: checkDTypeText(flags.dtype) }
			: {}),
		...(flags.shape !== undefined
			? { shape: parseShapeList(flags.shape, "--shape") }
			: {}),
		...(flags.offset !== undefined
			? { offset: parseCount(flags.offset, "--offset") }
			: {}),
		...(flags.order !== undefined ? { order: parseOrder(flags.order) } : {}),
	};
}

/** The plan options of the output flags. */
export function planOptions(
	flags: Flags,
	ctx: {
		readonly rawInput: boolean;
		readonly maxMemory: number;
		readonly concurrency: number;
		readonly zarrFormat: 2 | 3;
	},
): TreePlanOptions {
	const chunks =
		flags.chunks !== undefined
			? parseShapeList(flags.chunks, "--chunks", 1)
			: undefined;
	const codecs =
		flags.codec !== undefined ? parseCodecs(flags.codec) : undefined;
	const shards =
		flags.shards !== undefined
			? parseShapeList(flags.shards, "--shards", 1)
			: undefined;
	if (shards && ctx.zarrFormat !== 3)
		throw new UsageError("--shards needs Zarr v3 output");
	if (flags["unsafe-cast"] && (ctx.rawInput || flags.dtype === undefined))
		throw new UsageError(
			"--unsafe-cast goes with --dtype (a cast of the output)",
		);
	const layout = shards ? shardLayout(shards, chunks, codecs) : undefined;
	return {
		maxMemory: ctx.maxMemory,
		concurrency: ctx.concurrency,
		followExternalLinks: flags["follow-external-links"] === true,
		...(chunks ? { chunks } : {}),
		...(codecs ? { codecs } : {}),
		...(layout ? { layout } : {}),
		...(!ctx.rawInput && flags.dtype !== undefined
			? { dtype: checkDTypeText(flags.dtype) }
			: {}),
		...(!ctx.rawInput && flags.order !== undefined
			? { order: parseOrder(flags.order) }
			: {}),
		unsafeCast: flags["unsafe-cast"] === true,
	};
}

// --shards: shard shape as the Zarr chunk grid, --chunks (or ~1 MiB) as the inner chunks.
function shardLayout(
	shards: readonly number[],
	inner: readonly number[] | undefined,
	codecs: readonly CodecInfo[] | undefined,
): NonNullable<TreePlanOptions["layout"]> {
	if (inner && inner.length !== shards.length)
		throw new UsageError(
			"--chunks and --shards need the same number of dimensions",
		);
	if (inner?.some((c, d) => (shards[d] as number) % c !== 0))
		throw new UsageError("--shards must be whole multiples of --chunks");
	return (a: { readonly shape: readonly number[]; readonly dtype: DType }) => {
		if (a.shape.length !== shards.length || isVString(a.dtype))
			return undefined;
		const chunkShape =
			inner ??
			defaultChunks(shards, a.dtype.itemsize).map((c, d) => {
				// Inner chunks must tile the shard exactly.
				let x = c;
				while ((shards[d] as number) % x !== 0) x--;
				return x;
			});
		return {
			chunks: shards,
			codecs: [
				{
					name: "sharding_indexed",
					config: {
						chunk_shape: chunkShape,
						codecs: codecs ?? [{ name: "zstd", config: { level: 0 } }],
					},
				},
			],
		};
	};
}
