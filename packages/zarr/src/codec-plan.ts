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

const BLOSC_SHUFFLE: Readonly<Record<string, number>> = {
	noshuffle: 0,
	shuffle: 1,
	bitshuffle: 2,
};
const BLOSC_CNAMES = new Set([
	"blosclz",
	"lz4",
	"lz4hc",
	"snappy",
	"zlib",
	"zstd",
]);
const BLOSC_SHUFFLE_NAMES = ["noshuffle", "shuffle", "bitshuffle"];

function unsupported(name: string, why = "is not supported"): never {
	throw new UnsupportedCodecError(`Zarr codec ${JSON.stringify(name)} ${why}`, {
		codec: name,
		direction: "decode",
	});
}

function num(v: JsonValue | undefined, dflt: number): number {
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

function transposeOrder(cfg: JsonObject, ndim: number): number[] {
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

// --- creation ---

/** Codec names accepted at creation (both versions unless noted). */
export const WRITABLE_CODECS: readonly string[] = [
	"blosc",
	"zstd",
	"gzip",
	"zlib",
	"lz4",
	"crc32c",
	"shuffle",
	"transpose",
	"sharding_indexed",
	"bytes",
];

const V2_COMPRESSORS = new Set(["blosc", "zstd", "gzip", "zlib", "lz4"]);
const V3_BYTES_CODECS = new Set(["blosc", "zstd", "gzip", "crc32c"]);

function encodeRefusal(name: string, why: string): never {
	throw new UnsupportedCodecError(
		`cannot write codec ${JSON.stringify(name)}: ${why}`,
		{ codec: name, direction: "encode" },
	);
}

function cfgOf(c: CodecInfo | JsonObject): JsonObject {
	const raw =
		(c as { config?: unknown; configuration?: unknown }).config ??
		(c as { configuration?: unknown }).configuration;
	return isJsonObject(raw as JsonValue)
		? ({ ...(raw as JsonObject) } as JsonObject)
		: {};
}

function nameOf(c: CodecInfo | JsonObject): string {
	const n =
		(c as { name?: unknown; id?: unknown }).name ?? (c as { id?: unknown }).id;
	if (typeof n !== "string")
		throw new UnsupportedCodecError(
			`codec without a name: ${JSON.stringify(c)}`,
			{ codec: "?", direction: "encode" },
		);
	return n.replace(/^numcodecs\./, "").toLowerCase();
}

function bloscConfig(
	cfg: JsonObject,
	itemsize: number,
	v3: boolean,
): JsonObject {
	const cname = typeof cfg.cname === "string" ? cfg.cname : "lz4";
	if (!BLOSC_CNAMES.has(cname))
		encodeRefusal(`blosc/${cname}`, "unknown blosc compressor");
	// numcodecs (zarr-python) and tensorstore build blosc without snappy: they could not read it.
	if (cname === "snappy")
		encodeRefusal(
			"blosc/snappy",
			"zarr-python and tensorstore cannot decode blosc snappy",
		);
	const clevel = num(cfg.clevel ?? cfg.level, 5);
	if (!Number.isInteger(clevel) || clevel < 0 || clevel > 9)
		encodeRefusal("blosc", `clevel ${clevel} is not 0-9`);
	const sh = cfg.shuffle;
	let shuffle =
		typeof sh === "string"
			? BLOSC_SHUFFLE[sh]
			: sh === undefined
				? 1
				: num(sh, 1);
	if (shuffle === -1) shuffle = itemsize === 1 ? 2 : 1;
	if (shuffle === undefined || shuffle < 0 || shuffle > 2)
		encodeRefusal(
			"blosc",
			`shuffle ${JSON.stringify(sh)} is not noshuffle/shuffle/bitshuffle`,
		);
	const blocksize = num(cfg.blocksize, 0);
	if (v3)
		return {
			typesize: itemsize,
			cname,
			clevel,
			shuffle: BLOSC_SHUFFLE_NAMES[shuffle] as string,
			blocksize,
		};
	return { id: "blosc", cname, clevel, shuffle, blocksize };
}

function level(
	cfg: JsonObject,
	name: string,
	dflt: number,
	lo: number,
	hi: number,
): number {
	const l = num(cfg.level, dflt);
	if (!Number.isInteger(l) || l < lo || l > hi)
		encodeRefusal(name, `level ${l} is not ${lo}-${hi}`);
	return l;
}

/** `.zarray` `compressor` and `filters` for the codecs a caller asks for (default: blosc lz4, as zarr-python 2). */
export function v2CodecsFor(
	codecs: readonly CodecInfo[] | undefined,
	itemsize: number,
	vlen = false,
): { compressor: JsonObject | null; filters: JsonObject[] | null } {
	const picked = pickV2(codecs, vlen ? 1 : itemsize);
	// Object arrays (vlen strings) carry their object codec as the first filter, as zarr-python 2 writes them.
	if (!vlen) return picked;
	if (picked.filters)
		encodeRefusal(
			"shuffle",
			"filters other than the object codec do not apply to strings",
		);
	return { compressor: picked.compressor, filters: [{ id: "vlen-utf8" }] };
}

function pickV2(
	codecs: readonly CodecInfo[] | undefined,
	itemsize: number,
): { compressor: JsonObject | null; filters: JsonObject[] | null } {
	if (codecs === undefined)
		return {
			compressor: {
				id: "blosc",
				cname: "lz4",
				clevel: 5,
				shuffle: 1,
				blocksize: 0,
			},
			filters: null,
		};
	let compressor: JsonObject | null = null;
	const filters: JsonObject[] = [];
	for (const c of codecs) {
		const name = nameOf(c);
		const cfg = cfgOf(c);
		if (name === "bytes" || name === "vlen-utf8") continue;
		if (name === "shuffle") {
			if (compressor)
				encodeRefusal(name, "filters must come before the compressor");
			filters.push({
				id: "shuffle",
				elementsize: num(cfg.elementsize, itemsize),
			});
			continue;
		}
		if (
			name === "transpose" ||
			name === "sharding_indexed" ||
			name === "crc32c"
		)
			encodeRefusal(
				name,
				"Zarr v2 has no such codec (use order 'F' for transposition)",
			);
		if (name === "bz2")
			encodeRefusal(
				name,
				"bz2 is read-only here: the only JavaScript bzip2 encoder (compressjs) writes about 100 KB/s",
			);
		if (!V2_COMPRESSORS.has(name))
			encodeRefusal(name, "not a known compressor");
		if (compressor) encodeRefusal(name, "Zarr v2 takes one compressor");
		if (name === "blosc") compressor = bloscConfig(cfg, itemsize, false);
		else if (name === "zstd")
			compressor = { id: "zstd", level: level(cfg, name, 3, -131072, 22) };
		else if (name === "gzip" || name === "zlib")
			compressor = {
				id: name,
				level: level(cfg, name, name === "gzip" ? 5 : 1, 0, 9),
			};
		else compressor = { id: "lz4", acceleration: num(cfg.acceleration, 1) };
	}
	return { compressor, filters: filters.length > 0 ? filters : null };
}

function v3BytesToBytes(
	c: CodecInfo | JsonObject,
	itemsize: number,
): JsonObject {
	const name = nameOf(c);
	const cfg = cfgOf(c);
	if (!V3_BYTES_CODECS.has(name))
		encodeRefusal(
			name,
			"not a Zarr v3 bytes-to-bytes codec (v3 writes blosc, zstd, gzip, crc32c)",
		);
	if (name === "blosc")
		return { name, configuration: bloscConfig(cfg, itemsize, true) };
	// numcodecs.js zstd writes no checksum, so the metadata must not promise one.
	if (name === "zstd")
		return {
			name,
			configuration: {
				level: level(cfg, name, 0, -131072, 22),
				checksum: false,
			},
		};
	if (name === "gzip")
		return { name, configuration: { level: level(cfg, name, 5, 0, 9) } };
	return { name };
}

/**
 * `zarr.json` `codecs` for the codecs a caller asks for (default: bytes + zstd, as zarr-python
 * 3). `perm` (storage order) adds a transpose codec; `endian` goes to the bytes codec.
 */
export function v3CodecsFor(
	codecs: readonly CodecInfo[] | undefined,
	options: {
		itemsize: number;
		endian: "little" | "big" | undefined;
		perm: readonly number[] | null;
		ndim: number;
	},
): JsonObject[] {
	const bytes: JsonObject = options.endian
		? { name: "bytes", configuration: { endian: options.endian } }
		: { name: "bytes" };
	const a2a: JsonObject[] = [];
	if (options.perm)
		a2a.push({
			name: "transpose",
			configuration: { order: [...options.perm] },
		});
	const list = codecs ?? [{ name: "zstd", config: { level: 0 } }];
	const out: JsonObject[] = [];
	let sharded = false;
	for (const c of list) {
		const name = nameOf(c);
		const cfg = cfgOf(c);
		if (name === "bytes") continue;
		if (name === "transpose") {
			const order = transposeOrder(cfg, options.ndim);
			if (options.perm)
				encodeRefusal(name, "give either order 'F' or a transpose codec");
			a2a.push({ name, configuration: { order } });
			continue;
		}
		if (name === "sharding_indexed" || name === "sharding") {
			if (sharded || out.length > 0)
				encodeRefusal(name, "sharding_indexed must come first and once");
			sharded = true;
			const inner = cfg.chunk_shape ?? cfg.chunks;
			if (
				!Array.isArray(inner) ||
				inner.length !== options.ndim ||
				!inner.every(
					(n) => typeof n === "number" && Number.isInteger(n) && n > 0,
				)
			) {
				encodeRefusal(
					name,
					"config.chunk_shape must list positive integers, one per dimension",
				);
			}
			const innerList = Array.isArray(cfg.codecs)
				? (cfg.codecs as JsonObject[])
				: [];
			const innerCodecs: JsonObject[] = [...a2a, bytes];
			for (const ic of innerList) {
				const n = nameOf(ic);
				if (n === "bytes") continue;
				innerCodecs.push(v3BytesToBytes(ic, options.itemsize));
			}
			a2a.length = 0;
			const loc = cfg.index_location ?? cfg.indexLocation ?? "end";
			if (loc !== "start" && loc !== "end")
				encodeRefusal(
					name,
					`index_location ${JSON.stringify(loc)} is not start/end`,
				);
			out.push({
				name: "sharding_indexed",
				configuration: {
					chunk_shape: inner as number[],
					codecs: innerCodecs,
					index_codecs: [
						{ name: "bytes", configuration: { endian: "little" } },
						{ name: "crc32c" },
					],
					index_location: loc,
				},
			});
			continue;
		}
		if (sharded)
			encodeRefusal(
				name,
				"give inner codecs in the sharding config's codecs list",
			);
		out.push(v3BytesToBytes(c, options.itemsize));
	}
	return sharded ? out : [...a2a, bytes, ...out];
}
