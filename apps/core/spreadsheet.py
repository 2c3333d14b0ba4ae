"""CSV cells a spreadsheet opens as text: exports carry what users typed (names, uploaded rows)."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_safe(value) -> str:
    """`value` as text, with a leading apostrophe where a spreadsheet would read a formula.

    Numbers are written as they are (a negative number is not text anyone typed)."""
    if isinstance(value, int | float):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text
