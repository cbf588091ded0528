/**
 * A small JSON Schema checker for the subset the dashboard's OpenAPI document uses (type incl.
 * type arrays, properties, required, additionalProperties, items, enum, const, anyOf, minimum,
 * maximum, $ref into components.schemas). Written for the tests so that responses are checked
 * against the served document itself, not against the zod schemas it was made from.
 */
type Schema = Record<string, unknown>;

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function typeMatches(want: string, v: unknown): boolean {
  const got = typeOf(v);
  return want === got || (want === "number" && got === "integer");
}

/** Errors of `value` against `schema` (empty when valid); `doc` resolves `$ref`s. */
export function checkSchema(value: unknown, schema: Schema, doc: Schema, path = "$"): string[] {
  if (typeof schema["$ref"] === "string") {
    const name = (schema["$ref"] as string).replace("#/components/schemas/", "");
    const target = ((doc["components"] as Schema)["schemas"] as Record<string, Schema>)[name];
    if (!target) return [`${path}: unresolved $ref ${schema["$ref"]}`];
    return checkSchema(value, target, doc, path);
  }
  const errors: string[] = [];
  if (schema["anyOf"]) {
    const ok = (schema["anyOf"] as Schema[]).some((s) => checkSchema(value, s, doc, path).length === 0);
    if (!ok) errors.push(`${path}: matches none of anyOf`);
    return errors;
  }
  if ("const" in schema && value !== schema["const"]) errors.push(`${path}: expected ${JSON.stringify(schema["const"])}`);
  if (schema["enum"] && !(schema["enum"] as unknown[]).includes(value)) errors.push(`${path}: ${JSON.stringify(value)} not in enum`);
  const t = schema["type"];
  if (t !== undefined) {
    const types = Array.isArray(t) ? (t as string[]) : [t as string];
    if (!types.some((x) => typeMatches(x, value))) return [...errors, `${path}: expected ${types.join("|")}, got ${typeOf(value)}`];
  }
  if (typeof value === "number") {
    if (typeof schema["minimum"] === "number" && value < (schema["minimum"] as number)) errors.push(`${path}: below minimum`);
    if (typeof schema["maximum"] === "number" && value > (schema["maximum"] as number)) errors.push(`${path}: above maximum`);
  }
  if (Array.isArray(value) && schema["items"]) {
    value.forEach((v, i) => errors.push(...checkSchema(v, schema["items"] as Schema, doc, `${path}[${i}]`)));
  }
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    const props = (schema["properties"] ?? {}) as Record<string, Schema>;
    for (const r of (schema["required"] ?? []) as string[]) if (!(r in obj)) errors.push(`${path}.${r}: required`);
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) errors.push(...checkSchema(v, props[k]!, doc, `${path}.${k}`));
      else if (schema["additionalProperties"] === false) errors.push(`${path}.${k}: not in the schema`);
      else if (typeof schema["additionalProperties"] === "object") errors.push(...checkSchema(v, schema["additionalProperties"] as Schema, doc, `${path}.${k}`));
    }
  }
  return errors;
}

/**
 * Checks a response against the document's operation at `path` (OpenAPI template, e.g.
 * `/api/meters/{id}/statistics`), `method` and `status`. Returns the errors.
 */
export function checkResponse(doc: Schema, path: string, method: string, status: number, body: unknown): string[] {
  const op = ((doc["paths"] as Record<string, Schema>)[path]?.[method] ?? null) as Schema | null;
  if (!op) return [`no operation ${method} ${path} in the document`];
  const resp = (op["responses"] as Record<string, Schema>)[String(status)];
  if (!resp) return [`${method} ${path}: status ${status} is not documented`];
  const schema = ((resp["content"] as Record<string, Schema>)["application/json"] ?? {})["schema"] as Schema | undefined;
  if (!schema) return [`${method} ${path} ${status}: no JSON schema`];
  return checkSchema(body, schema, doc);
}
