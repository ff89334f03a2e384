/**
 * Codec metadata for creation: `.zarray` `compressor`/`filters` and `zarr.json` `codecs` for
 * the codecs a caller asks for, in the spellings zarr-python and tensorstore read. Codecs no
 * reference reader can decode are refused here, before anything is written.
 */
import { type CodecInfo, UnsupportedCodecError } from "@arraystore/core";
import {
	BLOSC_CNAMES,
	BLOSC_SHUFFLE,
	BLOSC_SHUFFLE_NAMES,
	num,
	transposeOrder,
} from "./codec-plan.js";
import { isJsonObject, type JsonObject, type JsonValue } from "./json.js";

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
