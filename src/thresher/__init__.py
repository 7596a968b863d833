"""Thresher: turn raw web crawls into clean, deduplicated, quality-filtered training text."""

from thresher.api import run
from thresher.document import Document, Drop
from thresher.recipe import Recipe, load_recipe, parse_recipe

__all__ = ["Document", "Drop", "Recipe", "load_recipe", "parse_recipe", "run"]
__version__ = "0.1.0"
