"""Report number filters never break a page: missing, blank or odd values show a dash."""

import pytest
from reports.templatetags.report_format import DASH, dclass, dpct, num, params, pct


@pytest.mark.parametrize("value", [None, "", "n/a", [], {}])
def test_missing_or_odd_values_show_a_dash_instead_of_breaking_the_page(value):
    assert pct(value) == num(value) == dpct(value) == params(value) == DASH
    assert dclass(value) == "same"


def test_numbers_are_formatted_for_people():
    assert pct(0.93214) == "93.2"
    assert num(580) == "580" and num(1440000) == "1,440,000"
    assert dpct(0.012) == "+1.2" and dpct(-0.0001) == "0.0"
    assert params(20731) == "20.73K" and params(144) == "144"
    assert (dclass(0.01), dclass(-0.01)) == ("better", "worse")
