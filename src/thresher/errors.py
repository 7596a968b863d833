"""Errors a user sees. Each message says what was wrong and what to do."""

from __future__ import annotations


class ThresherError(Exception):
    """Base class of Thresher's own errors (the CLI prints them as one sentence, exit code 1)."""

    exit_code = 1


class UsageError(ThresherError):
    """The command or recipe is wrong (missing input path, bad recipe key...): exit code 2."""

    exit_code = 2


class RecipeError(UsageError):
    """A recipe file is invalid; the message names the key and its line in the file."""
