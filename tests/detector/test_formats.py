"""detector.formats: every segment file format round-trips; garbage fails with its line number."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.errors import FormatError
from detector.formats import EXTENSIONS, FORMATS, format_from_path, read_segments, write_file, write_segments
from detector.labels import NON_VOCAL, VOCAL, Segment, frames_to_segments, validate_partition

SONG = [Segment(0.0, 3.39, NON_VOCAL), Segment(3.39, 4.0, VOCAL), Segment(4.0, 10.5, NON_VOCAL),
        Segment(10.5, 12.3456, VOCAL)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_round_trips_a_song(fmt):
    text = write_segments(SONG, fmt, duration=12.3456, title="A song")
    assert read_segments(text, fmt, duration=12.3456) == SONG


@settings(max_examples=40, deadline=None)
@given(mask=st.lists(st.booleans(), min_size=1, max_size=400), extra=st.floats(0.0, 0.0099),
       fmt=st.sampled_from(FORMATS))
def test_every_format_round_trips_any_partition_on_the_frame_grid(mask, extra, fmt):
    duration = len(mask) / 100 + extra
    segments = frames_to_segments(np.array(mask), duration=duration)
    back = read_segments(write_segments(segments, fmt, duration=duration), fmt, duration=duration)
    assert back == segments


@pytest.mark.parametrize("fmt", ["json", "jams", "textgrid"])
def test_formats_that_record_the_duration_need_no_duration_to_read(fmt):
    assert read_segments(write_segments(SONG, fmt, duration=12.3456), fmt) == SONG


def test_lab_writes_vocal_segments_only_with_tabs_and_three_decimals():
    assert write_segments(SONG, "lab") == "3.390\t4.000\tsing\n10.500\t12.346\tsing\n"


def test_lab_full_writes_jamendo_sing_and_nosing_lines():
    lines = write_segments(SONG, "lab", full=True).splitlines()
    assert lines[0] == "0.000\t3.390\tnosing" and len(lines) == 4


def test_jamendo_style_lab_with_spaces_and_nosing_is_read():
    text = "0.0 3.39 nosing\n3.39 4.0 sing\n4.0 10.5 nosing\n10.5 12.3456 sing\n"
    assert read_segments(text, "lab") == SONG


def test_vocal_only_lab_fills_gaps_with_non_vocal_up_to_the_duration():
    segments = read_segments("1.0\t2.0\tsing\n", "lab", duration=5.0)
    assert segments == [Segment(0, 1, NON_VOCAL), Segment(1, 2, VOCAL), Segment(2, 5, NON_VOCAL)]


def test_overlapping_and_unordered_vocal_lines_are_merged():
    segments = read_segments("3 4 sing\n1 2.5 sing\n2 3 sing\n", "lab", duration=5.0)
    validate_partition(segments, duration=5.0)
    assert segments[1] == Segment(1.0, 4.0, VOCAL)


def test_an_empty_file_is_all_non_vocal():
    assert read_segments("", "lab", duration=2.0) == [Segment(0.0, 2.0, NON_VOCAL)]


def test_audacity_labels_skip_spectral_lines_and_honour_non_vocal_names():
    text = "1.0\t2.0\tvocal\n\\\t100.0\t2000.0\n3.0\t4.0\tinstrumental\n5.0\t6.0\tchorus\n"
    segments = read_segments(text, "audacity", duration=7.0)
    assert [(s.start, s.end) for s in segments if s.label == VOCAL] == [(1.0, 2.0), (5.0, 6.0)]


def test_csv_columns_are_found_by_header_or_position():
    by_header = read_segments("label,end,start\nvocal,2,1\n", "csv", duration=3.0)
    by_position = read_segments("1,2,sing\n", "csv", duration=3.0)
    assert by_header == by_position == [Segment(0, 1, NON_VOCAL), Segment(1, 2, VOCAL), Segment(2, 3, NON_VOCAL)]


def test_json_may_be_a_bare_list_of_segments():
    assert read_segments('[{"start": 1, "end": 2, "label": "vocal"}]', "json", duration=2.0)[-1].label == VOCAL


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_written_jams_is_valid_jams():
    import io

    import jams

    jam = jams.load(io.StringIO(write_segments(SONG, "jams", duration=12.3456, title="A song")), validate=True)
    assert jam.file_metadata.duration == 12.3456 and jam.annotations[0].namespace == "segment_open"


def test_written_textgrid_opens_in_praatio_with_a_vocal_tier(tmp_path):
    from praatio import textgrid

    path = write_file(tmp_path / "song.TextGrid", SONG, duration=12.3456)
    tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    assert list(tg.tierNames) == ["vocal"] and tg.getTier("vocal").entries[1].label == "vocal"


def test_rttm_lines_name_the_song_and_give_start_and_duration():
    line = write_segments(SONG, "rttm", title="my song").splitlines()[0]
    assert line == "SPEAKER my_song 1 3.390 0.610 <NA> <NA> vocal <NA> <NA>"


def test_files_are_read_by_path_with_the_format_from_the_extension(tmp_path):
    for fmt in FORMATS:
        path = write_file(tmp_path / f"song{EXTENSIONS[fmt]}", SONG, duration=12.3456)
        assert format_from_path(path) == fmt
        assert read_segments(path, duration=12.3456) == SONG
        assert read_segments(str(path), duration=12.3456) == SONG


def test_bytes_with_a_byte_order_mark_are_read():
    assert read_segments("\ufeff1 2 sing\n".encode(), "lab", duration=3.0)[1] == Segment(1, 2, VOCAL)


def test_an_unknown_extension_or_format_is_refused():
    with pytest.raises(FormatError, match=r"\.xyz"):
        format_from_path("a.xyz")
    with pytest.raises(FormatError, match="unknown segment format 'xml'"):
        write_segments(SONG, "xml")
    with pytest.raises(FormatError, match="unknown segment format"):
        read_segments("", "xml", duration=1.0)


@pytest.mark.parametrize(
    ("fmt", "text", "message"),
    [
        ("lab", "0 1 sing\n1 two sing\n", "line 2: 'two' is not a number"),
        ("lab", "0 1 sing\n1 2 shout\n", "line 2: unknown label 'shout'"),
        ("lab", "0 1 sing\n\n5\n", "line 3: expected 'start end"),
        ("lab", "2 1 sing\n", "line 1: segment ends"),
        ("lab", "-1 1 sing\n", "line 1: negative start"),
        ("lab", "0 1 sing\n50 60 sing\n", "line 2: segment .* lies after the end"),
        ("audacity", "0\t1\tvocal\n1\n", "line 2: expected"),
        ("csv", "start,end,label\n0,1,vocal\n1,x,vocal\n", "line 3: 'x' is not a number"),
        ("csv", "begin,finish\n0,1\n", "line 1: CSV header lacks"),
        ("json", '{"segments": [\n{"start": 0, "end": 1,}]}', "line 2: not valid JSON"),
        ("json", '{"segments": [{"start": 0}]}', "segment 0: expected an object"),
        ("json", '{"segments": 3}', "needs a list of segments"),
        ("jams", "{}", "not a JAMS file|no annotation"),
        ("jams", "{", "line 1: not valid JSON"),
        ("textgrid", "hello", "not a Praat TextGrid"),
        ("rttm", "SPEAKER s 1 0.5\n", "line 1: expected 'SPEAKER"),
        ("rttm", "SPEAKER s 1 0.5 -2 <NA> <NA> vocal <NA> <NA>\n", "line 1: negative duration"),
    ],
)
def test_garbage_is_refused_with_its_line_number(fmt, text, message):
    with pytest.raises(FormatError, match=message):
        read_segments(text, fmt, duration=10.0)


def test_errors_reading_a_file_name_the_file(tmp_path):
    (tmp_path / "bad.lab").write_text("0 1 sing\nnope\n")
    with pytest.raises(FormatError, match=r"bad\.lab: line 2"):
        read_segments(tmp_path / "bad.lab", duration=3.0)
    (tmp_path / "bin.lab").write_bytes(b"\xff\xfe\x00garbage\x80")
    with pytest.raises(FormatError, match="not a text file"):
        read_segments(tmp_path / "bin.lab", duration=3.0)


def test_a_vocal_end_just_past_the_duration_is_clipped_not_refused():
    segments = read_segments("1.0 10.4 sing\n", "lab", duration=10.0)
    assert segments[-1] == Segment(1.0, 10.0, VOCAL)


def test_the_json_document_has_title_duration_and_segments():
    doc = json.loads(write_segments(SONG, "json", duration=12.3456, title="A song"))
    assert doc["title"] == "A song" and doc["duration"] == 12.3456 and len(doc["segments"]) == 4


def test_textgrid_reading_ignores_empty_intervals_as_non_vocal(tmp_path):
    from praatio import textgrid

    tg = textgrid.Textgrid()
    tg.addTier(textgrid.IntervalTier("words", [(1.0, 2.0, "la")], 0, 5.0))
    tg.addTier(textgrid.IntervalTier("singing", [(1.5, 2.5, "sing")], 0, 5.0))
    tg.save(str(tmp_path / "x.TextGrid"), format="short_textgrid", includeBlankSpaces=True)
    segments = read_segments(Path(tmp_path / "x.TextGrid"))
    assert [(s.start, s.end) for s in segments if s.label == VOCAL] == [(1.5, 2.5)]
