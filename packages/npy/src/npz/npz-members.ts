/**
 * The member table of an open `.npz` archive: each member's zip record, where its data starts,
 * whether its CRC-32 is stale, and whether it is pending in a temporary `.npy` (deflated
 * members being written); where the next member goes; and writing all of it back — fresh
 * CRCs, pending members deflated into the archive, and the central directory.
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { writeAt } from "../file-bytes.js";
import { memberDataOffset } from "../zip/zip-read.js";
import type { ZipMemberRecord } from "../zip/zip-write.js";
import type { NpzOptions } from "./npz-options.js";
import {
	crc32OfRange,
	deflateMember,
	writeCentralDirectory,
} from "./npz-write.js";

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** One member of the archive. */
export interface Member {
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

/** The members of one archive and the bookkeeping to write them back. */
export class NpzMembers {
	readonly path: string;
	readonly fh: FileHandle;
	readonly #options: NpzOptions;
	readonly #members: Member[];
	/** Where the next member (or the central directory) goes. */
	#appendAt: number;
	/** The directory must be rewritten. */
	#changed: boolean;

	constructor(
		path: string,
		fh: FileHandle,
		members: Member[],
		appendAt: number,
		changed: boolean,
		options: NpzOptions,
	) {
		this.path = path;
		this.fh = fh;
		this.#members = members;
		this.#appendAt = appendAt;
		this.#changed = changed;
		this.#options = options;
	}

	/** Where the next member goes. */
	get appendAt(): number {
		return this.#appendAt;
	}

	/** Array paths, sorted. */
	keys(): string[] {
		return this.#members.flatMap((m) => (m.key === null ? [] : [m.key])).sort();
	}

	/** The member at array path `path` (leading slashes ignored). */
	find(path: string): Member | undefined {
		const key = path.replace(/^\/+/, "");
		return this.#members.find((m) => m.key === key);
	}

	/** Removes the member `key` (and its temporary file); false when there is none. */
	async remove(key: string): Promise<boolean> {
		const i = this.#members.findIndex((m) => m.key === key);
		if (i < 0) return false;
		const [m] = this.#members.splice(i, 1);
		if (m?.pending) await rm(m.pending, { force: true });
		this.#changed = true;
		return true;
	}

	/** Adds a member; `end` is where its bytes end when they are written in place now. */
	add(m: Member, end?: number): void {
		this.#members.push(m);
		if (end !== undefined) this.#appendAt = end;
		this.#changed = true;
	}

	/** The directory must be rewritten (a member changed). */
	touch(): void {
		this.#changed = true;
	}

	/** Where `m`'s bytes start, reading its local header the first time. */
	async dataOffset(m: Member): Promise<number> {
		m.dataOffset ??= await memberDataOffset(this.fh, m.record, this.#appendAt);
		return m.dataOffset;
	}

	/** A fresh temporary `.npy` path next to the archive. */
	tempPath(): string {
		return join(
			dirname(this.path),
			`.${basename(this.path)}.${randomBytes(6).toString("hex")}.npy.tmp`,
		);
	}

	/**
	 * Refreshes stale CRCs and rewrites the central directory when anything changed; `final`
	 * first deflates the pending members into the archive.
	 */
	async writeDirectory(final: boolean): Promise<void> {
		if (final) {
			for (const m of this.#members) {
				if (m.pending === null) continue;
				await this.#deflatePending(m, m.pending);
			}
		}
		for (const m of this.#members) {
			if (!m.crcStale || m.pending !== null) continue;
			const at = await this.dataOffset(m);
			m.record.crc32 = await crc32OfRange(
				this.fh,
				at,
				m.record.uncompressedSize,
			);
			const crc = new Uint8Array(4);
			new DataView(crc.buffer).setUint32(0, m.record.crc32, true);
			await writeAt(this.fh, crc, m.record.localHeaderOffset + 14);
			m.crcStale = false;
			this.#changed = true;
		}
		if (!this.#changed) return;
		const records = this.#members.flatMap((m) =>
			m.pending === null ? [m.record] : [],
		);
		await writeCentralDirectory(
			this.fh,
			records,
			this.#appendAt,
			this.#options.forceZip64 ?? false,
		);
		if (final) this.#changed = false;
	}

	/** Deletes the temporary files of members still pending. */
	async removeTemps(): Promise<void> {
		await Promise.all(
			this.#members.map((m) =>
				m.pending ? rm(m.pending, { force: true }) : undefined,
			),
		);
	}

	async #deflatePending(m: Member, temp: string): Promise<void> {
		const { record, dataOffset } = await deflateMember(
			this.fh,
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
}
