/**
 * Planning one array of a container copy: its target dtype (byte order adapted where the
 * target cannot create it, casts checked), order, chunks (the source's or about 1 MiB, never
 * more than the budget allows), codecs, attributes and block plan.
 */
import { isBigEndian, withByteOrder } from "../dtype/format.js";
import type { DType } from "../dtype/model.js";
import type { Scalar } from "../dtype/typed.js";
import { UnsupportedDTypeError, UnsupportedError } from "../errors.js";
import type { Attributes, CodecInfo, Order, TreeEntry } from "../types.js";
import {
	DEFAULT_CONCURRENCY,
	DEFAULT_MAX_MEMORY,
	memoryBudget,
} from "./budget.js";
import { castKind } from "./cast.js";
import { planArrayCopy, planItemsize } from "./plan.js";
import type {
	NotCarried,
	PlannedArray,
	TreePlanOptions,
	TreeTarget,
} from "./plan-tree.js";

/** Default chunk size chosen for chunked targets when neither the caller nor the source gives one. */
export const DEFAULT_CHUNK_BYTES: number = 1024 * 1024;

/** The open options a source array needs (external links opt in). */
export function linkOptions(entry: Pick<TreeEntry, "kind">): {
	adapterOptions?: Readonly<Record<string, unknown>>;
} {
	return entry.kind === "externalLink"
		? { adapterOptions: { followExternalLinks: true } }
		: {};
}

/** A chunk shape of about `targetBytes`: the array's shape, largest dimensions halved until it fits. */
export function defaultChunks(
	shape: readonly number[],
	itemsize: number,
	targetBytes: number = DEFAULT_CHUNK_BYTES,
): number[] {
	const chunk = shape.map((n) => Math.max(1, n));
	const bytes = () => chunk.reduce((a, b) => a * b, Math.max(1, itemsize));
	while (bytes() > targetBytes) {
		let d = 0;
		for (let i = 1; i < chunk.length; i++)
			if ((chunk[i] as number) > (chunk[d] as number)) d = i;
		if ((chunk[d] as number) <= 1) break;
		chunk[d] = Math.ceil((chunk[d] as number) / 2);
	}
	return chunk;
}

/** What planning needs to know of a source array. */
export interface MemberInfo {
	readonly dtype: DType;
	readonly shape: readonly number[];
	readonly order: Order;
	readonly chunks: readonly number[] | null;
	readonly codecs: readonly CodecInfo[];
	readonly fillValue: unknown;
}

/** Plans one array; an `UnsupportedDTypeError` is returned (not thrown) so all refusals can be named together. */
export function planMember(
	f: {
		entry: TreeEntry;
		target: string;
		info: MemberInfo;
		attrs: Attributes;
	},
	target: TreeTarget,
	options: TreePlanOptions,
	cast: DType | undefined,
	notCarried: NotCarried[],
	sourceFormat: string,
): PlannedArray | UnsupportedDTypeError {
	const caps = target.capabilities;
	const format = target.format ?? target.name ?? "target";
	const info = f.info;
	let dtype = info.dtype;
	if (cast) {
		const kind = castKind(info.dtype, cast);
		if (kind === "impossible")
			return new UnsupportedDTypeError(
				`cannot cast ${info.dtype.str} to ${cast.str}`,
				{ dtype: cast.str },
			);
		if (kind === "unsafe" && !options.unsafeCast)
			return new UnsupportedDTypeError(
				`casting ${info.dtype.str} to ${cast.str} may change values; pass --unsafe-cast to allow it`,
				{ dtype: cast.str },
			);
		dtype = cast;
	}
	let dtypeChanged: string | undefined;
	if (isBigEndian(dtype) && !caps.byteOrders.includes(">")) {
		const le = withByteOrder(dtype, "<");
		dtypeChanged = `${dtype.str} → ${le.str}`;
		dtype = le;
	}
	const support = target.checkDType?.(dtype) ?? { ok: true };
	if (!support.ok)
		return new UnsupportedDTypeError(
			`${format} cannot store ${dtype.str}: ${support.reason}`,
			{
				dtype: dtype.str,
				format: format,
			},
		);
	let order: Order = caps.orders.includes(info.order) ? info.order : "C";
	if (options.order) {
		if (!caps.orders.includes(options.order))
			throw new UnsupportedError(
				`${format} cannot create ${options.order}-order arrays`,
			);
		order = options.order;
	}
	const shape = info.shape;
	const itemsize = planItemsize(dtype);
	const custom = options.layout?.({ path: f.entry.path, shape, dtype });
	const wanted = custom?.chunks ?? options.chunks;
	let chunks: readonly number[] | null = null;
	if (caps.chunked && shape.length > 0) {
		if (wanted && wanted.length === shape.length) {
			chunks = wanted;
		} else {
			const sourceChunks =
				info.chunks && info.chunks.length === shape.length
					? info.chunks.map((c, d) =>
							Math.max(1, Math.min(c, Math.max(1, shape[d] as number))),
						)
					: null;
			const budget = memoryBudget({
				maxMemory: options.maxMemory ?? DEFAULT_MAX_MEMORY,
				concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
				prefetch: options.prefetch ?? 1,
				extraReserveBytes: options.extraReserveBytes ?? 0,
				sourceFormat,
				targetFormat: format,
				sourceChunkBytes: sourceChunks
					? sourceChunks.reduce((a, b) => a * b, planItemsize(info.dtype))
					: 0,
			});
			const base = sourceChunks ?? defaultChunks(shape, itemsize);
			// Never pick by default a chunk the budget cannot hold.
			chunks = defaultChunks(
				base,
				itemsize,
				Math.min(
					budget.maxBlockBytes,
					Math.max(
						DEFAULT_CHUNK_BYTES,
						base.reduce((a, b) => a * b, itemsize),
					),
				),
			);
		}
	}
	const attrs =
		caps.attributes === "readwrite" && caps.hierarchy !== "none" ? f.attrs : {};
	if (attrs !== f.attrs && Object.keys(f.attrs).length > 0)
		notCarried.push({
			path: f.entry.path,
			what: "array attributes",
			reason: `${format} cannot store attributes`,
		});
	const plan = planArrayCopy(
		{
			shape,
			dtype: info.dtype,
			targetDType: dtype,
			sourceChunks: info.chunks,
			targetChunks: chunks,
			targetOrder: order,
			sourceFormat,
			targetFormat: format,
		},
		options,
	);
	const fill = info.fillValue;
	return {
		source: f.entry.path,
		target: f.target,
		...(f.entry.kind === "softLink" || f.entry.kind === "externalLink"
			? { via: f.entry.kind }
			: {}),
		shape: [...shape],
		sourceDType: info.dtype,
		dtype,
		...(dtypeChanged ? { dtypeChanged } : {}),
		order,
		sourceChunks: info.chunks,
		sourceCodecs: info.codecs,
		chunks,
		codecs: custom?.codecs ?? options.codecs,
		fillValue:
			caps.chunked && !cast && fill !== null && fill !== undefined
				? (fill as Scalar)
				: undefined,
		attrs,
		plan,
	};
}
