// Kafka's topic name rules: 1-249 characters from [a-zA-Z0-9._-], and not "." or "..".

const LEGAL = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME_LENGTH = 249;

/** Why a topic name is invalid, or null when it is fine. */
export function invalidTopicName(name: string): string | null {
  if (name.length === 0) return "topic name is empty";
  if (name === "." || name === "..") return `topic name cannot be "${name}"`;
  if (name.length > MAX_TOPIC_NAME_LENGTH)
    return `topic name is longer than ${MAX_TOPIC_NAME_LENGTH} characters`;
  if (!LEGAL.test(name))
    return `topic name "${name}" contains characters other than ASCII letters, digits, '.', '_' and '-'`;
  return null;
}

/** Kafka treats '.' and '_' as colliding in metric names; two such names cannot coexist. */
export function collisionKey(name: string): string {
  return name.replaceAll(".", "_");
}
