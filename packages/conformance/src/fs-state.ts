/**
 * A fingerprint of a file or directory tree (contents and mtimes), to prove mode "c" and
 * failed operations never touch the stored data.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

/** sha256 over every file's relative path, bytes and mtime below `path`. */
export async function fingerprint(path: string): Promise<string> {
	const h = createHash("sha256");
	const visit = async (p: string, rel: string): Promise<void> => {
		const st = await stat(p);
		if (st.isDirectory()) {
			for (const name of (await readdir(p)).sort())
				await visit(join(p, name), `${rel}/${name}`);
			return;
		}
		h.update(`${rel}\0${st.mtimeMs}\0${st.size}\0`);
		h.update(await readFile(p));
	};
	await visit(path, "");
	return h.digest("hex");
}
