/**
 * The resume journal of a copy: a plan hash and, per target array, the block indices whose
 * writes are durable. It is an append-only text of JSON lines kept by a `JournalStorage`
 * (a file beside the partial output in the CLI, memory in tests):
 *
 * ```
 * {"journal":1,"plan":"<sha256 of the plan>"}
 * {"group":"grp"}
 * {"array":"grp/x","created":true}
 * {"array":"grp/x","blocks":[0,1,2]}
 * {"array":"grp/x","done":true}
 * ```
 *
 * Lines are appended only after the data they describe is written. In a durable copy they
 * follow a flush that reached the disk (fsync), so even a power loss keeps them true. A copy
 * that does not wait for the disk (the CLI's default, as cp does) tags its lines with the
 * storage's `epoch` — the machine's boot — and lines of another epoch are ignored on load:
 * after a kill the page cache still holds every written byte and the resume skips them; after
 * a crash of the machine nothing unflushed is trusted. A torn last line is ignored.
 */
/** Where the journal text lives. */
export interface JournalStorage {
	/** The whole journal text, or null when there is none. */
	read(): Promise<string | null>;
	/**
	 * Appends text; durably (the CLI's file storage fsyncs) unless `durable` is false.
	 */
	append(text: string, durable?: boolean): Promise<void>;
	/**
	 * What survives only until the machine restarts: lines appended with `durable` false carry
	 * it and count only while it is unchanged (the CLI: the kernel's boot id). Without it, such
	 * lines are written durably.
	 */
	readonly epoch?: string;
	/** Replaces the whole journal text durably. */
	reset(text: string): Promise<void>;
}

const VERSION = 1;

/** Progress of one copy as recorded so far. */
export class CopyJournal {
	readonly #storage: JournalStorage;
	readonly #plan: string;
	readonly #blocks = new Map<string, Set<number>>();
	readonly #created = new Set<string>();
	readonly #done = new Set<string>();
	readonly #groups = new Set<string>();
	#resumed = false;
	#queue: Promise<void> = Promise.resolve();

	private constructor(storage: JournalStorage, plan: string) {
		this.#storage = storage;
		this.#plan = plan;
	}

	/**
	 * Opens the journal of a plan. When the stored journal belongs to the same plan hash, its
	 * progress is loaded (`resumed` true); otherwise the journal is started afresh.
	 */
	static async open(
		storage: JournalStorage,
		planHash: string,
	): Promise<CopyJournal> {
		const journal = new CopyJournal(storage, planHash);
		const text = await storage.read();
		if (text !== null && journal.#load(text)) {
			journal.#resumed = true;
			// Rewrite when the tail was torn, so later appends start on a fresh line.
			if (!text.endsWith("\n")) await storage.reset(journal.#serialise());
		} else {
			journal.#clear();
			await storage.reset(
				`${JSON.stringify({ journal: VERSION, plan: planHash })}\n`,
			);
		}
		return journal;
	}

	/** The plan hash this journal belongs to. */
	get plan(): string {
		return this.#plan;
	}
	/** True when progress of an earlier run of the same plan was loaded. */
	get resumed(): boolean {
		return this.#resumed;
	}

	/** Blocks of `array` recorded as durable. */
	completed(array: string): ReadonlySet<number> {
		return this.#blocks.get(array) ?? new Set();
	}
	/** Whether `array` was created by an earlier run (so it is reopened, not recreated). */
	isCreated(array: string): boolean {
		return this.#created.has(array);
	}
	/** Whether every block and the attributes of `array` are durable. */
	isDone(array: string): boolean {
		return this.#done.has(array);
	}
	/** Whether `group` was created by an earlier run. */
	hasGroup(group: string): boolean {
		return this.#groups.has(group);
	}

	/**
	 * Records written blocks: `durable` when their flush reached the disk, otherwise valid
	 * only in this epoch (see the module comment).
	 */
	recordBlocks(
		array: string,
		blocks: readonly number[],
		durable = true,
	): Promise<void> {
		if (blocks.length === 0) return Promise.resolve();
		const set = this.#blocks.get(array) ?? new Set<number>();
		for (const b of blocks) set.add(b);
		this.#blocks.set(array, set);
		return this.#append({ array, blocks: [...blocks] }, durable);
	}
	/** Records that `array` exists in the target (`durable` as in {@link recordBlocks}). */
	recordCreated(array: string, durable = true): Promise<void> {
		this.#created.add(array);
		return this.#append({ array, created: true }, durable);
	}
	/** Records that `array` is complete (`durable` as in {@link recordBlocks}). */
	recordDone(array: string, durable = true): Promise<void> {
		this.#done.add(array);
		return this.#append({ array, done: true }, durable);
	}
	/** Records that `group` exists in the target (`durable` as in {@link recordBlocks}). */
	recordGroup(group: string, durable = true): Promise<void> {
		this.#groups.add(group);
		return this.#append({ group }, durable);
	}

	// --- internal ---

	#append(
		record: Readonly<Record<string, unknown>>,
		durable = true,
	): Promise<void> {
		const epoch = this.#storage.epoch;
		const light = !durable && epoch !== undefined;
		const line = `${JSON.stringify(light ? { ...record, epoch } : record)}\n`;
		// Serialised so lines never interleave.
		const next = this.#queue.then(() => this.#storage.append(line, !light));
		this.#queue = next.catch(() => {});
		return next;
	}

	// Loads a journal text; false when it belongs to another plan or is not a journal.
	#clear(): void {
		this.#blocks.clear();
		this.#created.clear();
		this.#done.clear();
		this.#groups.clear();
	}

	#load(text: string): boolean {
		const lines = text.split("\n");
		const complete = text.endsWith("\n") ? lines : lines.slice(0, -1);
		const header = parseLine(complete[0] ?? "");
		if (header?.journal !== VERSION || header.plan !== this.#plan) return false;
		for (const line of complete.slice(1)) {
			if (line === "") continue;
			const r = parseLine(line);
			// A corrupt line in the middle: trust nothing, start over.
			if (!r) return false;
			// Written without waiting for the disk before the machine restarted: not trusted.
			if (r.epoch !== undefined && r.epoch !== this.#storage.epoch) continue;
			if (typeof r.group === "string") this.#groups.add(r.group);
			if (typeof r.array !== "string") continue;
			if (r.created === true) this.#created.add(r.array);
			if (r.done === true) this.#done.add(r.array);
			if (Array.isArray(r.blocks)) {
				const set = this.#blocks.get(r.array) ?? new Set<number>();
				for (const b of r.blocks)
					if (Number.isSafeInteger(b) && (b as number) >= 0)
						set.add(b as number);
				this.#blocks.set(r.array, set);
			}
		}
		return true;
	}

	// The loaded state as a fresh text. Lines get the epoch when the storage has one: the
	// rewrite cannot tell durable lines from others, so it trusts none beyond this boot.
	#serialise(): string {
		const epoch = this.#storage.epoch;
		const line = (r: Record<string, unknown>) =>
			JSON.stringify(epoch === undefined ? r : { ...r, epoch });
		const lines = [JSON.stringify({ journal: VERSION, plan: this.#plan })];
		for (const g of this.#groups) lines.push(line({ group: g }));
		for (const a of this.#created)
			lines.push(line({ array: a, created: true }));
		for (const [a, set] of this.#blocks)
			lines.push(line({ array: a, blocks: [...set] }));
		for (const a of this.#done) lines.push(line({ array: a, done: true }));
		return `${lines.join("\n")}\n`;
	}
}

/** A journal kept in memory (tests, or copies that need no resume across processes). */
export function memoryJournalStorage(
	initial: string | null = null,
): JournalStorage & {
	readonly text: string | null;
} {
	let text = initial;
	return {
		get text() {
			return text;
		},
		async read() {
			return text;
		},
		async append(line: string) {
			text = (text ?? "") + line;
		},
		async reset(all: string) {
			text = all;
		},
	};
}

/**
 * SHA-256 (hex) of a plan description in a canonical JSON form (sorted keys, bigints as
 * strings), so equal plans hash equally across runs.
 */
export async function planHash(plan: unknown): Promise<string> {
	const text = canonicalJson(plan);
	const digest = await crypto.subtle.digest(
		"SHA-256",
		new TextEncoder().encode(text),
	);
	return hex(new Uint8Array(digest));
}

/** JSON with sorted object keys; bigints become decimal strings; undefined members dropped. */
export function canonicalJson(value: unknown): string {
	if (value === null || value === undefined) return "null";
	if (typeof value === "bigint") return JSON.stringify(value.toString());
	if (typeof value !== "object") return JSON.stringify(value) ?? "null";
	if (ArrayBuffer.isView(value))
		return JSON.stringify(
			hex(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)),
		);
	if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
	const entries = Object.entries(value as Record<string, unknown>)
		.filter(([, v]) => v !== undefined)
		.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
	return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** Lower-case hex of bytes. */
export function hex(bytes: Uint8Array): string {
	let s = "";
	for (const b of bytes) s += b.toString(16).padStart(2, "0");
	return s;
}

// --- internal ---

function parseLine(line: string): Record<string, unknown> | null {
	try {
		const v: unknown = JSON.parse(line);
		return typeof v === "object" && v !== null && !Array.isArray(v)
			? (v as Record<string, unknown>)
			: null;
	} catch {
		return null;
	}
}
