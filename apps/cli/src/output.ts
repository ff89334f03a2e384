/**
 * Output safety. Every output is written to a `<out>.partial` sibling (file or directory) and
 * renamed into place only after the last flush (and `--verify`); the resume journal lives
 * beside it in `<out>.partial.journal`. A failed or interrupted run therefore never leaves
 * something at `<out>` that looks complete.
 */
import { randomBytes } from "node:crypto";
import {
	lstat,
	open,
	readdir,
	readFile,
	rename,
	rm,
	stat,
} from "node:fs/promises";
import { uptime } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fromNodeError, type JournalStorage } from "@arraystore/core";

/** The paths of one output. */
export interface OutputPaths {
	/** Where the finished output goes. */
	readonly final: string;
	/** Where it is written. */
	readonly partial: string;
	/** The resume journal. */
	readonly journal: string;
	/** Extra files the format writes beside its output (raw: the `.json` sidecar), as [partial, final] pairs. */
	readonly siblings: readonly (readonly [string, string])[];
}

/** Suffix of partial outputs. */
export const PARTIAL_SUFFIX = ".partial";

/** The paths used to write `final` in `format`. */
export function outputPaths(final: string, format: string): OutputPaths {
	const partial = `${final}${PARTIAL_SUFFIX}`;
	return {
		final,
		partial,
		journal: `${partial}.journal`,
		siblings: format === "raw" ? [[`${partial}.json`, `${final}.json`]] : [],
	};
}

/** Whether anything exists at `path` (a dangling symlink counts). */
export async function pathExists(path: string): Promise<boolean> {
	try {
		await lstat(path);
		return true;
	} catch (err) {
		if ((err as { code?: string }).code === "ENOENT") return false;
		throw fromNodeError(err, { target: path });
	}
}

/** Removes the partial output, its siblings and its journal. */
export async function discardPartial(paths: OutputPaths): Promise<void> {
	await removeAll([
		paths.partial,
		paths.journal,
		...paths.siblings.map(([p]) => p),
	]);
}

/**
 * Moves the finished partial output into place (replacing an existing output when asked to:
 * the old one is moved aside first and deleted after), then deletes the journal. `durable`
 * fsyncs the directory after the renames, so the new name survives a crash of the machine.
 */
export async function commitOutput(
	paths: OutputPaths,
	durable = false,
): Promise<void> {
	const aside: string[] = [];
	const move = async (from: string, to: string) => {
		if (await pathExists(to)) {
			const old = join(
				dirname(to),
				`.${basename(to)}.old-${randomBytes(4).toString("hex")}`,
			);
			await rename(to, old).catch((err: unknown) => {
				throw fromNodeError(err, { target: to });
			});
			aside.push(old);
		}
		await rename(from, to).catch((err: unknown) => {
			throw fromNodeError(err, { target: to });
		});
	};
	// Siblings first: the main output appearing is the last step.
	for (const [from, to] of paths.siblings)
		if (await pathExists(from)) await move(from, to);
	await move(paths.partial, paths.final);
	if (durable) await syncDirectory(dirname(resolve(paths.final)));
	await removeAll([...aside, paths.journal]);
}

// fsync of a directory (its entries); platforms that cannot open directories skip it.
async function syncDirectory(dir: string): Promise<void> {
	let fh: Awaited<ReturnType<typeof open>> | undefined;
	try {
		fh = await open(dir, "r");
		await fh.sync();
	} catch (err) {
		const code = (err as { code?: string }).code;
		if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL")
			throw fromNodeError(err, { target: dir });
	} finally {
		await fh?.close();
	}
}

/**
 * A journal kept in a file. Resets and durable appends are fsynced, so a crash of the machine
 * keeps every such line; other appends carry `epoch` (see {@link bootEpoch}) and are trusted
 * only until the machine restarts.
 */
export function fileJournalStorage(
	path: string,
	epoch?: string,
): JournalStorage {
	const write = async (text: string, flags: string, durable: boolean) => {
		try {
			const fh = await open(path, flags);
			try {
				await fh.writeFile(text);
				if (durable) await fh.sync();
			} finally {
				await fh.close();
			}
		} catch (err) {
			throw fromNodeError(err, { target: path });
		}
	};
	return {
		...(epoch !== undefined ? { epoch } : {}),
		async read() {
			try {
				return await readFile(path, "utf8");
			} catch (err) {
				if ((err as { code?: string }).code === "ENOENT") return null;
				throw fromNodeError(err, { target: path });
			}
		},
		append: (text, durable = true) => write(text, "a", durable),
		reset: (text) => write(text, "w", true),
	};
}

/**
 * What identifies this boot of the machine: Linux's boot id, elsewhere the boot time to the
 * minute (a mismatch only makes a resume redo work, never trust too much).
 */
export async function bootEpoch(): Promise<string> {
	try {
		const id = (
			await readFile("/proc/sys/kernel/random/boot_id", "utf8")
		).trim();
		if (id) return `boot:${id}`;
	} catch {
		// not Linux, or /proc unavailable
	}
	return `boot-time:${Math.round((Date.now() / 1000 - uptime()) / 60)}`;
}

/**
 * A cheap fingerprint of a source (size and modification time; for directories the file count,
 * total size and newest mtime of up to 100,000 files), so a resume never mixes two versions.
 */
export async function sourceFingerprint(
	path: string,
): Promise<Record<string, number>> {
	const st = await stat(path).catch((err: unknown) => {
		throw fromNodeError(err, { target: path });
	});
	if (!st.isDirectory())
		return { size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
	let files = 0;
	let size = 0;
	let mtimeMs = Math.floor(st.mtimeMs);
	const walk = async (dir: string): Promise<void> => {
		for (const e of await readdir(dir, { withFileTypes: true })) {
			if (files >= 100_000) return;
			const p = join(dir, e.name);
			if (e.isDirectory()) await walk(p);
			else if (e.isFile()) {
				const s = await stat(p);
				files++;
				size += s.size;
				mtimeMs = Math.max(mtimeMs, Math.floor(s.mtimeMs));
			}
		}
	};
	await walk(path);
	return { files, size, mtimeMs };
}

// --- internal ---

async function removeAll(paths: readonly string[]): Promise<void> {
	for (const p of paths)
		await rm(p, { recursive: true, force: true }).catch((err: unknown) => {
			throw fromNodeError(err, { target: p });
		});
}
