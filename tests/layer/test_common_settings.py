"""common.settings: typed, checked settings that name what is wrong, read once per cold start."""
import pytest

from common.settings import Reader, SettingError, once


def test_missing_and_empty_settings_are_named():
    env = Reader({"EMPTY": ""})
    for name in ("ABSENT", "EMPTY"):
        with pytest.raises(SettingError, match=name):
            env.text(name)
    assert env.text("ABSENT", "fallback") == "fallback"


def test_numbers_are_checked_and_bounded():
    env = Reader({"N": "12", "BAD": "twelve", "F": "0.5"})
    assert env.integer("N", minimum=1, maximum=20) == 12
    with pytest.raises(SettingError, match="BAD must be a whole number"):
        env.integer("BAD")
    with pytest.raises(SettingError, match="N must be at most 10"):
        env.integer("N", maximum=10)
    with pytest.raises(SettingError, match="N must be at least 13"):
        env.integer("N", minimum=13)
    assert env.number("F", minimum=0) == 0.5


def test_flags_choices_urls_and_lists():
    env = Reader({"ON": "yes", "ODD": "maybe", "MODE": "fast", "URL": "https://api.example.com/", "BAD_URL":
                  "ftp://x", "HOSTS": " a.example, ,10.0.0.0/8 "})
    assert env.flag("ON") is True and env.flag("OFF", False) is False
    with pytest.raises(SettingError, match="ODD must be true or false"):
        env.flag("ODD")
    assert env.choice("MODE", {"fast", "slow"}) == "fast"
    with pytest.raises(SettingError, match="MODE must be one of"):
        env.choice("MODE", {"slow"})
    assert env.url("URL") == "https://api.example.com"
    with pytest.raises(SettingError, match="BAD_URL must be a http/https URL"):
        env.url("BAD_URL")
    assert env.items("HOSTS") == ("a.example", "10.0.0.0/8")
    assert env.items("NONE", ()) == ()


def test_url_errors_never_echo_the_value():
    with pytest.raises(SettingError) as caught:
        Reader({"DB": "postgresql//user:hunter2@host"}).url("DB", schemes=("postgresql",))
    assert "hunter2" not in str(caught.value)


def test_once_reads_a_single_time_until_cleared():
    calls = []

    @once
    def load():
        calls.append(1)
        return len(calls)
    assert load() == load() == 1
    load.cache_clear()
    assert load() == 2
