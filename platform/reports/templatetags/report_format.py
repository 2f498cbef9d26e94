"""Number formatting for report pages: percentages, signed differences, counts, parameters."""

from django import template

register = template.Library()

DASH = "\u2014"


def _number(value) -> float | None:
    """The value as a float, or None when it is missing, blank or not a number (shown as a dash)."""
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


@register.filter
def pct(value, digits: int = 1):
    """0.9321 -> "93.2"; None -> an em dash (the ratio is undefined)."""
    value = _number(value)
    return DASH if value is None else f"{100 * value:.{int(digits)}f}"


@register.filter
def dpct(value):
    """Signed difference in percentage points: 0.012 -> "+1.2"; None -> dash."""
    value = _number(value)
    if value is None:
        return DASH
    v = 100 * value
    return f"{v:+.1f}" if abs(v) >= 0.05 else "0.0"


@register.filter
def dclass(value):
    """CSS class of a difference: better / worse / same."""
    value = _number(value)
    if value is None or abs(value) < 0.0005:
        return "same"
    return "better" if value > 0 else "worse"


@register.filter
def params(value):
    """20720 -> "20.72K"."""
    value = _number(value)
    if not value:
        return DASH
    return f"{value / 1000:.2f}K" if value >= 1000 else str(int(value))


@register.filter
def num(value):
    value = _number(value)
    return DASH if value is None else f"{int(value):,}"


@register.filter
def index(seq, i):
    try:
        return seq[int(i)]
    except (IndexError, TypeError, ValueError, KeyError):
        return None
