// Which source topics and groups a link copies: include/exclude regexes matched against the
// whole name, as MirrorMaker 2's topics/groups lists are. Internal topics are never copied.

/** A link's selection; each pattern must match a whole name. */
export interface LinkFilters {
  /** Topics to copy (default: every topic). */
  topics: string;
  /** Topics never to copy, even when `topics` matches (default: none). */
  exclude: string;
  /** Consumer groups whose offsets are synced (default: none). */
  groups: string;
}

export const DEFAULT_FILTERS: LinkFilters = { topics: ".*", exclude: "", groups: "" };

/** A filter pattern that does not compile, named by its field. */
export class FilterError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "FilterError";
    this.field = field;
  }
}

/** The compiled form of LinkFilters. */
export class TopicFilter {
  readonly filters: LinkFilters;
  readonly #topics: RegExp;
  readonly #exclude: RegExp | null;
  readonly #groups: RegExp | null;

  constructor(filters: Partial<LinkFilters> = {}) {
    this.filters = { ...DEFAULT_FILTERS, ...filters };
    this.#topics = compile("topics", this.filters.topics) ?? /^$/;
    this.#exclude = compile("exclude", this.filters.exclude);
    this.#groups = compile("groups", this.filters.groups);
  }

  /** Whether a source topic is copied. Internal topics (`__*`) never are. */
  matchesTopic(name: string): boolean {
    if (isInternalTopic(name)) return false;
    if (!this.#topics.test(name)) return false;
    return this.#exclude === null || !this.#exclude.test(name);
  }

  /** Whether a consumer group's offsets are synced. */
  matchesGroup(groupId: string): boolean {
    return this.#groups !== null && this.#groups.test(groupId);
  }
}

/** Kafka's internal topics and Ferry's own state topics start with two underscores. */
export function isInternalTopic(name: string): boolean {
  return name.startsWith("__");
}

function compile(field: string, pattern: string): RegExp | null {
  if (pattern === "") return null;
  try {
    return new RegExp(`^(?:${pattern})$`, "u");
  } catch (e) {
    throw new FilterError(field, `'${pattern}' is not a valid regular expression (${(e as Error).message})`);
  }
}
