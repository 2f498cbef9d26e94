"""detector.labels: the one place where seconds meet frames; segments are full partitions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.errors import FormatError
from detector.labels import (
    NON_VOCAL,
    VOCAL,
    Segment,
    duration_to_n_frames,
    frames_to_segments,
    intervals_to_frames,
    intervals_to_segments,
    merge_adjacent,
    runs,
    segments_to_frames,
    time_to_frame,
    validate_partition,
    vocal_intervals,
)

masks = st.lists(st.booleans(), min_size=0, max_size=300).map(lambda v: np.array(v, dtype=bool))


def test_an_interval_covers_the_frames_whose_centres_lie_inside_it():
    # frame i covers [i/100, (i+1)/100); centre (i + 0.5)/100
    mask = intervals_to_frames([(0.012, 0.035)], n_frames=6)
    assert mask.tolist() == [False, True, True, False, False, False]


def test_interval_edges_on_frame_boundaries_map_exactly():
    assert np.flatnonzero(intervals_to_frames([(3.39, 4.0)], n_frames=500)).tolist() == list(range(339, 400))


def test_time_to_frame_is_robust_to_decimal_noise():
    assert time_to_frame(0.015) == 1  # 0.015 * 100 = 1.5000000000000002
    assert time_to_frame(0.1 + 0.2) == 30


def test_intervals_outside_the_song_are_clipped():
    mask = intervals_to_frames([(-1.0, 0.02), (0.09, 5.0)], n_frames=10)
    assert mask.tolist() == [True, True] + [False] * 7 + [True]


def test_duration_to_n_frames_counts_frames_starting_before_the_end():
    assert duration_to_n_frames(1.0) == 100 and duration_to_n_frames(1.001) == 101
    assert duration_to_n_frames(0.3) == 30


def test_frames_to_segments_makes_an_alternating_full_partition():
    segments = frames_to_segments(np.array([0, 0, 1, 1, 1, 0, 1], bool), duration=0.0712)
    assert segments == [Segment(0.0, 0.02, NON_VOCAL), Segment(0.02, 0.05, VOCAL), Segment(0.05, 0.06, NON_VOCAL),
                        Segment(0.06, 0.0712, VOCAL)]


def test_frames_past_the_duration_are_ignored_and_a_short_mask_extends_its_last_value():
    assert frames_to_segments(np.array([1, 1, 0, 0], bool), duration=0.015) == [Segment(0.0, 0.015, VOCAL)]
    assert frames_to_segments(np.array([0, 1], bool), duration=1.0) == [Segment(0, 0.01, NON_VOCAL),
                                                                        Segment(0.01, 1.0, VOCAL)]


def test_an_empty_mask_is_one_non_vocal_segment_and_no_duration_no_segment():
    assert frames_to_segments(np.zeros(0, bool), duration=2.0) == [Segment(0.0, 2.0, NON_VOCAL)]
    assert frames_to_segments(np.ones(5, bool), duration=0.0) == []


@settings(max_examples=200, deadline=None)
@given(mask=masks, extra=st.floats(0.0, 0.0099))
def test_mask_to_segments_to_mask_is_the_identity(mask, extra):
    duration = len(mask) / 100 + extra
    if duration <= 0:
        return
    segments = frames_to_segments(mask, duration=duration)
    validate_partition(segments, duration=duration)
    assert all(a.label != b.label for a, b in zip(segments, segments[1:], strict=False))
    np.testing.assert_array_equal(segments_to_frames(segments, n_frames=len(mask)), mask)


def test_runs_encode_a_mask_as_starts_ends_values():
    starts, ends, values = runs(np.array([1, 1, 0, 1]))
    assert starts.tolist() == [0, 2, 3] and ends.tolist() == [2, 3, 4] and values.tolist() == [1, 0, 1]
    assert [len(x) for x in runs(np.zeros(0))] == [0, 0, 0]


def test_vocal_intervals_merges_touching_vocal_segments():
    segments = [Segment(0, 1, VOCAL), Segment(1, 2, VOCAL), Segment(2, 3, NON_VOCAL), Segment(3, 4, VOCAL)]
    assert vocal_intervals(segments) == [(0, 2), (3, 4)]


def test_intervals_to_segments_unions_clips_and_fills_gaps_with_non_vocal():
    segments = intervals_to_segments([(3.0, 5.0), (0.5, 1.0), (0.9, 2.0)], duration=4.0)
    assert segments == [Segment(0.0, 0.5, NON_VOCAL), Segment(0.5, 2.0, VOCAL), Segment(2.0, 3.0, NON_VOCAL),
                        Segment(3.0, 4.0, VOCAL)]


def test_merge_adjacent_joins_equal_neighbours():
    segments = [Segment(0, 1, VOCAL), Segment(1, 2, VOCAL), Segment(2, 3, NON_VOCAL)]
    assert merge_adjacent(segments) == [Segment(0, 2, VOCAL), Segment(2, 3, NON_VOCAL)]


def test_segments_round_trip_through_dicts():
    seg = Segment(1.5, 2.25, VOCAL)
    assert Segment.from_dict(seg.to_dict()) == seg
    with pytest.raises(FormatError, match="start"):
        Segment.from_dict({"end": 1, "label": "vocal"})


@pytest.mark.parametrize(("args", "reason"), [((0, 1, "singing"), "label"), ((2, 1, VOCAL), "ends before"),
                                              ((0, float("nan"), VOCAL), "non-finite")])
def test_a_malformed_segment_cannot_be_built(args, reason):
    with pytest.raises(FormatError, match=reason):
        Segment(*args)


@pytest.mark.parametrize(
    ("segments", "reason"),
    [
        ([], "no segments"),
        ([Segment(0.5, 2, VOCAL)], "starts at 0.500"),
        ([Segment(0, 1, VOCAL), Segment(1.2, 2, NON_VOCAL)], "gap between 1.000 s and 1.200 s"),
        ([Segment(0, 1.2, VOCAL), Segment(1.0, 2, NON_VOCAL)], "overlap"),
        ([Segment(0, 1, VOCAL), Segment(1, 1.5, NON_VOCAL)], "not at the duration 2.000"),
        ([Segment(0, 1, VOCAL), Segment(1, 1, NON_VOCAL), Segment(1, 2, VOCAL)], "empty"),
        ([Segment(0, 2, VOCAL), Segment(0, 2, NON_VOCAL)], "overlap"),
        ([Segment(1, 2, VOCAL), Segment(0, 1, NON_VOCAL)], "starts at 1.000"),
        ([Segment(0, 1, VOCAL), Segment(1, 2, VOCAL), (2, 3)], "tuple"),
    ],
)
def test_validate_partition_names_what_is_wrong(segments, reason):
    with pytest.raises(FormatError, match=reason):
        validate_partition(segments, duration=2.0)


def test_validate_partition_accepts_a_partition_with_equal_neighbours():
    validate_partition([Segment(0, 1, VOCAL), Segment(1, 2, VOCAL)], duration=2.0)
