"""Property: a placement is accepted exactly when its rectangle lies on the page."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signing.errors import PlacementOutOfPageError
from signing.pades import Placement, SignOptions, sign_pdf
from signing.pki import SignerIdentity

A4_W, A4_H = 595.2756, 841.8898

coords = st.floats(min_value=-100, max_value=900, allow_nan=False, allow_infinity=False)
sizes = st.floats(min_value=1, max_value=300, allow_nan=False, allow_infinity=False)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(x=coords, y=coords, w=sizes, h=sizes)
def test_inside_iff_accepted(
    x: float,
    y: float,
    w: float,
    h: float,
    alice: SignerIdentity,
    one_page: bytes,
    simple_seal: bytes,
) -> None:
    inside = x >= -0.01 and y >= -0.01 and x + w <= A4_W + 0.01 and y + h <= A4_H + 0.01
    placement = Placement.explicit(1, x, y, width=w, height=h)
    if inside:
        result = sign_pdf(one_page, alice, simple_seal, [placement], SignOptions(level="B-B"))
        (applied,) = result.placements
        assert (applied.x, applied.y, applied.width, applied.height) == (x, y, w, h)
    else:
        with pytest.raises(PlacementOutOfPageError):
            sign_pdf(one_page, alice, simple_seal, [placement], SignOptions(level="B-B"))
