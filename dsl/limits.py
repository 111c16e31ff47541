"""Limits the language and the replay share: how large a number may be, how deep JSON may nest (docs/limits.md).

A number with at most NUMBER_DIGITS digits in its whole part is exact as a
float and in JSON, sums of millions of them stay finite, and Python's own
limits (int() of 4,300 digits, float() past 1e308) stay far away. The parser
refuses a larger literal (FNL005); the replay rejects a larger value in an
event.
"""
from __future__ import annotations

import json

NUMBER_DIGITS = 15
NUMBER_LIMIT = 10 ** NUMBER_DIGITS        # exclusive: 999_999_999_999_999 is the largest whole number

# How deep an expression may nest (FNL307). The checks, fmt and export walk expressions recursively,
# and the replay's generated Python opens up to two parentheses a level, where CPython stops at 200.
MAX_EXPRESSION_DEPTH = 64

# JSON inputs (event lines given as values, results files, journeys, baselines) hold flat records; a
# value nested deeper than this is refused before anything walks it with recursion (a message quoting
# it, jsonschema, Python's own repr).
MAX_NESTING = 64


class TooDeep(ValueError):
    """A JSON input nested deeper than the decoder or MAX_NESTING allow."""


def nesting_exceeds(value, limit: int = MAX_NESTING) -> bool:
    """Whether lists and objects in `value` nest deeper than `limit`; iterative, so any depth is safe."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is dict:
            children = item.values()
        elif kind is list or kind is tuple:
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def json_document(text: str | bytes):
    """`json.loads(text)`; raises TooDeep, not RecursionError, for lists or objects nested too deeply.

    The decoder gives up near Python's recursion limit (1,000); below it,
    MAX_NESTING keeps the value safe for code that walks it."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeep(f"lists or objects nested more than {MAX_NESTING} levels deep") from None
    if nesting_exceeds(value):
        raise TooDeep(f"lists or objects nested more than {MAX_NESTING} levels deep")
    return value
