"""Number formatting for report pages: percentages, signed differences, counts, parameters."""

from django import template

register = template.Library()

DASH = "\u2014"


@register.filter
def pct(value, digits: int = 1):
    """0.9321 -> "93.2"; None -> an em dash (the ratio is undefined)."""
    if value is None or value == "":
        return DASH
    return f"{100 * float(value):.{int(digits)}f}"


@register.filter
def dpct(value):
    """Signed difference in percentage points: 0.012 -> "+1.2"; None -> dash."""
    if value is None:
        return DASH
    v = 100 * float(value)
    return f"{v:+.1f}" if abs(v) >= 0.05 else "0.0"


@register.filter
def dclass(value):
    """CSS class of a difference: better / worse / same."""
    if value is None or abs(float(value)) < 0.0005:
        return "same"
    return "better" if value > 0 else "worse"


@register.filter
def params(value):
    """20720 -> "20.72K"."""
    if not value:
        return DASH
    return f"{int(value) / 1000:.2f}K" if int(value) >= 1000 else str(int(value))


@register.filter
def num(value):
    if value is None:
        return DASH
    return f"{int(value):,}"


@register.filter
def index(seq, i):
    try:
        return seq[int(i)]
    except (IndexError, TypeError, ValueError, KeyError):
        return None
