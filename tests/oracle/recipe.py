"""Oracle: what llm-compressor's Recipe.create_instance makes of stage-form recipes (LC §2.2).

Each case holds the recipe text, and per modifier: class name, group, the kwargs as PyYAML's
safe_load reads them ("args_raw", walking the dict as Recipe.from_dict does), and, for recipes
upstream can instantiate, the modifier's model_dump restricted to the keys the recipe wrote
("args_upstream": what pydantic made of them).
"""
import json

import yaml
from _common import OracleWriter
from _recipe_common import Recipe, restrict, to_json

W4A16_GROUP = """
      config_groups:
        group_0:
          targets: [Linear]
          weights: {num_bits: 4, type: int, symmetric: true, strategy: group,
                    group_size: 128, observer: imatrix_mse}
      ignore: [lm_head]
"""

TWO_STAGES = """
version: 1.0
args: {damp: 0.01, note: kept but unused}
first_stage:
  junk_modifiers: [ignored, because, a, list]
  gptq_modifiers:
    GPTQModifier:
      scheme: W4A16
      targets: [Linear]
      ignore: [lm_head]
      dampening_frac: 1e-2
      block_size: 64
      actorder: static
  notes: ignored too
second_stage:
  rtn_modifiers:
    QuantizationModifier:
      scheme: W8A16
      targets: [Linear]
"""

CASES = [
    ("single", """
quant_stage:
  quant_modifiers:
    QuantizationModifier:
      scheme: W4A16
      targets: [Linear]
      ignore: [lm_head]
""", None, True),
    ("config_groups", "quant_stage:\n  quant_modifiers:\n    QuantizationModifier:" + W4A16_GROUP,
     None, True),
    ("two_stages", TWO_STAGES, None, True),
    ("target_stage_second", TWO_STAGES, "second", True),
    ("target_stage_full_key", TWO_STAGES, "first_stage", True),
    ("groups_in_order", """
only_stage:
  b_modifiers:
    GPTQModifier: {scheme: W4A16, targets: [Linear]}
  a_modifiers:
    QuantizationModifier: {scheme: FP8_DYNAMIC, targets: [Linear], ignore: [lm_head]}
""", None, True),
    ("replace_everywhere", """
a_stage_b_stage:
  x_modifiers_y_modifiers:
    QuantizationModifier: {scheme: W4A16}
""", None, True),
    ("json_text", json.dumps({"json_stage": {"j_modifiers": {
        "QuantizationModifier": {"scheme": "W4A16", "targets": ["Linear"], "ignore": ["lm_head"]},
        "GPTQModifier": {"targets": ["Linear"], "scheme": "W8A8", "block_size": 32}}}}),
     None, True),
    # PyYAML's YAML 1.1 scalars, read without instantiating (ScalarProbe does not exist).
    ("yaml_scalars", """
probe_stage:
  probe_modifiers:
    ScalarProbe:
      yes_: yes
      no_: No
      on_: ON
      off_: off
      true_: True
      null_: ~
      null2: null
      empty:
      hex: 0x1F
      octal: 017
      binary: 0b101
      underscores: 1_000
      negative: -5
      positive: +7
      float_: 3.5
      leading_dot: .5
      exponent: 1.5e+3
      quoted_int: "4"
      single_quoted: 'yes'
      text: plain text
      regex: re:.*q_proj
      list: [1, two, 3.0, null]
      nested: {a: {b: [x, y]}}
""", None, False),
]


def raw_modifiers(recipe_dict):
    """Recipe.from_dict's walk, without the factory."""
    out = []
    for stage_key, stage_val in recipe_dict.items():
        if stage_key.endswith("_stage") and isinstance(stage_val, dict):
            for group_key, group_val in stage_val.items():
                if group_key.endswith("_modifiers") and isinstance(group_val, dict):
                    group = group_key.replace("_modifiers", "")
                    for mod_type, mod_args in group_val.items():
                        out.append({"type": mod_type, "group": group, "args_raw": mod_args})
    return out


def main():
    writer = OracleWriter("recipe")
    for cid, text, target_stage, instantiate in CASES:
        raw = yaml.safe_load(text)
        if target_stage:
            raw = {k: v for k, v in raw.items() if k.startswith(target_stage)}
        case = {"id": cid, "text": text, "target_stage": target_stage or "",
                "args": to_json(raw.get("args", {})), "modifiers": raw_modifiers(raw)}
        if instantiate:
            recipe = Recipe.create_instance(text, target_stage=target_stage)
            case["stage"] = recipe.stage
            assert len(recipe.modifiers) == len(case["modifiers"])
            for spec, mod in zip(case["modifiers"], recipe.modifiers):
                assert type(mod).__name__ == spec["type"] and mod.group == spec["group"]
                spec["args_upstream"] = to_json(restrict(mod.model_dump(), spec["args_raw"]))
        for spec in case["modifiers"]:
            spec["args_raw"] = to_json(spec["args_raw"])
        writer.add(case)
    writer.write()


if __name__ == "__main__":
    main()
