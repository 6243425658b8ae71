/**
 * Serializes `value` as Python's `json.dumps` does with its defaults, which
 * is how Nova writes its bodies: `", "` and `": "` as separators, and every
 * character outside ASCII as a `\uXXXX` escape (a character outside the
 * BMP as its two UTF-16 surrogates). Object keys keep their order.
 */
export function pythonJson(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return asciiString(value);
  if (Array.isArray(value)) {
    return `[${value.map((item) => pythonJson(item ?? null)).join(", ")}]`;
  }
  if (typeof value === "object") {
    const members = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .map(([key, member]) => `${asciiString(key)}: ${pythonJson(member)}`);
    return `{${members.join(", ")}}`;
  }
  return JSON.stringify(value);
}

function asciiString(text: string): string {
  return JSON.stringify(text).replace(
    /[\u0080-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
