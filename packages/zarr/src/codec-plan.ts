/**
 * Codec pipelines: Zarr v2 `filters`/`compressor` and Zarr v3 `codecs` parsed into one plan
 * (chunk layout permutation, `bytes` endianness, optional sharding, and the bytes→bytes chain
 * the kernel runs), and the reverse: metadata for the codecs a caller asks for at creation.
 */
import {
	type CodecInfo,
	MalformedError,
	UnsupportedCodecError,
} from "@arraystore/core";
import { isJsonObject, type JsonObject, type JsonValue } from "./json.js";
import type { KernelCodec } from "./kernel.js";

/** How one (inner) chunk is encoded. */
export interface ChunkPlan {
	/** Logical dimensions in storage order (C order over the permuted chunk). */
	readonly perm: readonly number[];
	/** bytes→bytes codecs, first applied first on encode. */
	readonly chain: readonly KernelCodec[];
	/** Elements are variable-length UTF-8 strings (`vlen-utf8` is the array→bytes step). */
	readonly vlen?: boolean;
}

/** `sharding_indexed`. */
export interface ShardPlan {
	readonly innerShape: readonly number[];
	readonly inner: ChunkPlan;
	/** Codecs after `bytes` in `index_codecs` (only crc32c is accepted). */
	readonly indexChain: readonly KernelCodec[];
	readonly indexEndian: "little" | "big";
	readonly indexLocation: "start" | "end";
}

/** A parsed pipeline. */
export interface CodecPlan {
	/** The (inner) chunk pipeline; for sharded arrays the outer level is `shard`. */
	readonly chunk: ChunkPlan;
	/** v3: endian of the `bytes` codec (undefined for 1-byte types or v2). */
	readonly endian: "little" | "big" | undefined;
	readonly shard?: ShardPlan;
	/** For `ArrayInfo.codecs`. */
	readonly info: readonly CodecInfo[];
}

/** blosc shuffle names (v3) → numcodecs numbers (v2). */
export const BLOSC_SHUFFLE: Readonly<Record<string, number>> = {
	noshuffle: 0,
	shuffle: 1,
	bitshuffle: 2,
};
/** blosc inner compressors. */
export const BLOSC_CNAMES: ReadonlySet<string> = new Set([
	"blosclz",
	"lz4",
	"lz4hc",
	"snappy",
	"zlib",
	"zstd",
]);
/** v3 blosc shuffle names by number. */
export const BLOSC_SHUFFLE_NAMES: readonly string[] = [
	"noshuffle",
	"shuffle",
	"bitshuffle",
];

function unsupported(name: string, why = "is not supported"): never {
	throw new UnsupportedCodecError(`Zarr codec ${JSON.stringify(name)} ${why}`, {
		codec: name,
		direction: "decode",
	});
}

/** A JSON number (or bigint) as a number, else `dflt`. */
export function num(v: JsonValue | undefined, dflt: number): number {
	return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : dflt;
}

/** A numcodecs-style codec config (`{id, ...}` or v3 `{name, configuration}`) → kernel codec. */
function kernelCodec(
	id: string,
	cfg: JsonObject,
	itemsize: number,
): KernelCodec {
	switch (id) {
		case "blosc": {
			const cname = typeof cfg.cname === "string" ? cfg.cname : "lz4";
			if (!BLOSC_CNAMES.has(cname)) unsupported(`blosc/${cname}`);
			const sh = cfg.shuffle;
			const shuffle = typeof sh === "string" ? BLOSC_SHUFFLE[sh] : num(sh, 1);
			if (shuffle === undefined || shuffle < -1 || shuffle > 2)
				throw new MalformedError(`blosc: bad shuffle ${JSON.stringify(sh)}`);
			// AUTOSHUFFLE (-1) means bit-shuffle for 1-byte items, byte-shuffle otherwise.
			const mode = shuffle === -1 ? (itemsize === 1 ? 2 : 1) : shuffle;
			return {
				id,
				config: {
					cname,
					clevel: num(cfg.clevel, 5),
					shuffle: mode,
					blocksize: num(cfg.blocksize, 0),
					// v3 names it; v2 (numcodecs) takes the item size of the chunk's array.
					typesize: Math.max(1, num(cfg.typesize, itemsize)),
				},
			};
		}
		case "zstd":
			return { id, config: { level: num(cfg.level, 0) } };
		case "gzip":
		case "zlib":
			return { id, config: { level: num(cfg.level, 1) } };
		case "lz4":
			return { id, config: { acceleration: num(cfg.acceleration, 1) } };
		case "bz2":
			return { id, config: { level: num(cfg.level, 9) } };
		case "crc32c":
			return { id, config: {} };
		case "shuffle":
			return { id, config: { elementsize: num(cfg.elementsize, itemsize) } };
		default:
			return unsupported(id);
	}
}

function splitV2(conf: JsonValue): { id: string; cfg: JsonObject } {
	if (!isJsonObject(conf) || typeof conf.id !== "string")
		throw new MalformedError(`bad numcodecs config ${JSON.stringify(conf)}`);
	const { id, ...cfg } = conf;
	return { id: id.replace(/^numcodecs\./, ""), cfg };
}

/** Parses `.zarray` `filters` + `compressor`. */
export function planV2(
	zarray: JsonObject,
	ndim: number,
	order: "C" | "F",
	itemsize: number,
): CodecPlan {
	const chain: KernelCodec[] = [];
	const info: CodecInfo[] = [];
	const filters = zarray.filters;
	const object =
		typeof zarray.dtype === "string" && /^[|<>=]?O$/.test(zarray.dtype);
	let vlen = false;
	if (filters !== null && filters !== undefined) {
		if (!Array.isArray(filters))
			throw new MalformedError(".zarray filters must be a list or null");
		for (const [i, f] of filters.entries()) {
			const { id, cfg } = splitV2(f);
			// Object arrays name their object codec as the first filter (zarr-python 2).
			if (object && i === 0) {
				if (id !== "vlen-utf8")
					unsupported(
						id,
						"is not supported as an object codec (only vlen-utf8)",
					);
				vlen = true;
				info.push({ name: id, config: cfg });
				continue;
			}
			if (id !== "shuffle")
				unsupported(id, "is not supported as a Zarr v2 filter");
			chain.push(kernelCodec(id, cfg, itemsize));
			info.push({ name: id, config: cfg });
		}
	}
	const comp = zarray.compressor;
	if (comp !== null && comp !== undefined) {
		const { id, cfg } = splitV2(comp);
		chain.push(kernelCodec(id, cfg, itemsize));
		info.push({ name: id, config: cfg });
	}
	if (object && !vlen)
		unsupported("object", "arrays need the vlen-utf8 object codec");
	const perm =
		order === "F" ? [...Array(ndim).keys()].reverse() : [...Array(ndim).keys()];
	return {
		chunk: { perm, chain, ...(vlen ? { vlen } : {}) },
		endian: undefined,
		info,
	};
}

function codecEntry(c: JsonValue): { name: string; cfg: JsonObject } {
	if (typeof c === "string") return { name: c, cfg: {} };
	if (!isJsonObject(c) || typeof c.name !== "string")
		throw new MalformedError(`bad codec ${JSON.stringify(c)}`);
	const cfg = c.configuration;
	return { name: c.name, cfg: isJsonObject(cfg) ? cfg : {} };
}

/** The permutation of a transpose codec config ("C", "F" or a list). */
export function transposeOrder(cfg: JsonObject, ndim: number): number[] {
	const o = cfg.order;
	if (o === "C") return [...Array(ndim).keys()];
	if (o === "F") return [...Array(ndim).keys()].reverse();
	if (!Array.isArray(o) || o.length !== ndim)
		throw new MalformedError(`transpose: order must list ${ndim} dimensions`);
	const seen = new Set<number>();
	for (const d of o) {
		if (
			typeof d !== "number" ||
			!Number.isInteger(d) ||
			d < 0 ||
			d >= ndim ||
			seen.has(d)
		)
			throw new MalformedError(`transpose: bad order ${JSON.stringify(o)}`);
		seen.add(d);
	}
	return o as number[];
}

interface V3Parsed {
	perm: number[];
	endian: "little" | "big" | undefined;
	chain: KernelCodec[];
	shard?: ShardPlan;
	vlen?: boolean;
}

function parseV3List(
	list: JsonValue | undefined,
	ndim: number,
	itemsize: number,
	allowShard: boolean,
): V3Parsed {
	if (!Array.isArray(list) || list.length === 0)
		throw new MalformedError("zarr.json codecs must be a non-empty list");
	let perm = [...Array(ndim).keys()];
	let endian: "little" | "big" | undefined;
	const chain: KernelCodec[] = [];
	let shard: ShardPlan | undefined;
	let stage: "a2a" | "b2b" = "a2a";
	let vlen = false;
	for (const c of list) {
		const { name, cfg } = codecEntry(c);
		if (stage === "a2a") {
			if (name === "vlen-utf8" || name === "numcodecs.vlen-utf8") {
				vlen = true;
				stage = "b2b";
				continue;
			}
			if (name === "transpose") {
				const p = transposeOrder(cfg, ndim);
				perm = p.map((k) => perm[k] as number);
				continue;
			}
			if (name === "bytes" || name === "endian") {
				const e = cfg.endian;
				if (e !== undefined && e !== "little" && e !== "big")
					throw new MalformedError(`bytes: bad endian ${JSON.stringify(e)}`);
				endian = e;
				stage = "b2b";
				continue;
			}
			if (name === "sharding_indexed") {
				if (!allowShard) unsupported(name, "cannot be nested");
				if (perm.some((d, i) => d !== i))
					unsupported("transpose", "before sharding_indexed is not supported");
				const innerShape = cfg.chunk_shape;
				if (
					!Array.isArray(innerShape) ||
					innerShape.length !== ndim ||
					!innerShape.every(
						(n) => typeof n === "number" && Number.isInteger(n) && n > 0,
					)
				) {
					throw new MalformedError(
						"sharding_indexed: chunk_shape must list positive integers, one per dimension",
					);
				}
				const inner = parseV3List(cfg.codecs, ndim, itemsize, false);
				const idx = parseV3List(
					cfg.index_codecs ?? [
						{ name: "bytes", configuration: { endian: "little" } },
						{ name: "crc32c" },
					],
					ndim + 1,
					8,
					false,
				);
				if (idx.chain.some((k) => k.id !== "crc32c"))
					unsupported(
						idx.chain.find((k) => k.id !== "crc32c")?.id ?? "?",
						"is not supported in index_codecs",
					);
				const loc = cfg.index_location ?? "end";
				if (loc !== "start" && loc !== "end")
					throw new MalformedError(
						`sharding_indexed: bad index_location ${JSON.stringify(loc)}`,
					);
				shard = {
					innerShape: innerShape as number[],
					inner: {
						perm: inner.perm,
						chain: inner.chain,
						...(inner.vlen ? { vlen: true } : {}),
					},
					indexChain: idx.chain,
					indexEndian: idx.endian ?? "little",
					indexLocation: loc,
				};
				endian = inner.endian;
				stage = "b2b";
				continue;
			}
			unsupported(name);
		}
		const id = name.replace(/^numcodecs\./, "");
		if (id === "transpose" || id === "bytes" || id === "sharding_indexed")
			throw new MalformedError(`codec ${name} out of order`);
		chain.push(kernelCodec(id, cfg, itemsize));
	}
	if (stage === "a2a") {
		// No array→bytes codec: only valid for 1-byte types; numpy order is implied.
		if (itemsize !== 1)
			throw new MalformedError("zarr.json codecs lack the bytes codec");
	}
	return {
		perm,
		endian,
		chain,
		...(shard ? { shard } : {}),
		...(vlen ? { vlen } : {}),
	};
}

/** Parses `zarr.json` `codecs`. */
export function planV3(
	codecs: JsonValue | undefined,
	ndim: number,
	itemsize: number,
): CodecPlan {
	const p = parseV3List(codecs, ndim, itemsize, true);
	const info = (codecs as JsonValue[]).map((c) => {
		const { name, cfg } = codecEntry(c);
		return { name, config: cfg };
	});
	const chunk: ChunkPlan = p.shard
		? p.shard.inner
		: { perm: p.perm, chain: p.chain, ...(p.vlen ? { vlen: true } : {}) };
	if (p.shard && p.chain.length > 0)
		unsupported(
			p.chain[0]?.id ?? "?",
			"after sharding_indexed is not supported",
		);
	return {
		chunk,
		endian: p.endian,
		...(p.shard ? { shard: p.shard } : {}),
		info,
	};
}
