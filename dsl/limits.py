"""Limits the language and the replay share: how large a number may be (docs/limits.md).

A number with at most NUMBER_DIGITS digits in its whole part is exact as a
float and in JSON, sums of millions of them stay finite, and Python's own
limits (int() of 4,300 digits, float() past 1e308) stay far away. The parser
refuses a larger literal (FNL005); the replay rejects a larger value in an
event.
"""
from __future__ import annotations

NUMBER_DIGITS = 15
NUMBER_LIMIT = 10 ** NUMBER_DIGITS        # exclusive: 999_999_999_999_999 is the largest whole number
