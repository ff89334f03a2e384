/**
 * `.npz` archives as containers: every `<name>.npy` member is the array at path `<name>`.
 * Stored members are memory-mapped through raw's region at their data offset inside the zip;
 * deflated members are inflated as streams. Writing appends members (stored ones are written in
 * place and stay writable; deflated ones live in a temporary `.npy` until `close()` deflates
 * them into the archive) and rewrites the central directory, as `np.savez` and
 * `np.savez_compressed` lay it out.
 */
import type { FileHandle } from "node:fs/promises";
import {
	type ArrayDriver,
	type Attributes,
	type ContainerDriver,
	type DriverCreateOptions,
	type DriverOpenOptions,
	NotFoundError,
	ReadOnlyError,
	type TreeEntry,
	wrapError,
} from "@arraystore/core";
import { openFile } from "../file-bytes.js";
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
	readZipDirectory,
} from "../zip/zip-read.js";
import { dosDateTime, encodeName } from "../zip/zip-write.js";
import {
	NPZ_ADAPTER,
	npyMemberDriver,
	openDeflatedMember,
	storedMemberDriver,
} from "./member-drivers.js";
import { type Member, NpzMembers } from "./npz-members.js";
import {
	checkMemberCreate,
	type NpzOptions,
	readNpzOptions,
} from "./npz-options.js";
import { inflateToFile, writeStoredMember } from "./npz-write.js";

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
	const fh = await openFile(
		path,
		mode === "r" ? "r" : mode === "r+" ? "r+" : "w+",
		details,
	);
	try {
		if (mode === "w+")
			return new NpzArchive(
				mode,
				new NpzMembers(path, fh, [], 0, true, options),
				options,
			);
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
			mode,
			new NpzMembers(path, fh, members, dir.directoryOffset, false, options),
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
	readonly #members: NpzMembers;
	readonly #options: NpzOptions;
	readonly #open = new Set<ArrayDriver>();
	#closing: Promise<void> | null = null;

	constructor(
		mode: "r" | "r+" | "w+",
		members: NpzMembers,
		options: NpzOptions,
	) {
		this.#path = members.path;
		this.#mode = mode;
		this.#fh = members.fh;
		this.#members = members;
		this.#options = options;
	}

	/** Array paths, sorted. */
	keys(): string[] {
		return this.#members.keys();
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
		if (path !== "" && path !== "/" && this.#members.find(path) === undefined)
			throw this.#missing(path);
		return {};
	}

	async openArray(
		path: string,
		options: DriverOpenOptions,
	): Promise<ArrayDriver> {
		const m = this.#members.find(path);
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
		const dataOffset = await this.#members.dataOffset(m);
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
				this.#members.touch();
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
		await this.#members.remove(key);
		this.#members.touch();
		const { rawName, flags } = encodeName(`${key}.npy`);
		const { dosTime, dosDate } = dosDateTime();
		const order = spec.order;
		if ((options.compression ?? this.#options.compression) === "deflated") {
			const temp = this.#members.tempPath();
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
			this.#members.add({
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
		const at = this.#members.appendAt;
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
		this.#members.add(m, dataOffset + size);
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
		if (!(await this.#members.remove(path.replace(/^\/+/, ""))))
			throw this.#missing(path);
	}

	/** Flushes members and writes a consistent directory (pending deflated members join at close). */
	async flush(): Promise<void> {
		if (this.#mode === "r") return;
		for (const d of this.#open) await d.flush?.();
		await this.#members.writeDirectory(false);
	}

	close(): Promise<void> {
		this.#closing ??= (async () => {
			try {
				await Promise.all([...this.#open].map((d) => d.close()));
				if (this.#mode !== "r") await this.#members.writeDirectory(true);
			} catch (err) {
				throw wrapError(err, this.#details());
			} finally {
				await this.#fh.close().catch(() => undefined);
				await this.#members.removeTemps();
			}
		})();
		return this.#closing;
	}

	// --- internal ---

	/**
	 * Inflates a deflated member into a temporary `.npy` (it becomes pending: deflated again into
	 * the archive at close, its old bytes left as dead space) and opens that file.
	 */
	async #materialize(
		m: Member,
		cursor: InflateCursor,
		options: OpenNpyOptions,
	): Promise<ArrayDriver> {
		const temp = this.#members.tempPath();
		await inflateToFile(cursor, temp, options.signal);
		m.pending = temp;
		m.dataOffset = null;
		m.crcStale = false;
		this.#members.touch();
		return openNpy(temp, options);
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
