/**
 * A legacy pickle or joblib file as a read-only container (formats.md §6.9): detect the
 * compression, run the restricted VM once over the whole stream (array payloads are skipped,
 * not read), and expose the result as a tree (tree.ts). Arrays are read lazily by offset.
 */
import { type FileHandle, open } from "node:fs/promises";
import {
	type ArrayDriver,
	type Attributes,
	fromNodeError,
	NotFoundError,
	ReadOnlyError,
	type TreeEntry,
} from "@arraystore/core";
import { toAttr } from "./attr-value.js";
import { readAt } from "./file-read.js";
import {
	type Codec,
	detectCodec,
	type StreamLimits,
	streamInput,
} from "./joblib/compressed.js";
import { openRef, type RefSource, readDataRef } from "./open-ref.js";
import { ByteReader, fileInput } from "./pickle-vm/byte-reader.js";
import { PyDict, type PyValue } from "./pickle-vm/values.js";
import { runPickle, type VmLimits } from "./pickle-vm/vm.js";
import { addValue, keyName, listMembers, type Members } from "./tree.js";

/** Options of {@link PickleFile.open} (also accepted as `adapterOptions`). */
export interface PickleFileOptions {
	readonly vmLimits?: Partial<VmLimits>;
	/** Bomb guard for compressed joblib files (default 64 GiB). */
	readonly maxDecompressedBytes?: number;
	/** Most memory liblzma may take for an xz or lzma joblib file (default 256 MiB). */
	readonly maxDecoderMemory?: number;
	/** false: positional reads instead of memory maps. */
	readonly mmap?: boolean;
	/** Spy: called with each global a handler applies (tests). */
	readonly onApply?: (name: string) => void;
}

/** One decoded pickle or joblib file. */
export class PickleFile {
	readonly path: string;
	readonly codec: Codec | null;
	readonly #fh: FileHandle;
	readonly #members: Members;
	readonly #src: RefSource;

	private constructor(
		path: string,
		fh: FileHandle,
		codec: Codec | null,
		members: Members,
		limits: StreamLimits,
		mmap: boolean,
	) {
		this.path = path;
		this.#fh = fh;
		this.codec = codec;
		this.#members = members;
		this.#src = {
			path,
			codec,
			adapter: "pickle",
			limits,
			mmap,
			readFile: (o, n) => readAt(fh, o, n, { target: path, adapter: "pickle" }),
		};
	}

	/**
	 * Decodes the file.
	 * @throws {ForbiddenGlobalError | TruncatedError | MalformedError | SizeMismatchError | LimitExceededError | UnsupportedError}
	 */
	static async open(
		path: string,
		options: PickleFileOptions = {},
	): Promise<PickleFile> {
		let fh: FileHandle;
		try {
			fh = await open(path, "r");
		} catch (err) {
			throw fromNodeError(err, { target: path, adapter: "pickle" });
		}
		try {
			const size = (await fh.stat()).size;
			const head = await readAt(fh, 0, Math.min(8, size), {
				target: path,
				adapter: "pickle",
			});
			const codec = detectCodec(head);
			const limits: StreamLimits = {
				...(options.maxDecompressedBytes !== undefined
					? { maxBytes: options.maxDecompressedBytes }
					: {}),
				...(options.maxDecoderMemory !== undefined
					? { lzmaMemory: options.maxDecoderMemory }
					: {}),
			};
			let value: PyValue;
			const vm = {
				...(options.vmLimits ? { limits: options.vmLimits } : {}),
				...(options.onApply ? { onApply: options.onApply } : {}),
			};
			if (codec === null) {
				value = await runPickle(new ByteReader(fileInput(fh, size), 0), vm);
			} else {
				const input = streamInput(path, codec, limits);
				try {
					value = await runPickle(
						new ByteReader(input, 0, `${codec} joblib`),
						vm,
					);
					// joblib writes nothing after the pickle; reading to the end verifies the
					// codec's trailing checksum.
					await input.drain();
				} finally {
					input.close();
				}
			}
			const members: Members = new Map();
			if (!addValue(members, "", value, false)) {
				const attrs = new Map<string, PyValue>();
				if (value instanceof PyDict)
					for (const [k, v] of value.entries.values()) attrs.set(keyName(k), v);
				else attrs.set("value", value);
				members.set("", { kind: "group", attrs });
			}
			return new PickleFile(
				path,
				fh,
				codec,
				members,
				limits,
				options.mmap !== false,
			);
		} catch (err) {
			await fh.close().catch(() => {});
			throw err;
		}
	}

	list(path: string, recursive: boolean): TreeEntry[] {
		return listMembers(this.#members, path, recursive);
	}

	async attrs(path: string): Promise<Attributes> {
		const m = this.#members.get(path);
		if (!m)
			throw new NotFoundError(
				`no member ${JSON.stringify(path)} in ${this.path}`,
			);
		const out: Record<string, Attributes[string]> = {};
		for (const [k, v] of m.attrs)
			out[k] = await toAttr(v, (d) => readDataRef(d, this.#src));
		return out;
	}

	/** Opens an array member (read-only). */
	async openArray(
		path: string,
		mode: "r" | "r+" | "c",
		signal?: AbortSignal,
	): Promise<ArrayDriver> {
		if (mode === "r+")
			throw new ReadOnlyError("pickle and joblib files are read-only");
		const m = this.#members.get(path);
		if (m?.kind !== "array")
			throw new NotFoundError(
				`no array ${JSON.stringify(path)} in ${this.path}`,
			);
		return openRef(m.ref, this.#src, "r", signal);
	}

	async close(): Promise<void> {
		await this.#fh.close().catch(() => {});
	}
}
