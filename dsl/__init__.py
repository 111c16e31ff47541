"""The funnel language: parse, resolve, type-check and check `.funnel` files."""
