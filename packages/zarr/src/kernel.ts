/**
 * The codec kernel (worker/codec-kernel.mjs) as TypeScript sees it, loaded lazily, and the
 * translation of its failures into typed errors.
 */
import {
	ArrayStoreError,
	MalformedError,
	UnsupportedCodecError,
} from "@arraystore/core";

/** One bytes→bytes codec in the kernel's vocabulary: numcodecs ids and configs. */
export interface KernelCodec {
	/** blosc | zstd | lz4 | gzip | zlib | crc32c | shuffle | bz2 */
	readonly id: string;
	readonly config: Readonly<Record<string, string | number | boolean>>;
}

/** What worker/codec-kernel.mjs exports. */
export interface CodecKernel {
	/** `native` false runs the numcodecs.js WebAssembly codecs instead of napi zstd/lz4. */
	encodeChain(
		chain: readonly KernelCodec[],
		bytes: Uint8Array,
		native?: boolean,
	): Promise<Uint8Array>;
	/**
	 * `limits[i]` caps the decoded size of codec i. With `want` ([from, to) decoded bytes), the
	 * first codec may decode only part: zstd stops after the block holding byte to - 1 (the
	 * result may be shorter), blosc decodes only the blocks holding the range.
	 */
	decodeChain(
		chain: readonly KernelCodec[],
		bytes: Uint8Array,
		limits: readonly number[],
		native?: boolean,
		want?: readonly [number, number],
	): Promise<Uint8Array>;
	/**
	 * `decodeChain` with `want` of only the first bytes of a stored chunk of `total` bytes (a
	 * one-codec native zstd chain): at least decoded bytes [0, want[1]), or null when `bytes`
	 * do not reach far enough (read the whole chunk then).
	 */
	decodeHead(
		chain: readonly KernelCodec[],
		bytes: Uint8Array,
		limits: readonly number[],
		want: readonly [number, number],
		total: number,
	): Promise<Uint8Array | null>;
	/**
	 * Decodes on the calling thread when every codec of the chain can (crc32c, native lz4,
	 * native zstd); null otherwise. `want` as in `decodeChain` (zstd may stop early).
	 */
	decodeChainSync(
		chain: readonly KernelCodec[],
		bytes: Uint8Array,
		limits: readonly number[],
		native?: boolean,
		want?: readonly [number, number],
	): Uint8Array | null;
	/** True when the chain's heavy work runs on libuv's thread pool (no worker needed). */
	threadPoolChain(chain: readonly KernelCodec[], native?: boolean): boolean;
	/** Which native codec modules loaded. */
	nativeCodecs(): { readonly zstd: boolean; readonly lz4: boolean };
	/** Returns an encoded chunk that is no longer used to the kernel's buffer pool. */
	release(bytes: Uint8Array): void;
	/** A buffer of `n` bytes from the kernel's pool (contents undefined). */
	lend(n: number): Uint8Array;
	crc32c(bytes: Uint8Array): number;
}

/** One task for the kernel. */
export interface KernelTask {
	readonly op: "encode" | "decode";
	readonly chain: readonly KernelCodec[];
	readonly bytes: Uint8Array;
	readonly limits?: readonly number[];
	/** Use the native codecs where they load (default true). */
	readonly native?: boolean;
	/** Decode: only these decoded bytes, [from, to), are wanted (see `decodeChain`). */
	readonly want?: readonly [number, number];
}

// The kernel lives outside src/ so the same relative URL works from src/*.ts and dist/*.js.
const KERNEL_URL: URL = new URL("../worker/codec-kernel.mjs", import.meta.url);
/** Entry file of the codec worker threads. */
export const WORKER_URL: URL = new URL(
	"../worker/codec-worker.mjs",
	import.meta.url,
);

/** What worker/chunk-writer.mjs exports to the calling thread (see batch-write.ts). */
export interface ChunkWriter {
	/** Runs one write batch message; fills `results` per item (see worker/chunk-writer.mjs). */
	runWrite(
		msg: Readonly<Record<string, unknown>>,
		results: (number | null)[],
	): Promise<void>;
}

const WRITER_URL: URL = new URL("../worker/chunk-writer.mjs", import.meta.url);
let writer: Promise<ChunkWriter> | undefined;

/** The workers' chunk writer, imported once on the calling thread. */
export function loadWriter(): Promise<ChunkWriter> {
	writer ??= import(/* @vite-ignore */ WRITER_URL.href) as Promise<ChunkWriter>;
	return writer;
}

let kernel: Promise<CodecKernel> | undefined;
let loaded: CodecKernel | undefined;

/** The kernel module, imported once (inline path, and crc32c of shard indexes). */
export function loadKernel(): Promise<CodecKernel> {
	kernel ??= (
		import(/* @vite-ignore */ KERNEL_URL.href) as Promise<CodecKernel>
	).then((k) => {
		loaded = k;
		return k;
	});
	return kernel;
}

/**
 * Hands bytes an inline encode or decode returned back to the kernel's buffer pool once
 * nothing reads them any more (a no-op for anything else).
 */
export function releaseEncoded(bytes: Uint8Array): void {
	loaded?.release(bytes);
}

/** The kernel pool's allocator once the kernel is loaded (for chunk file reads). */
export function pooledAlloc(): ((n: number) => Uint8Array) | undefined {
	return loaded?.lend;
}

/**
 * Decodes on the calling thread without waiting for anything, or answers null (kernel not
 * loaded yet, or a codec of the chain without a synchronous decoder). With `want`, the result
 * may stop after the wanted bytes (zstd).
 */
export function decodeSyncInline(
	chain: readonly KernelCodec[],
	bytes: Uint8Array,
	limits: readonly number[],
	native: boolean,
	want?: readonly [number, number],
): Uint8Array | null {
	if (!loaded) return null;
	try {
		return loaded.decodeChainSync(chain, bytes, limits, native, want);
	} catch (err) {
		throw kernelError(err, "decode");
	}
}

/** {@link CodecKernel.decodeHead} on the calling thread, failures typed. */
export async function decodeHeadInline(
	chain: readonly KernelCodec[],
	bytes: Uint8Array,
	limits: readonly number[],
	want: readonly [number, number],
	total: number,
): Promise<Uint8Array | null> {
	const k = await loadKernel();
	try {
		return await k.decodeHead(chain, bytes, limits, want, total);
	} catch (err) {
		throw kernelError(err, "decode");
	}
}

/** Runs a task on the calling thread. */
export async function runInline(task: KernelTask): Promise<Uint8Array> {
	const k = await loadKernel();
	try {
		const native = task.native ?? true;
		return task.op === "encode"
			? await k.encodeChain(task.chain, task.bytes, native)
			: await k.decodeChain(
					task.chain,
					task.bytes,
					task.limits ?? [],
					native,
					task.want,
				);
	} catch (err) {
		throw kernelError(err, task.op);
	}
}

/** Maps a kernel failure (`{ kind, message }`) to a typed error. */
export function kernelError(err: unknown, op: "encode" | "decode"): unknown {
	if (err instanceof ArrayStoreError) return err;
	if (err instanceof Error && err.name === "AbortError") return err;
	const kind = (err as { kind?: unknown } | null)?.kind;
	const message =
		err instanceof Error
			? err.message
			: String((err as { message?: unknown } | null)?.message ?? err);
	if (kind === "unsupported") {
		return new UnsupportedCodecError(`codec ${message} is not available`, {
			codec: message,
			direction: op,
			cause: err,
		});
	}
	return new MalformedError(
		`chunk ${op === "decode" ? "decoding" : "encoding"} failed: ${message}`,
		{ cause: err },
	);
}
