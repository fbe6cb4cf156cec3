"""Checks recipes llmc wrote (Recipe::to_yaml) against llm-compressor, one run for many.

usage: _check_recipe_yaml.py MANIFEST.json
MANIFEST: [{"yaml": path, "dict": what the YAML must hold, "stage": ...,
            "modifiers": [{"type": ..., "group": ..., "args": {...}}, ...]}, ...]
Each YAML must load with yaml.safe_load to exactly "dict", and Recipe.create_instance(path)
must give the stage and, in order, modifiers whose model_dump equals that of the modifier built
directly from the listed type, group and args.
"""
import json
import sys

import yaml
from _recipe_common import Recipe, create, to_json


def check(entry):
    errors = []
    with open(entry["yaml"]) as f:
        loaded = yaml.safe_load(f)
    if loaded != entry["dict"]:
        errors.append(f"yaml.safe_load gives {loaded!r}, expected {entry['dict']!r}")
    recipe = Recipe.create_instance(entry["yaml"])
    if recipe.stage != entry["stage"]:
        errors.append(f"stage {recipe.stage!r}, expected {entry['stage']!r}")
    got = [(type(m).__name__, m.group) for m in recipe.modifiers]
    want = [(m["type"], m["group"]) for m in entry["modifiers"]]
    if got != want:
        errors.append(f"modifiers {got}, expected {want}")
    else:
        for mod, spec in zip(recipe.modifiers, entry["modifiers"]):
            expected = create(spec["type"], spec["group"], spec["args"]).model_dump()
            if to_json(mod.model_dump()) != to_json(expected):
                errors.append(f"{spec['type']}: {mod.model_dump()} != {expected}")
    return errors


def main():
    with open(sys.argv[1]) as f:
        manifest = json.load(f)
    failed = False
    for entry in manifest:
        for error in check(entry):
            failed = True
            print(f"{entry['yaml']}: {error}", file=sys.stderr)
    print(f"checked {len(manifest)} recipes: {'FAILED' if failed else 'ok'}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
