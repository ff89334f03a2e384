/**
 * `.npz` archives as containers: every `<name>.npy` member is the array at path `<name>`.
 * Stored members are memory-mapped through raw's region at their data offset inside the zip;
 * deflated members are inflated as streams. Writing appends members (stored ones are written in
 * place and stay writable; deflated ones live in a temporary `.npy` until `close()` deflates
 * them into the archive) and rewrites the central directory, as `np.savez` and
 * `np.savez_compressed` lay it out.
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, open, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import {
	type ArrayDriver,
	type Attributes,
	type ContainerDriver,
	type DriverCreateOptions,
	type DriverOpenOptions,
	encodeElement,
	fromNodeError,
	NotFoundError,
	ReadOnlyError,
	type Region,
	shapeSize,
	type TreeEntry,
	UnsupportedDTypeError,
	UnsupportedError,
} from "@arraystore/core";
import { readNpyHeader, readNpyHeaderFrom } from "../header.js";
import { formatNpyHeader } from "../header-write.js";
import {
	createNpy,
	type NpyDriver,
	type OpenNpyOptions,
	openNpy,
	openRegion,
} from "../npy-driver.js";
import { checkNpyDType } from "../options.js";
import { InflateCursor } from "../zip/inflate-cursor.js";
import {
	checkReadable,
	METHOD_DEFLATED,
	METHOD_STORED,
	memberDataOffset,
	readZipDirectory,
	type ZipEntry,
} from "../zip/zip-read.js";
import {
	centralRecord,
	dosDateTime,
	encodeName,
	endRecords,
	localHeader,
	localHeaderLength,
	type ZipMemberRecord,
} from "../zip/zip-write.js";
import {
	DeflatedMemberDriver,
	NPZ_ADAPTER,
	storedMemberDriver,
} from "./member-drivers.js";
import { type NpzOptions, readNpzOptions } from "./npz-options.js";
import { crc32OfRange, deflateFileInto, writeAt } from "./npz-write.js";

type Writable<T> = { -readonly [K in keyof T]: T[K] };

interface Member {
	/** Array path (the name without `.npy`), or null for members that are not arrays. */
	readonly key: string | null;
	record: Writable<ZipMemberRecord>;
	/** Where the member's bytes start (after its local header), once known. */
	dataOffset: number | null;
	/** Written since its CRC-32 was computed. */
	crcStale: boolean;
	/** A deflated member still being written: its temporary `.npy`. */
	pending: string | null;
}

/**
 * Opens (r, r+) or creates (w+) an `.npz` archive.
 * @throws {NotFoundError} a missing file (r, r+).
 * @throws {MalformedError} not a zip archive, or broken zip structures.
 */
export async function openNpz(
	path: string,
	mode: "r" | "r+" | "w+",
	adapterOptions: Readonly<Record<string, unknown>> = {},
): Promise<NpzArchive> {
	const options = readNpzOptions(adapterOptions, path);
	const details = { target: path, adapter: NPZ_ADAPTER };
	let fh: FileHandle;
	try {
		fh = await open(
			path,
			mode === "r" ? "r" : mode === "r+" ? "r+" : "w+",
			0o666,
		);
	} catch (err) {
		throw fromNodeError(err, details);
	}
	try {
		if (mode === "w+")
			return new NpzArchive(path, mode, fh, [], 0, true, options);
		const dir = await readZipDirectory(fh, options);
		const members = dir.entries.map(
			(e): Member => ({
				key: arrayKey(e.name),
				record: { ...e, localZip64: false },
				dataOffset: null,
				crcStale: false,
				pending: null,
			}),
		);
		return new NpzArchive(
			path,
			mode,
			fh,
			members,
			dir.directoryOffset,
			false,
			options,
		);
	} catch (err) {
		await fh.close().catch(() => undefined);
		throw tag(err, details);
	}
}

/** The container driver of one archive. */
export class NpzArchive implements ContainerDriver {
	readonly #path: string;
	readonly #mode: "r" | "r+" | "w+";
	readonly #fh: FileHandle;
	readonly #members: Member[];
	readonly #options: NpzOptions;
	readonly #open = new Set<ArrayDriver>();
	/** Where the next member (or the central directory) goes. */
	#appendAt: number;
	/** The directory must be rewritten. */
	#changed: boolean;
	#closing: Promise<void> | null = null;

	constructor(
		path: string,
		mode: "r" | "r+" | "w+",
		fh: FileHandle,
		members: Member[],
		appendAt: number,
		changed: boolean,
		options: NpzOptions,
	) {
		this.#path = path;
		this.#mode = mode;
		this.#fh = fh;
		this.#members = members;
		this.#appendAt = appendAt;
		this.#changed = changed;
		this.#options = options;
	}

	/** Array paths, sorted. */
	keys(): string[] {
		return this.#members.flatMap((m) => (m.key === null ? [] : [m.key])).sort();
	}

	async list(path: string, _recursive: boolean): Promise<TreeEntry[]> {
		const keys = this.keys();
		const root = path === "" || path === "/";
		const prefix = root ? "" : `${path.replace(/\/+$/, "")}/`;
		const hits = keys.filter((k) => k.startsWith(prefix));
		if (!root && hits.length === 0)
			throw new NotFoundError(
				`no arrays under ${JSON.stringify(path)} in ${this.#path}`,
				this.#details(),
			);
		return hits.map((k) => ({ path: k, kind: "array" }));
	}

	async attrs(path: string): Promise<Attributes> {
		if (path !== "" && path !== "/" && this.#find(path) === undefined)
			throw this.#missing(path);
		return {};
	}

	async openArray(
		path: string,
		options: DriverOpenOptions,
	): Promise<ArrayDriver> {
		const m = this.#find(path);
		if (m === undefined) throw this.#missing(path);
		const mode = options.mode === "c" ? "r" : options.mode;
		if (mode === "r+" && this.#mode === "r")
			throw new ReadOnlyError(
				`${this.#path} is open read-only`,
				this.#details(),
			);
		const tuning = { ...this.#options, signal: options.signal };
		const target = `${this.#path}#${path}`;
		if (m.pending !== null)
			return this.#trackNpy(await openNpy(m.pending, { ...tuning, mode }));
		checkReadable(m.record);
		const dataOffset = await this.#dataOffset(m);
		if (m.record.method === METHOD_STORED) {
			const header = await readNpyHeader(this.#fh, dataOffset, {
				...this.#options,
				available: m.record.uncompressedSize,
			});
			const region = await openRegion(
				this.#path,
				{ ...header, dataOffset: dataOffset + header.dataOffset },
				mode,
				tuning,
			);
			let driver: ArrayDriver | undefined;
			driver = storedMemberDriver(
				region,
				() => {
					m.crcStale = true;
					this.#changed = true;
				},
				() => driver && this.#open.delete(driver),
			);
			return this.#track(driver);
		}
		const cursor = new InflateCursor(
			this.#fh,
			{
				name: m.record.name,
				dataOffset,
				compressedSize: m.record.compressedSize,
				uncompressedSize: m.record.uncompressedSize,
				crc32: m.record.crc32,
			},
			{ cacheBytes: this.#options.cacheBytes },
		);
		try {
			const header = await readNpyHeaderFrom(
				async (at, length) => {
					const out = new Uint8Array(length);
					await cursor.read(
						[{ position: at, length, outOffset: 0 }],
						out,
						options.signal,
					);
					return out;
				},
				{ ...this.#options, available: m.record.uncompressedSize },
			);
			const materialize =
				mode === "r+"
					? () => this.#materialize(m, cursor, { ...tuning, mode: "r+" })
					: null;
			let driver: ArrayDriver | undefined;
			driver = new DeflatedMemberDriver(
				cursor,
				header,
				target,
				() => driver && this.#open.delete(driver),
				materialize,
			);
			return this.#track(driver);
		} catch (err) {
			await cursor.close();
			throw tag(err, { target, adapter: NPZ_ADAPTER });
		}
	}

	async createArray(
		path: string,
		spec: DriverCreateOptions,
	): Promise<ArrayDriver> {
		const details = this.#details();
		if (this.#mode === "r")
			throw new ReadOnlyError(`${this.#path} is open read-only`, details);
		const support = checkNpyDType(spec.dtype);
		if (!support.ok) {
			throw new UnsupportedDTypeError(
				`npz cannot store ${spec.dtype.str}: ${support.reason}`,
				{ ...details, dtype: spec.dtype.str, format: NPZ_ADAPTER },
			);
		}
		if (spec.chunks != null)
			throw new UnsupportedError("npz members are not chunked", details);
		if ((spec.codecs?.length ?? 0) > 0)
			throw new UnsupportedError(
				"npz members take no codecs; use adapterOptions.compression",
				details,
			);
		if (spec.attrs !== undefined && Object.keys(spec.attrs).length > 0)
			throw new UnsupportedError("npz members have no attributes", details);
		if (spec.offset !== 0)
			throw new UnsupportedError(
				"the npy header decides the data offset; offset must be 0",
				details,
			);
		const key = path.replace(/^\/+/, "");
		if (key === "" || key.includes("\0"))
			throw new UnsupportedError(
				`bad npz member name ${JSON.stringify(path)}`,
				details,
			);
		const options = readNpzOptions(spec.adapterOptions, this.#path);
		const existing = this.#members.findIndex((m) => m.key === key);
		if (existing >= 0) {
			const old = this.#members[existing] as Member;
			this.#members.splice(existing, 1);
			if (old.pending !== null) await rm(old.pending, { force: true });
		}
		this.#changed = true;
		const { rawName, flags } = encodeName(`${key}.npy`);
		const { dosTime, dosDate } = dosDateTime();
		const order = spec.order;
		if ((options.compression ?? this.#options.compression) === "deflated") {
			const temp = join(
				dirname(this.#path),
				`.${basename(this.#path)}.${randomBytes(6).toString("hex")}.npy.tmp`,
			);
			const record = {
				name: `${key}.npy`,
				rawName,
				flags,
				method: METHOD_DEFLATED,
				crc32: 0,
				compressedSize: 0,
				uncompressedSize: 0,
				localHeaderOffset: 0,
				dosTime,
				dosDate,
				localZip64: false,
			};
			const driver = await createNpy(temp, {
				...options,
				dtype: spec.dtype,
				shape: spec.shape,
				order,
				fillValue: spec.fillValue,
				signal: spec.signal,
			});
			this.#members.push({
				key,
				record,
				dataOffset: null,
				crcStale: false,
				pending: temp,
			});
			return this.#trackNpy(driver);
		}
		// Stored: local header, npy header, then the data, written in place and mapped.
		const header = formatNpyHeader({
			dtype: spec.dtype,
			shape: spec.shape,
			fortranOrder: order === "F",
		});
		const nbytes = shapeSize(spec.shape) * spec.dtype.itemsize;
		const size = header.length + nbytes;
		const force = options.forceZip64 ?? this.#options.forceZip64 ?? false;
		const localZip64 = force || size >= 0xffffffff;
		const at = this.#appendAt;
		const record = {
			name: `${key}.npy`,
			rawName,
			flags,
			method: METHOD_STORED,
			crc32: 0,
			compressedSize: size,
			uncompressedSize: size,
			localHeaderOffset: at,
			dosTime,
			dosDate,
			localZip64,
		};
		const lh = localHeader(record);
		const dataOffset = at + lh.length;
		try {
			// Drop whatever followed (an old central directory, rewritten at close) so the data reads as zeros.
			await this.#fh.truncate(at);
			await writeAt(this.#fh, lh, at);
			await writeAt(this.#fh, header, dataOffset);
			await this.#fh.truncate(dataOffset + size);
			if (spec.fillValue !== undefined)
				await this.#fill(
					dataOffset + header.length,
					nbytes,
					encodeElement(spec.dtype, spec.fillValue),
					spec.signal,
				);
		} catch (err) {
			throw tag(err, details);
		}
		const m: Member = {
			key,
			record,
			dataOffset,
			crcStale: true,
			pending: null,
		};
		this.#members.push(m);
		this.#appendAt = dataOffset + size;
		const region = await openRegion(
			this.#path,
			{
				dtype: spec.dtype,
				shape: spec.shape,
				fortranOrder: order === "F",
				dataOffset: dataOffset + header.length,
			},
			"r+",
			{ ...this.#options, ...options, signal: spec.signal },
		);
		let driver: ArrayDriver | undefined;
		driver = storedMemberDriver(
			region,
			() => {
				m.crcStale = true;
			},
			() => driver && this.#open.delete(driver),
		);
		return this.#track(driver);
	}

	async delete(path: string): Promise<void> {
		if (this.#mode === "r")
			throw new ReadOnlyError(
				`${this.#path} is open read-only`,
				this.#details(),
			);
		const i = this.#members.findIndex(
			(m) => m.key === path.replace(/^\/+/, ""),
		);
		if (i < 0) throw this.#missing(path);
		const [m] = this.#members.splice(i, 1);
		if (m?.pending) await rm(m.pending, { force: true });
		this.#changed = true;
	}

	/** Flushes members and writes a consistent directory (pending deflated members join at close). */
	async flush(): Promise<void> {
		if (this.#mode === "r") return;
		for (const d of this.#open) await d.flush?.();
		await this.#writeDirectory(false);
	}

	close(): Promise<void> {
		this.#closing ??= (async () => {
			try {
				await Promise.all([...this.#open].map((d) => d.close()));
				if (this.#mode !== "r") await this.#writeDirectory(true);
			} catch (err) {
				throw tag(err, this.#details());
			} finally {
				await this.#fh.close().catch(() => undefined);
				await Promise.all(
					this.#members.map((m) =>
						m.pending ? rm(m.pending, { force: true }) : undefined,
					),
				);
			}
		})();
		return this.#closing;
	}

	// --- internal ---

	async #writeDirectory(final: boolean): Promise<void> {
		if (final) {
			for (const m of this.#members) {
				if (m.pending === null) continue;
				await this.#deflatePending(m, m.pending);
			}
		}
		for (const m of this.#members) {
			if (!m.crcStale || m.pending !== null) continue;
			const at = await this.#dataOffset(m);
			m.record.crc32 = await crc32OfRange(
				this.#fh,
				at,
				m.record.uncompressedSize,
			);
			const crc = new Uint8Array(4);
			new DataView(crc.buffer).setUint32(0, m.record.crc32, true);
			await writeAt(this.#fh, crc, m.record.localHeaderOffset + 14);
			m.crcStale = false;
			this.#changed = true;
		}
		if (!this.#changed) return;
		const force = this.#options.forceZip64 ?? false;
		const parts: Uint8Array[] = [];
		let count = 0;
		for (const m of this.#members) {
			if (m.pending !== null) continue;
			parts.push(centralRecord(m.record, force));
			count++;
		}
		const cdSize = parts.reduce((n, p) => n + p.length, 0);
		parts.push(endRecords(count, this.#appendAt, cdSize, force));
		let at = this.#appendAt;
		for (const p of parts) {
			await writeAt(this.#fh, p, at);
			at += p.length;
		}
		await this.#fh.truncate(at);
		if (final) this.#changed = false;
	}

	async #deflatePending(m: Member, temp: string): Promise<void> {
		const at = this.#appendAt;
		const tempSize = (await stat(temp)).size;
		// Room for zip64 sizes when the member might not fit 32 bits (deflate can expand a little).
		const localZip64 =
			(this.#options.forceZip64 ?? false) || tempSize >= 0xf0000000;
		const headerLen = localHeaderLength(m.record.rawName, localZip64);
		await this.#fh.truncate(at);
		const { crc32, uncompressedSize, compressedSize } = await deflateFileInto(
			temp,
			this.#fh,
			at + headerLen,
		);
		m.record = {
			...m.record,
			crc32,
			uncompressedSize,
			compressedSize,
			localHeaderOffset: at,
			localZip64,
		};
		await writeAt(this.#fh, localHeader(m.record), at);
		m.dataOffset = at + headerLen;
		m.pending = null;
		this.#appendAt = at + headerLen + compressedSize;
		await rm(temp, { force: true });
	}

	/**
	 * Inflates a deflated member into a temporary `.npy` (it becomes pending: deflated again into
	 * the archive at close, its old bytes left as dead space) and opens that file.
	 */
	async #materialize(
		m: Member,
		cursor: InflateCursor,
		options: OpenNpyOptions,
	): Promise<ArrayDriver> {
		const temp = this.#tempPath();
		let out: FileHandle;
		try {
			out = await open(temp, "wx", 0o666);
		} catch (err) {
			throw tag(err, this.#details());
		}
		try {
			const buf = new Uint8Array(
				Math.min(1024 * 1024, Math.max(1, cursor.size)),
			);
			for (let at = 0; at < cursor.size; at += buf.length) {
				const n = Math.min(buf.length, cursor.size - at);
				await cursor.read(
					[{ position: at, length: n, outOffset: 0 }],
					buf,
					options.signal,
				);
				await writeAt(out, buf.subarray(0, n), at);
			}
		} catch (err) {
			await out.close().catch(() => undefined);
			await rm(temp, { force: true });
			throw err;
		}
		await out.close();
		m.pending = temp;
		m.dataOffset = null;
		m.crcStale = false;
		this.#changed = true;
		return openNpy(temp, options);
	}

	#tempPath(): string {
		return join(
			dirname(this.#path),
			`.${basename(this.#path)}.${randomBytes(6).toString("hex")}.npy.tmp`,
		);
	}

	async #dataOffset(m: Member): Promise<number> {
		m.dataOffset ??= await memberDataOffset(
			this.#fh,
			m.record as ZipEntry,
			this.#appendAt,
		);
		return m.dataOffset;
	}

	async #fill(
		position: number,
		nbytes: number,
		element: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		if (nbytes === 0 || element.every((b) => b === 0)) return;
		const per = Math.max(1, Math.floor((1024 * 1024) / element.length));
		const pattern = new Uint8Array(per * element.length);
		for (let i = 0; i < per; i++) pattern.set(element, i * element.length);
		for (let done = 0; done < nbytes; done += pattern.length) {
			signal?.throwIfAborted();
			await writeAt(
				this.#fh,
				pattern.subarray(0, Math.min(pattern.length, nbytes - done)),
				position + done,
			);
		}
	}

	#track(driver: ArrayDriver): ArrayDriver {
		this.#open.add(driver);
		return driver;
	}

	/** The npy driver of a pending (deflated, not yet compressed) member, untracked on close. */
	#trackNpy(inner: NpyDriver): ArrayDriver {
		const open = this.#open;
		const driver: ArrayDriver = {
			get info() {
				return inner.info;
			},
			read: (r, out, signal) => inner.read(r, out, signal),
			...(inner.mode === "r"
				? {}
				: {
						write: (r: Region, bytes: Uint8Array, signal?: AbortSignal) =>
							inner.write(r, bytes, signal),
					}),
			flush: (o) => inner.flush(o),
			close: () => inner.close().finally(() => open.delete(driver)),
		};
		return this.#track(driver);
	}

	#find(path: string): Member | undefined {
		const key = path.replace(/^\/+/, "");
		return this.#members.find((m) => m.key === key);
	}

	#missing(path: string): NotFoundError {
		return new NotFoundError(
			`${this.#path} has no array ${JSON.stringify(path)}`,
			this.#details(),
		);
	}

	#details(): { target: string; adapter: string } {
		return { target: this.#path, adapter: NPZ_ADAPTER };
	}
}

/** `x.npy` → `x`; other members are not arrays. */
function arrayKey(name: string): string | null {
	return name.endsWith(".npy") && name.length > 4 ? name.slice(0, -4) : null;
}

function tag(
	err: unknown,
	details: { target: string; adapter: string },
): unknown {
	const e = fromNodeError(err, details);
	if (e !== null && typeof e === "object" && "adapter" in e) {
		const t = e as { target: string | undefined; adapter: string | undefined };
		t.target ??= details.target;
		t.adapter ??= details.adapter;
	}
	return e;
}
