#!/usr/bin/env python3
# json-schema-check.py: checks a JSON document against one of the schemas in
# docs/schemas/ (the subset of JSON Schema 2020-12 they use: type, enum,
# const, pattern, required, properties, additionalProperties, items,
# minItems, minimum, uniqueItemsBy (ours: no two items share that member),
# oneOf, $ref to "#/$defs/..." or "FILE.json#/$defs/..." next to the schema).
# Usage: json-schema-check.py SCHEMA.json DOCUMENT.json ("-": stdin).
# Prints one line per violation (path: what was expected) and exits 1; 0 when valid.
import json
import os
import re
import sys

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class Checker:
    def __init__(self, schema_path):
        self.dir = os.path.dirname(os.path.abspath(schema_path))
        self.files = {}
        self.root = self.load(os.path.basename(schema_path))

    def load(self, name):
        if name not in self.files:
            with open(os.path.join(self.dir, name), encoding="utf-8") as f:
                self.files[name] = json.load(f)
        return self.files[name]

    def resolve(self, ref, current):
        name, _, frag = ref.partition("#")
        doc = self.load(name) if name else current
        node = doc
        for part in [p for p in frag.split("/") if p]:
            node = node[part]
        return node, doc

    def check(self, schema, value, path, doc, errors):
        if "$ref" in schema:
            target, tdoc = self.resolve(schema["$ref"], doc)
            self.check(target, value, path, tdoc, errors)
        t = schema.get("type")
        if t is not None:
            kinds = t if isinstance(t, list) else [t]
            if not any(TYPES[k](value) for k in kinds):
                errors.append("%s: expected %s, got %s" % (path, " or ".join(kinds), json.dumps(value)[:80]))
                return
        if "const" in schema and value != schema["const"]:
            errors.append("%s: expected %s" % (path, json.dumps(schema["const"])))
        if "enum" in schema and value not in schema["enum"]:
            errors.append("%s: %s is not one of %s" % (path, json.dumps(value), schema["enum"]))
        if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
            errors.append("%s: %s does not match %s" % (path, json.dumps(value), schema["pattern"]))
        if "minimum" in schema and isinstance(value, (int, float)) and value < schema["minimum"]:
            errors.append("%s: %s is below %s" % (path, value, schema["minimum"]))
        if "oneOf" in schema:
            matches = 0
            for sub in schema["oneOf"]:
                e = []
                self.check(sub, value, path, doc, e)
                matches += not e
            if matches != 1:
                errors.append("%s: matches %d of the oneOf choices, expected exactly 1" % (path, matches))
        if isinstance(value, dict):
            for name in schema.get("required", []):
                if name not in value:
                    errors.append("%s: member \"%s\" is missing" % (path, name))
            props = schema.get("properties", {})
            for name, v in value.items():
                if name in props:
                    self.check(props[name], v, "%s.%s" % (path, name), doc, errors)
                elif schema.get("additionalProperties") is False:
                    errors.append("%s: member \"%s\" is not in the schema" % (path, name))
                elif isinstance(schema.get("additionalProperties"), dict):
                    self.check(schema["additionalProperties"], v, "%s.%s" % (path, name), doc, errors)
        if isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                errors.append("%s: %d items, expected at least %d" % (path, len(value), schema["minItems"]))
            if "items" in schema:
                for i, v in enumerate(value):
                    self.check(schema["items"], v, "%s[%d]" % (path, i), doc, errors)
            key = schema.get("uniqueItemsBy")
            if key is not None:
                seen = set()
                for i, v in enumerate(value):
                    k = v.get(key) if isinstance(v, dict) else None
                    if k in seen:
                        errors.append("%s[%d]: %s %s listed twice" % (path, i, key, json.dumps(k)))
                    seen.add(k)


def main(argv):
    if len(argv) != 3:
        print("usage: json-schema-check.py SCHEMA.json DOCUMENT.json", file=sys.stderr)
        return 2
    checker = Checker(argv[1])
    try:
        if argv[2] == "-":
            doc = json.load(sys.stdin)
        else:
            with open(argv[2], encoding="utf-8") as f:
                doc = json.load(f)
    except ValueError as e:
        print("%s: not JSON: %s" % (argv[2], e))
        return 1
    errors = []
    checker.check(checker.root, doc, "$", checker.root, errors)
    for e in errors:
        print("%s: %s" % (os.path.basename(argv[1]), e))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
