"""Shared by recipe.py and _check_recipe_yaml.py: load llm-compressor's Recipe quietly and view
modifiers the way the C++ side holds them."""
import json

from llmcompressor.modifiers import ModifierFactory
from llmcompressor.recipe import Recipe
from loguru import logger

logger.remove()  # upstream logs every recipe load at INFO; llmcompressor's import adds the sink


def to_json(value):
    """Round-trip through JSON so enums and tuples compare as the C++ side sees them."""
    return json.loads(json.dumps(value, default=str))


def restrict(dump, written):
    """The part of a pydantic dump the recipe author wrote (defaults filled by pydantic left
    out), recursively through mappings."""
    if isinstance(written, dict) and isinstance(dump, dict):
        return {k: restrict(dump.get(k), v) for k, v in written.items()}
    return dump


def create(type_, group, args):
    if not ModifierFactory._loaded:
        ModifierFactory.refresh()
    return ModifierFactory.create(
        type_, allow_registered=True, allow_experimental=True, group=group, **args
    )
