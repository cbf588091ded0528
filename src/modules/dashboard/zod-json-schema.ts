/**
 * A small zod 3 → JSON Schema (OpenAPI 3.1 dialect) converter for the dashboard's OpenAPI
 * document: objects (strict: `additionalProperties: false`), strings (+ enum, literal), numbers
 * (+ int), booleans, arrays, nullable (`type: [t, "null"]` or `anyOf` with null), optional (not
 * required), unions, records, descriptions. Anything else throws, so the document never claims
 * less than the schema checks.
 */
import { z, type ZodTypeAny } from "zod";

/** A JSON Schema node. */
export type JsonSchema = Record<string, unknown>;

/** See the file comment. */
export function toJsonSchema(schema: ZodTypeAny): JsonSchema {
  const out = convert(schema);
  if (schema.description) out["description"] = schema.description;
  return out;
}

function nullable(inner: JsonSchema): JsonSchema {
  if (typeof inner["type"] === "string" && !("enum" in inner) && !("const" in inner)) return { ...inner, type: [inner["type"], "null"] };
  return { anyOf: [inner, { type: "null" }] };
}

function convert(s: ZodTypeAny): JsonSchema {
  const def = s._def as { typeName: string };
  switch (def.typeName) {
    case "ZodString":
      return { type: "string" };
    case "ZodNumber": {
      const checks = (s as z.ZodNumber)._def.checks;
      const out: JsonSchema = { type: checks.some((c) => c.kind === "int") ? "integer" : "number" };
      for (const c of checks) {
        if (c.kind === "min") out[c.inclusive ? "minimum" : "exclusiveMinimum"] = c.value;
        if (c.kind === "max") out[c.inclusive ? "maximum" : "exclusiveMaximum"] = c.value;
      }
      return out;
    }
    case "ZodBoolean":
      return { type: "boolean" };
    case "ZodEnum":
      return { type: "string", enum: [...(s as z.ZodEnum<[string, ...string[]]>).options] };
    case "ZodLiteral":
      return { const: (s as z.ZodLiteral<unknown>).value };
    case "ZodNullable":
      return nullable(toJsonSchema((s as z.ZodNullable<ZodTypeAny>).unwrap()));
    case "ZodOptional":
      return toJsonSchema((s as z.ZodOptional<ZodTypeAny>).unwrap());
    case "ZodDefault":
      return toJsonSchema((s as z.ZodDefault<ZodTypeAny>)._def.innerType);
    case "ZodArray":
      return { type: "array", items: toJsonSchema((s as z.ZodArray<ZodTypeAny>).element) };
    case "ZodUnion":
      return { anyOf: (s as z.ZodUnion<[ZodTypeAny, ...ZodTypeAny[]]>).options.map(toJsonSchema) };
    case "ZodRecord":
      return { type: "object", additionalProperties: toJsonSchema((s as z.ZodRecord).valueSchema) };
    case "ZodObject": {
      const shape = (s as z.AnyZodObject).shape as Record<string, ZodTypeAny>;
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const [k, v] of Object.entries(shape)) {
        properties[k] = toJsonSchema(v);
        if (!v.isOptional()) required.push(k);
      }
      return { type: "object", properties, required, additionalProperties: false };
    }
    default:
      throw new Error(`toJsonSchema: ${def.typeName} is not supported`);
  }
}
