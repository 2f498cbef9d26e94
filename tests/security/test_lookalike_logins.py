"""Login lockout: Django signs in with the NFKC-normalised username (AuthenticationForm), so the
lockout counts failures under that same name; full-width and mathematical look-alikes of a username,
and its other cases, share its five guesses (the fifth failure locks)."""

import pytest

PASSWORD = "correct horse battery"
LOOKALIKES = ["ｂ_ann", "𝐛_ann", "B_ANN", "b_ann ", "\uff42\uff3f\uff41\uff4e\uff4e"]


@pytest.mark.django_db
@pytest.mark.parametrize("lookalike", LOOKALIKES, ids=["fullwidth-b", "math-bold-b", "upper", "trailing-space", "all-fullwidth"])
def test_a_lookalike_username_shares_the_real_ones_failure_count(client, make_user, lookalike):
    make_user("b_ann", password=PASSWORD)
    for _ in range(4):
        assert client.post("/login/", {"username": "b_ann", "password": "guess"}).status_code == 200
    fifth = client.post("/login/", {"username": lookalike, "password": "another guess"})
    assert fifth.status_code == 429, f"{lookalike!r} got a guess of its own"
    assert client.post("/login/", {"username": lookalike, "password": PASSWORD}).status_code == 429


@pytest.mark.django_db
def test_failures_spread_over_lookalikes_lock_the_account(client, make_user):
    make_user("b_ann", password=PASSWORD)
    for name in ["b_ann", "ｂ_ann", "𝐛_ann", "B_ann"]:
        assert client.post("/login/", {"username": name, "password": "guess"}).status_code == 200
    assert client.post("/login/", {"username": "ｂ＿ａｎｎ", "password": "guess"}).status_code == 429
    assert client.post("/login/", {"username": "b_ann", "password": PASSWORD}).status_code == 429


@pytest.mark.django_db
def test_a_lookalike_logs_in_as_the_real_user_so_it_must_count(client, make_user):
    """Why it matters: Django normalises the username before checking the password."""
    make_user("b_ann", password=PASSWORD)
    response = client.post("/login/", {"username": "𝐛_ann", "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db
def test_another_account_from_the_same_address_is_not_locked(client, make_user):
    make_user("b_ann", password=PASSWORD)
    make_user("b_bob", password=PASSWORD)
    for _ in range(5):
        client.post("/login/", {"username": "ｂ_ann", "password": "guess"})
    assert client.post("/login/", {"username": "b_bob", "password": PASSWORD}).status_code == 302
