// Arrays the interop tests write: every dtype, codec, order and layout we claim to write.
import {
	type ArrayData,
	type DType,
	makeArrayData,
	withByteOrder,
} from "@arraystore/core";

export interface WriteCase {
	readonly name: string;
	readonly zarrFormat: 2 | 3;
	readonly dtype: string | readonly (readonly unknown[])[];
	readonly shape: readonly number[];
	readonly chunks: readonly number[];
	readonly order?: "C" | "F";
	readonly codecs?: readonly {
		name: string;
		config?: Record<string, unknown>;
	}[];
	readonly fillValue?: unknown;
	/** Expected `str(fill_value)` in Python (zarr-python 2 for v2, tensorstore for v3). */
	readonly pyFill?: string;
	readonly adapterOptions?: Record<string, unknown>;
	/** tensorstore cannot open this dtype (reason). */
	readonly noTensorstore?: string;
	/** Compressible data (a smooth signal) instead of random bytes. */
	readonly smooth?: boolean;
}

const blosc = (cname: string, shuffle: number | string, clevel = 5) => ({
	name: "blosc",
	config: { cname, shuffle, clevel },
});

export const V2_CASES: readonly WriteCase[] = [
	{
		name: "v2_i4_raw",
		zarrFormat: 2,
		dtype: "<i4",
		shape: [13, 11],
		chunks: [4, 5],
		codecs: [],
	},
	{
		name: "v2_f8_be_blosc_lz4_F",
		zarrFormat: 2,
		dtype: ">f8",
		shape: [13, 11],
		chunks: [4, 5],
		order: "F",
		codecs: [blosc("lz4", 1)],
	},
	{
		name: "v2_f4_blosc_zstd_bit_slash",
		zarrFormat: 2,
		dtype: "<f4",
		shape: [9, 10, 7],
		chunks: [4, 3, 5],
		codecs: [blosc("zstd", 2)],
		adapterOptions: { dimensionSeparator: "/" },
	},
	{
		name: "v2_u2_blosc_blosclz_noshuffle",
		zarrFormat: 2,
		dtype: "<u2",
		shape: [50],
		chunks: [16],
		codecs: [blosc("blosclz", 0)],
	},
	{
		name: "v2_i8_blosc_lz4hc",
		zarrFormat: 2,
		dtype: "<i8",
		shape: [20, 3],
		chunks: [7, 2],
		codecs: [blosc("lz4hc", 1, 9)],
	},
	{
		name: "v2_f8_blosc_zlib_auto",
		zarrFormat: 2,
		dtype: "<f8",
		shape: [10, 10],
		chunks: [3, 4],
		codecs: [blosc("zlib", -1)],
	},
	{
		name: "v2_i8_zstd",
		zarrFormat: 2,
		dtype: "<i8",
		shape: [17, 6],
		chunks: [5, 5],
		codecs: [{ name: "zstd", config: { level: 5 } }],
	},
	{
		name: "v2_u1_gzip",
		zarrFormat: 2,
		dtype: "|u1",
		shape: [30, 7],
		chunks: [8, 8],
		codecs: [{ name: "gzip", config: { level: 6 } }],
	},
	{
		name: "v2_i2_zlib",
		zarrFormat: 2,
		dtype: "<i2",
		shape: [33],
		chunks: [10],
		codecs: [{ name: "zlib", config: { level: 9 } }],
	},
	{
		name: "v2_f4_lz4",
		zarrFormat: 2,
		dtype: "<f4",
		shape: [12, 12],
		chunks: [5, 5],
		codecs: [{ name: "lz4" }],
		noTensorstore: "tensorstore's zarr driver has no lz4 compressor",
	},
	{
		name: "v2_i4_shuffle_zlib",
		zarrFormat: 2,
		dtype: "<i4",
		shape: [15, 4],
		chunks: [4, 4],
		codecs: [{ name: "shuffle" }, { name: "zlib" }],
		noTensorstore: "tensorstore's zarr driver takes no filters",
	},
	{
		name: "v2_f2_zstd",
		zarrFormat: 2,
		dtype: "<f2",
		shape: [21],
		chunks: [8],
		codecs: [{ name: "zstd" }],
	},
	{
		name: "v2_c16_gzip",
		zarrFormat: 2,
		dtype: "<c16",
		shape: [6, 5],
		chunks: [4, 4],
		codecs: [{ name: "gzip" }],
		fillValue: [1.5, -2.5],
		pyFill: "(1.5-2.5j)",
	},
	{
		name: "v2_c8_be_raw_F",
		zarrFormat: 2,
		dtype: ">c8",
		shape: [6, 5],
		chunks: [4, 4],
		order: "F",
		codecs: [],
	},
	{
		name: "v2_b1_blosc",
		zarrFormat: 2,
		dtype: "|b1",
		shape: [9, 9],
		chunks: [4, 4],
		codecs: [blosc("lz4", 2)],
		fillValue: true,
		pyFill: "True",
	},
	{
		name: "v2_u8_be_fillmax",
		zarrFormat: 2,
		dtype: ">u8",
		shape: [10],
		chunks: [4],
		codecs: [{ name: "zlib" }],
		fillValue: 18446744073709551615n,
		pyFill: "18446744073709551615",
	},
	{
		name: "v2_f4_fill_nan",
		zarrFormat: 2,
		dtype: "<f4",
		shape: [10],
		chunks: [3],
		codecs: [{ name: "zstd" }],
		fillValue: Number.NaN,
		pyFill: "nan",
	},
	{
		name: "v2_f8_fill_neginf",
		zarrFormat: 2,
		dtype: "<f8",
		shape: [10],
		chunks: [3],
		fillValue: Number.NEGATIVE_INFINITY,
		pyFill: "-inf",
	},
	{
		name: "v2_S5_gzip",
		zarrFormat: 2,
		dtype: "|S5",
		shape: [8, 3],
		chunks: [3, 3],
		codecs: [{ name: "gzip" }],
		noTensorstore:
			"tensorstore's Python binding returns char arrays with itemsize 0: no bytes to compare",
	},
	{
		name: "v2_U3_be_lz4",
		zarrFormat: 2,
		dtype: ">U3",
		shape: [8, 3],
		chunks: [3, 3],
		codecs: [{ name: "lz4" }],
		noTensorstore: "tensorstore's zarr driver has no unicode dtype",
	},
	{
		name: "v2_M8ns_zlib",
		zarrFormat: 2,
		dtype: "<M8[ns]",
		shape: [11],
		chunks: [4],
		codecs: [{ name: "zlib" }],
		noTensorstore: "tensorstore's zarr driver has no datetime64",
	},
	{
		name: "v2_m8s_be_raw",
		zarrFormat: 2,
		dtype: ">m8[s]",
		shape: [11],
		chunks: [4],
		codecs: [],
		noTensorstore: "tensorstore's zarr driver has no timedelta64",
	},
	{
		name: "v2_struct_zstd",
		zarrFormat: 2,
		dtype: [
			["a", "<i4"],
			["b", ">f8", [2]],
			["c", "|S3"],
		],
		shape: [7, 4],
		chunks: [3, 3],
		codecs: [{ name: "zstd" }],
		noTensorstore: "tensorstore opens one field of a record array at a time",
	},
	{
		name: "v2_V4_raw",
		zarrFormat: 2,
		dtype: "|V4",
		shape: [9],
		chunks: [4],
		codecs: [],
		noTensorstore: "tensorstore's zarr driver has no opaque void dtype",
	},
	{
		name: "v2_0d",
		zarrFormat: 2,
		dtype: "<f8",
		shape: [],
		chunks: [],
		codecs: [{ name: "zlib" }],
	},
	// Chunks of tens of KiB: blosc frames with split blocks, several blocks and a leftover.
	{
		name: "v2_f8_big_blosc_lz4",
		zarrFormat: 2,
		dtype: "<f8",
		shape: [150, 200],
		chunks: [64, 96],
		codecs: [blosc("lz4", 1)],
		smooth: true,
	},
	{
		name: "v2_f4_big_blosc_zstd_bit",
		zarrFormat: 2,
		dtype: "<f4",
		shape: [200, 150],
		chunks: [128, 128],
		codecs: [blosc("zstd", 2, 1)],
		smooth: true,
	},
	{
		name: "v2_i2_big_blosc_zlib_blocks",
		zarrFormat: 2,
		dtype: "<i2",
		shape: [300, 250],
		chunks: [200, 200],
		codecs: [blosc("zlib", 1, 1)],
		smooth: true,
	},
	{
		name: "v2_u2_big_lz4",
		zarrFormat: 2,
		dtype: "<u2",
		shape: [300, 200],
		chunks: [256, 128],
		codecs: [{ name: "lz4" }],
		smooth: true,
		noTensorstore: "tensorstore's zarr driver has no lz4 compressor",
	},
	{
		name: "v2_i4_big_zstd",
		zarrFormat: 2,
		dtype: "<i4",
		shape: [300, 200],
		chunks: [256, 128],
		codecs: [{ name: "zstd", config: { level: 1 } }],
		smooth: true,
	},
	{
		name: "v2_f8_big_blosc_lz4_wasm",
		zarrFormat: 2,
		dtype: "<f8",
		shape: [150, 200],
		chunks: [64, 96],
		codecs: [blosc("lz4", 1)],
		smooth: true,
		adapterOptions: { nativeCodecs: false },
	},
	{
		name: "v2_f4_big_zstd_wasm",
		zarrFormat: 2,
		dtype: "<f4",
		shape: [300, 200],
		chunks: [256, 128],
		codecs: [{ name: "zstd", config: { level: 1 } }],
		smooth: true,
		adapterOptions: { nativeCodecs: false },
	},
];

export const V3_CASES: readonly WriteCase[] = [
	{
		name: "v3_i4_bytes",
		zarrFormat: 3,
		dtype: "<i4",
		shape: [13, 11],
		chunks: [4, 5],
		codecs: [],
	},
	{
		name: "v3_f8_be_gzip",
		zarrFormat: 3,
		dtype: ">f8",
		shape: [13, 11],
		chunks: [4, 5],
		codecs: [{ name: "gzip", config: { level: 3 } }],
	},
	{
		name: "v3_f4_blosc_lz4_shuffle",
		zarrFormat: 3,
		dtype: "<f4",
		shape: [20, 9],
		chunks: [8, 4],
		codecs: [blosc("lz4", "shuffle")],
	},
	{
		name: "v3_i2_blosc_zstd_bit",
		zarrFormat: 3,
		dtype: "<i2",
		shape: [20, 9],
		chunks: [8, 4],
		codecs: [blosc("zstd", "bitshuffle")],
	},
	{
		name: "v3_u4_blosc_zlib_noshuffle",
		zarrFormat: 3,
		dtype: "<u4",
		shape: [20, 9],
		chunks: [8, 4],
		codecs: [blosc("zlib", "noshuffle")],
	},
	{
		name: "v3_u8_blosc_blosclz_fillmax",
		zarrFormat: 3,
		dtype: "<u8",
		shape: [20],
		chunks: [8],
		codecs: [blosc("blosclz", "shuffle")],
		fillValue: 18446744073709551615n,
		pyFill: "18446744073709551615",
	},
	{
		name: "v3_i8_zstd",
		zarrFormat: 3,
		dtype: "<i8",
		shape: [17, 6],
		chunks: [5, 5],
		codecs: [{ name: "zstd", config: { level: 3 } }],
	},
	{
		name: "v3_i4_gzip_crc32c",
		zarrFormat: 3,
		dtype: "<i4",
		shape: [25],
		chunks: [7],
		codecs: [{ name: "gzip" }, { name: "crc32c" }],
	},
	{
		name: "v3_f4_F_zstd",
		zarrFormat: 3,
		dtype: "<f4",
		shape: [7, 6, 5],
		chunks: [4, 4, 3],
		order: "F",
		codecs: [{ name: "zstd" }],
	},
	{
		name: "v3_i2_transpose_cfg",
		zarrFormat: 3,
		dtype: ">i2",
		shape: [7, 6, 5],
		chunks: [4, 4, 3],
		codecs: [
			{ name: "transpose", config: { order: [2, 0, 1] } },
			{ name: "gzip" },
		],
	},
	{
		name: "v3_f4_shard_end",
		zarrFormat: 3,
		dtype: "<f4",
		shape: [19, 13],
		chunks: [8, 8],
		codecs: [
			{
				name: "sharding_indexed",
				config: { chunk_shape: [4, 4], codecs: [{ name: "zstd" }] },
			},
		],
	},
	{
		name: "v3_i4_shard_start_F",
		zarrFormat: 3,
		dtype: ">i4",
		shape: [19, 13],
		chunks: [6, 8],
		order: "F",
		codecs: [
			{
				name: "sharding_indexed",
				config: {
					chunk_shape: [3, 4],
					codecs: [{ name: "gzip" }, { name: "crc32c" }],
					index_location: "start",
				},
			},
		],
	},
	{
		name: "v3_u2_shard_blosc",
		zarrFormat: 3,
		dtype: "<u2",
		shape: [40],
		chunks: [20],
		codecs: [
			{
				name: "sharding_indexed",
				config: { chunk_shape: [5], codecs: [blosc("lz4", "shuffle")] },
			},
		],
	},
	{
		name: "v3_f4_keys_v2",
		zarrFormat: 3,
		dtype: "<f4",
		shape: [9, 9],
		chunks: [4, 4],
		codecs: [{ name: "zstd" }],
		adapterOptions: { chunkKeyEncoding: "v2" },
	},
	{
		name: "v3_i1_keys_dot",
		zarrFormat: 3,
		dtype: "|i1",
		shape: [9, 9],
		chunks: [4, 4],
		codecs: [],
		adapterOptions: { dimensionSeparator: "." },
	},
	{
		name: "v3_f2_gzip",
		zarrFormat: 3,
		dtype: "<f2",
		shape: [21],
		chunks: [8],
		codecs: [{ name: "gzip" }],
		fillValue: Number.NaN,
		pyFill: "nan",
	},
	{
		name: "v3_c8_be",
		zarrFormat: 3,
		dtype: ">c8",
		shape: [6, 5],
		chunks: [4, 4],
		codecs: [],
		fillValue: [0.5, -2],
	},
	{
		name: "v3_c16_zstd",
		zarrFormat: 3,
		dtype: "<c16",
		shape: [6, 5],
		chunks: [4, 4],
		codecs: [{ name: "zstd" }],
	},
	{
		name: "v3_b1_zstd",
		zarrFormat: 3,
		dtype: "|b1",
		shape: [9, 9],
		chunks: [4, 4],
		codecs: [{ name: "zstd" }],
		fillValue: true,
		pyFill: "True",
	},
	{
		name: "v3_f8_fill_inf",
		zarrFormat: 3,
		dtype: "<f8",
		shape: [10],
		chunks: [3],
		codecs: [],
		fillValue: Number.POSITIVE_INFINITY,
		pyFill: "inf",
	},
	{
		name: "v3_0d",
		zarrFormat: 3,
		dtype: "<i4",
		shape: [],
		chunks: [],
		codecs: [{ name: "zstd" }],
	},
	{
		name: "v3_f4_big_zstd",
		zarrFormat: 3,
		dtype: "<f4",
		shape: [300, 200],
		chunks: [128, 128],
		codecs: [{ name: "zstd", config: { level: 3 } }],
		smooth: true,
	},
	{
		name: "v3_f8_big_blosc_lz4",
		zarrFormat: 3,
		dtype: "<f8",
		shape: [150, 200],
		chunks: [64, 128],
		codecs: [blosc("lz4", "shuffle")],
		smooth: true,
	},
	{
		name: "v3_i2_big_blosc_zstd_bit",
		zarrFormat: 3,
		dtype: "<i2",
		shape: [300, 250],
		chunks: [256, 128],
		codecs: [blosc("zstd", "bitshuffle", 1)],
		smooth: true,
	},
	{
		name: "v3_f4_big_shard_zstd",
		zarrFormat: 3,
		dtype: "<f4",
		shape: [300, 200],
		chunks: [256, 128],
		codecs: [
			{
				name: "sharding_indexed",
				config: {
					chunk_shape: [64, 128],
					codecs: [{ name: "zstd", config: { level: 1 } }],
				},
			},
		],
		smooth: true,
	},
	{
		name: "v3_f4_big_blosc_wasm",
		zarrFormat: 3,
		dtype: "<f4",
		shape: [300, 200],
		chunks: [128, 128],
		codecs: [blosc("lz4", "shuffle")],
		smooth: true,
		adapterOptions: { nativeCodecs: false },
	},
];

function rng(seed: number): () => number {
	let s = seed >>> 0 || 1;
	return () => {
		s ^= s << 13;
		s >>>= 0;
		s ^= s >>> 17;
		s ^= s << 5;
		s >>>= 0;
		return s;
	};
}

// A sine with a little noise, as measured data compresses (numeric dtypes, native order).
function smoothFill(dtype: DType, bytes: Uint8Array, r: () => number): void {
	const v = new DataView(bytes.buffer);
	const le = dtype.byteOrder !== ">";
	const w = dtype.itemsize;
	for (let i = 0; i * w < bytes.length; i++) {
		const x = Math.sin(i / 97) * 1000 + (r() % 16) / 8;
		const at = i * w;
		if (dtype.kind === "f" && w === 4) v.setFloat32(at, x, le);
		else if (dtype.kind === "f" && w === 8) v.setFloat64(at, x, le);
		else if (w === 2) v.setInt16(at, Math.round(x), le);
		else if (w === 4) v.setInt32(at, Math.round(x), le);
		else if (w === 8) v.setBigInt64(at, BigInt(Math.round(x)), le);
		else bytes[at] = Math.round(x) & 0xff;
	}
}

/**
 * Deterministic test data (native byte order, C order): random bytes made valid for the
 * dtype, with the first rows left at zero so that whole chunks equal a zero fill value.
 */
export function caseData(
	dtype: DType,
	shape: readonly number[],
	seed: number,
	smooth = false,
): ArrayData {
	const native = withByteOrder(dtype, "native");
	const n = shape.reduce((a, b) => a * b, 1);
	const bytes = new Uint8Array(new ArrayBuffer(n * dtype.itemsize));
	const r = rng(seed);
	if (smooth) smoothFill(native, bytes, r);
	else for (let i = 0; i < bytes.length; i++) bytes[i] = r() & 0xff;
	if (dtype.kind === "b")
		for (let i = 0; i < bytes.length; i++) bytes[i] = (bytes[i] as number) & 1;
	if (dtype.kind === "U") {
		const v = new Uint32Array(bytes.buffer);
		for (let i = 0; i < v.length; i++)
			v[i] = 0x20 + ((v[i] as number) % 0xd000);
	}
	// Zero a leading slab: chunks there equal a zero fill and are not stored.
	const row =
		shape.length === 0 ? 0 : (n / (shape[0] as number)) * dtype.itemsize;
	bytes.fill(0, 0, Math.min(bytes.length, row * 4));
	return makeArrayData(native, shape, bytes);
}
