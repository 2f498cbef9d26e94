"""Annotation files in and out: lab, csv, json, audacity, jams, textgrid, rttm.

`detector.formats` (issue 3) is the intended home of these readers and writers; until it exists in
the tree this module carries the same formats so the editor can export and import. Every reader
returns a full partition of [0, duration] (vocal intervals from the file, non-vocal elsewhere) and
raises detector.errors.FormatError with a message naming the bad line or value.
"""

from __future__ import annotations

import csv
import io
import json
import re

from detector.errors import FormatError
from detector.labels import NON_VOCAL, VOCAL, Segment, intervals_to_segments, merge_adjacent

FORMATS = ("lab", "csv", "json", "audacity", "jams", "textgrid", "rttm")
EXTENSIONS = {"lab": "lab", "csv": "csv", "json": "json", "audacity": "txt", "jams": "jams", "textgrid": "TextGrid", "rttm": "rttm"}
CONTENT_TYPES = {
    "lab": "text/plain", "csv": "text/csv", "json": "application/json", "audacity": "text/plain",
    "jams": "application/json", "textgrid": "text/plain", "rttm": "text/plain",
}
# File extension -> format, for imports without an explicit format.
BY_EXTENSION = {"lab": "lab", "csv": "csv", "json": "json", "txt": "audacity", "jams": "jams", "textgrid": "textgrid", "rttm": "rttm"}

VOCAL_WORDS = {"sing", "vocal", "vocals", "voice", "singing", "v", "1", "true", "yes", "on"}
NON_VOCAL_WORDS = {"nosing", "no-sing", "non-vocal", "nonvocal", "non_vocal", "instrumental", "silence", "nv", "0",
                   "false", "no", "off", "", "music"}


def format_for(*, filename: str, fmt: str | None) -> str:
    """The format named explicitly, or the one the file name's extension implies; FormatError otherwise."""
    if fmt:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise FormatError(f"unknown annotation format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in BY_EXTENSION:
        raise FormatError(
            f"cannot tell the format of {filename!r} from its extension; name it .lab, .csv, .json, .txt (Audacity), "
            ".jams, .TextGrid or .rttm, or send a 'format' field"
        )
    return BY_EXTENSION[ext]


def _is_vocal(word: str, *, where: str) -> bool:
    w = word.strip().lower()
    if w in VOCAL_WORDS:
        return True
    if w in NON_VOCAL_WORDS:
        return False
    raise FormatError(f"{where}: label {word!r} is neither vocal (sing, vocal) nor non-vocal (nosing, non-vocal)")


def _num(text: str, *, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FormatError(f"{where}: {text!r} is not a number of seconds") from None
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        raise FormatError(f"{where}: {text!r} is not a valid time in seconds")
    return value


# ----------------------------------------------------------------------------------- writers
def write(*, segments: list[Segment], fmt: str, duration: float, title: str = "") -> str:
    """The text of an annotation file of `segments` in format `fmt`."""
    segments = merge_adjacent(segments)
    if fmt == "lab":
        return "".join(f"{s.start:.3f}\t{s.end:.3f}\tsing\n" for s in segments if s.is_vocal)
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["start", "end", "label"])
        for s in segments:
            w.writerow([f"{s.start:.3f}", f"{s.end:.3f}", s.label])
        return out.getvalue()
    if fmt == "json":
        return json.dumps({"duration": duration, "segments": [s.to_dict() for s in segments]}, indent=1) + "\n"
    if fmt == "audacity":
        return "".join(f"{s.start:.6f}\t{s.end:.6f}\t{s.label}\n" for s in segments)
    if fmt == "jams":
        data = [{"time": s.start, "duration": round(s.end - s.start, 6), "value": s.label, "confidence": None}
                for s in segments]
        doc = {
            "file_metadata": {"title": title, "artist": "", "release": "", "duration": duration, "identifiers": {},
                              "jams_version": "0.3.4"},
            "annotations": [{"namespace": "tag_open", "annotation_metadata": {"annotator": {}, "data_source": "singscope",
                             "annotation_tools": "singscope", "corpus": "", "version": "", "curator": {},
                             "annotation_rules": "vocal / non-vocal partition", "validation": ""},
                             "data": data, "sandbox": {}, "time": 0, "duration": duration}],
            "sandbox": {},
        }
        return json.dumps(doc, indent=1) + "\n"
    if fmt == "textgrid":
        lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0", f"xmax = {duration}",
                 "tiers? <exists>", "size = 1", "item []:", "    item [1]:", '        class = "IntervalTier"',
                 '        name = "vocal"', "        xmin = 0", f"        xmax = {duration}",
                 f"        intervals: size = {len(segments)}"]
        for k, s in enumerate(segments, 1):
            lines += [f"        intervals [{k}]:", f"            xmin = {s.start}", f"            xmax = {s.end}",
                      f'            text = "{s.label}"']
        return "\n".join(lines) + "\n"
    if fmt == "rttm":
        name = re.sub(r"\s+", "_", title.strip()) or "song"
        return "".join(f"SPEAKER {name} 1 {s.start:.3f} {s.end - s.start:.3f} <NA> <NA> vocal <NA> <NA>\n"
                       for s in segments if s.is_vocal)
    raise FormatError(f"unknown annotation format {fmt!r}; use one of {', '.join(FORMATS)}")


# ----------------------------------------------------------------------------------- readers
def read(*, text: str, fmt: str, duration: float) -> list[Segment]:
    """A full partition of [0, duration] from the text of an annotation file in format `fmt`."""
    intervals = _READERS[fmt](text)
    for start, end in intervals:
        if end < start:
            raise FormatError(f"interval [{start:.3f}, {end:.3f}] ends before it starts")
        if start > duration + 0.05:
            raise FormatError(f"interval [{start:.3f}, {end:.3f}] starts after the song ends ({duration:.3f} s)")
    segments = intervals_to_segments(intervals, duration=duration)
    if not segments:
        raise FormatError("the file describes an empty song")
    return segments


def _read_columns(text: str, *, sep: str | None, name: str) -> list[tuple[float, float]]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.strip().split(sep) if sep else line.split()
        if name == "audacity" and parts[0].strip() == "\\":  # spectral selection line of Audacity
            continue
        if len(parts) < 2:
            raise FormatError(f"{name} line {n}: expected 'start end label', got {line.strip()!r}")
        where = f"{name} line {n}"
        start, end = _num(parts[0], where=where), _num(parts[1], where=where)
        label = parts[2] if len(parts) > 2 else "sing"
        if _is_vocal(label, where=where):
            out.append((start, end))
    return out


def _read_csv(text: str) -> list[tuple[float, float]]:
    rows = list(csv.reader(io.StringIO(text)))
    out = []
    for n, row in enumerate(rows, 1):
        if not row or not "".join(row).strip():
            continue
        if n == 1 and row[0].strip().lower() in ("start", "onset", "begin"):
            continue
        if len(row) < 3:
            raise FormatError(f"csv line {n}: expected start,end,label, got {','.join(row)!r}")
        where = f"csv line {n}"
        start, end = _num(row[0], where=where), _num(row[1], where=where)
        if _is_vocal(row[2], where=where):
            out.append((start, end))
    return out


def _load_json(text: str, name: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def _read_json(text: str) -> list[tuple[float, float]]:
    doc = _load_json(text, "json")
    items = doc.get("segments") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise FormatError("json: expected {\"segments\": [{start, end, label}, ...]} or a list of segments")
    out = []
    for k, item in enumerate(items):
        if not isinstance(item, dict) or "start" not in item or "end" not in item:
            raise FormatError(f"json segment {k}: expected an object with start, end and label, got {item!r}")
        where = f"json segment {k}"
        start, end = _num(str(item["start"]), where=where), _num(str(item["end"]), where=where)
        if _is_vocal(str(item.get("label", "vocal")), where=where):
            out.append((start, end))
    return out


def _read_jams(text: str) -> list[tuple[float, float]]:
    doc = _load_json(text, "jams")
    annotations = doc.get("annotations") if isinstance(doc, dict) else None
    if not annotations or not isinstance(annotations, list) or not isinstance(annotations[0], dict):
        raise FormatError("jams: the file has no annotations")
    out = []
    for k, obs in enumerate(annotations[0].get("data") or []):
        where = f"jams observation {k}"
        if not isinstance(obs, dict):
            raise FormatError(f"{where}: expected an object with time, duration and value")
        start, dur = _num(str(obs.get("time")), where=where), _num(str(obs.get("duration")), where=where)
        value = obs.get("value")
        vocal = value if isinstance(value, bool) else _is_vocal(str(value), where=where)
        if vocal:
            out.append((start, start + dur))
    return out


_TG_INTERVAL = re.compile(r"xmin\s*=\s*([-\d.eE+]+)\s*xmax\s*=\s*([-\d.eE+]+)\s*text\s*=\s*\"((?:[^\"]|\"\")*)\"", re.S)


def _read_textgrid(text: str) -> list[tuple[float, float]]:
    if "IntervalTier" not in text:
        raise FormatError("textgrid: no IntervalTier found")
    body = text.split("IntervalTier", 1)[1]
    nxt = body.find("IntervalTier")
    body = body if nxt < 0 else body[:nxt]  # the first interval tier only
    matches = _TG_INTERVAL.findall(body)
    if not matches:
        raise FormatError("textgrid: the first interval tier has no intervals")
    out = []
    for k, (a, b, label) in enumerate(matches, 1):
        where = f"textgrid interval {k}"
        if _is_vocal(label, where=where):
            out.append((_num(a, where=where), _num(b, where=where)))
    return out


def _read_rttm(text: str) -> list[tuple[float, float]]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) < 5 or parts[0] != "SPEAKER":
            raise FormatError(f"rttm line {n}: expected 'SPEAKER file chan start dur ...', got {line.strip()!r}")
        where = f"rttm line {n}"
        start, dur = _num(parts[3], where=where), _num(parts[4], where=where)
        out.append((start, start + dur))
    return out


_READERS = {
    "lab": lambda t: _read_columns(t, sep=None, name="lab"),
    "audacity": lambda t: _read_columns(t, sep="\t", name="audacity"),
    "csv": _read_csv, "json": _read_json, "jams": _read_jams, "textgrid": _read_textgrid, "rttm": _read_rttm,
}

# Prefer the detector's own readers and writers once they are in the tree (one implementation for
# the CLI and the web); the ones above are the fallback.
try:  # pragma: no cover - depends on which detector version is installed
    from detector import formats as _detector_formats
except ImportError:  # pragma: no cover
    _detector_formats = None

if _detector_formats is not None and hasattr(_detector_formats, "read_segments"):
    _own_read, _own_write = read, write

    def write(*, segments: list[Segment], fmt: str, duration: float, title: str = "") -> str:  # noqa: F811
        return _detector_formats.write_segments(merge_adjacent(segments), fmt, duration=duration, title=title)

    def read(*, text: str, fmt: str, duration: float) -> list[Segment]:  # noqa: F811
        # bytes, never str: detector.formats treats a one-line str naming a file as a path to read
        return _detector_formats.read_segments(text.encode("utf-8"), fmt, duration=duration)


__all__ = ["FORMATS", "EXTENSIONS", "CONTENT_TYPES", "format_for", "read", "write", "VOCAL", "NON_VOCAL"]
