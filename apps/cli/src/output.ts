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
import { basename, dirname, join } from "node:path";
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
 * the old one is moved aside first and deleted after), then deletes the journal.
 */
export async function commitOutput(paths: OutputPaths): Promise<void> {
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
	await removeAll([...aside, paths.journal]);
}

/** A journal kept in a file: appends and resets are fsynced, so a crash keeps every recorded line. */
export function fileJournalStorage(path: string): JournalStorage {
	const write = async (text: string, flags: string) => {
		try {
			const fh = await open(path, flags);
			try {
				await fh.writeFile(text);
				await fh.sync();
			} finally {
				await fh.close();
			}
		} catch (err) {
			throw fromNodeError(err, { target: path });
		}
	};
	return {
		async read() {
			try {
				return await readFile(path, "utf8");
			} catch (err) {
				if ((err as { code?: string }).code === "ENOENT") return null;
				throw fromNodeError(err, { target: path });
			}
		},
		append: (text) => write(text, "a"),
		reset: (text) => write(text, "w"),
	};
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
