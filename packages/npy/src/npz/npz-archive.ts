/**
 * `.npz` archives as containers: every `<name>.npy` member is the array at path `<name>`.
 * Stored members are memory-mapped through raw's region at their data offset inside the zip;
 * deflated members are inflated as streams. Writing appends members (stored ones are written in
 * place and stay writable; deflated ones live in a temporary `.npy` until `close()` deflates
 * them into the archive) and rewrites the central directory, as `np.savez` and
 * `np.savez_compressed` lay it out.
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, open, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import {
	type ArrayDriver,
	type Attributes,
	type ContainerDriver,
	type DriverCreateOptions,
	type DriverOpenOptions,
	fromNodeError,
	NotFoundError,
	ReadOnlyError,
	type TreeEntry,
	wrapError,
} from "@arraystore/core";
import { writeAt } from "../file-bytes.js";
import { readNpyHeader } from "../header.js";
import {
	createNpy,
	type OpenNpyOptions,
	openNpy,
	openRegion,
} from "../npy-driver.js";
import type { InflateCursor } from "../zip/inflate-cursor.js";
import {
	checkReadable,
	METHOD_DEFLATED,
	METHOD_STORED,
	memberDataOffset,
	readZipDirectory,
	type ZipEntry,
} from "../zip/zip-read.js";
import {
	dosDateTime,
	encodeName,
	type ZipMemberRecord,
} from "../zip/zip-write.js";
import {
	NPZ_ADAPTER,
	npyMemberDriver,
	openDeflatedMember,
	storedMemberDriver,
} from "./member-drivers.js";
import {
	checkMemberCreate,
	type NpzOptions,
	readNpzOptions,
} from "./npz-options.js";
import {
	crc32OfRange,
	deflateMember,
	inflateToFile,
	writeCentralDirectory,
	writeStoredMember,
} from "./npz-write.js";

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
		throw wrapError(err, details);
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
			return this.#register(async (onClose) =>
				npyMemberDriver(
					await openNpy(m.pending as string, { ...tuning, mode }),
					onClose,
				),
			);
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
			const stale = () => {
				m.crcStale = true;
				this.#changed = true;
			};
			return this.#register(async (onClose) =>
				storedMemberDriver(region, stale, onClose),
			);
		}
		const span = {
			name: m.record.name,
			dataOffset,
			compressedSize: m.record.compressedSize,
			uncompressedSize: m.record.uncompressedSize,
			crc32: m.record.crc32,
		};
		const materialize =
			mode === "r+"
				? (cursor: InflateCursor) =>
						this.#materialize(m, cursor, { ...tuning, mode: "r+" })
				: null;
		return this.#register((onClose) =>
			openDeflatedMember(this.#fh, span, {
				...tuning,
				target,
				onClose,
				materialize,
			}),
		);
	}

	async createArray(
		path: string,
		spec: DriverCreateOptions,
	): Promise<ArrayDriver> {
		if (this.#mode === "r")
			throw new ReadOnlyError(
				`${this.#path} is open read-only`,
				this.#details(),
			);
		const key = checkMemberCreate(path, spec, this.#path);
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
			const temp = this.#tempPath();
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
			return this.#register(async (onClose) =>
				npyMemberDriver(driver, onClose),
			);
		}
		// Stored: local header, npy header, then the data, written in place and mapped.
		const force = options.forceZip64 ?? this.#options.forceZip64 ?? false;
		const at = this.#appendAt;
		let written: Awaited<ReturnType<typeof writeStoredMember>>;
		try {
			written = await writeStoredMember(
				this.#fh,
				{
					name: `${key}.npy`,
					rawName,
					flags,
					dosTime,
					dosDate,
					localHeaderOffset: at,
				},
				spec,
				force,
			);
		} catch (err) {
			throw wrapError(err, this.#details());
		}
		const { record, dataOffset, npyHeaderLength } = written;
		const size = record.uncompressedSize;
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
				dataOffset: dataOffset + npyHeaderLength,
			},
			"r+",
			{ ...this.#options, ...options, signal: spec.signal },
		);
		const stale = () => {
			m.crcStale = true;
		};
		return this.#register(async (onClose) =>
			storedMemberDriver(region, stale, onClose),
		);
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
				throw wrapError(err, this.#details());
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
		const records = this.#members.flatMap((m) =>
			m.pending === null ? [m.record] : [],
		);
		await writeCentralDirectory(
			this.#fh,
			records,
			this.#appendAt,
			this.#options.forceZip64 ?? false,
		);
		if (final) this.#changed = false;
	}

	async #deflatePending(m: Member, temp: string): Promise<void> {
		const { record, dataOffset } = await deflateMember(
			this.#fh,
			m.record,
			this.#appendAt,
			temp,
			this.#options.forceZip64 ?? false,
		);
		m.record = record;
		m.dataOffset = dataOffset;
		m.pending = null;
		this.#appendAt = dataOffset + record.compressedSize;
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
		await inflateToFile(cursor, temp, options.signal);
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

	/** Opens a member driver that leaves the set of open drivers when it closes. */
	async #register(
		make: (onClose: () => void) => Promise<ArrayDriver>,
	): Promise<ArrayDriver> {
		let driver: ArrayDriver | undefined;
		driver = await make(() => {
			if (driver) this.#open.delete(driver);
		});
		this.#open.add(driver);
		return driver;
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
