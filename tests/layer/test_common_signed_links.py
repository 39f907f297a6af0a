"""common.signed_links: genuine, unexpired, same-purpose tokens only; every other token says why it is refused."""
import pytest

from common import signed_links

KEY = "a test key that is not a secret"


def test_a_link_gives_back_its_subject_until_it_expires():
    token = signed_links.make("confirm", "42:me@example.com", 60, key=KEY, now=1000)
    assert signed_links.read(token, "confirm", key=KEY, now=1059) == "42:me@example.com"
    with pytest.raises(signed_links.LinkError) as refused:
        signed_links.read(token, "confirm", key=KEY, now=1060)
    assert refused.value.reason == signed_links.EXPIRED


def test_two_links_for_one_subject_differ_and_tokens_are_url_safe():
    first, second = (signed_links.make("confirm", "я:1", 60, key=KEY) for _ in range(2))
    assert first != second and signed_links.digest(first) != signed_links.digest(second)
    assert all(ch.isalnum() or ch in "-_." for ch in first)


def test_forged_altered_or_other_purpose_tokens_are_invalid():
    token = signed_links.make("confirm", "42:me@example.com", 60, key=KEY)
    body, signature = token.split(".")
    forged = signed_links.make("confirm", "43:me@example.com", 60, key="another key")
    bad = [forged, body + "." + signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB"), body, "",
           "x" * 5000, "a.b", "é.é", token + ".x", signed_links.make("reset", "42:me@example.com", 60, key=KEY), None]
    for candidate in bad:
        with pytest.raises(signed_links.LinkError) as refused:
            signed_links.read(candidate, "confirm", key=KEY)
        assert refused.value.reason == signed_links.INVALID, candidate
    # An expired forgery is still "invalid": the signature is checked before anything else.
    with pytest.raises(signed_links.LinkError) as refused:
        signed_links.read(signed_links.make("confirm", "s", -10, key="another key"), "confirm", key=KEY)
    assert refused.value.reason == signed_links.INVALID


def test_the_key_comes_from_the_platform_secret(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", KEY)
    monkeypatch.delenv("PLATFORM_SECRETS", raising=False)
    token = signed_links.make("confirm", "s", 60)
    assert signed_links.read(token, "confirm", key=KEY) == "s"


def test_an_unusable_link_carries_its_reason_and_the_kind_of_links_text():
    class Refused(signed_links.Unusable):
        REASONS = {signed_links.EXPIRED: "This link has expired. Ask for a new one."}

    error = Refused(signed_links.EXPIRED)
    assert (error.reason, error.message) == (signed_links.EXPIRED, "This link has expired. Ask for a new one.")
