"""Small pure pieces: the at() expression, settings checked by name, the daily email's text, form parsing."""
from datetime import datetime, timedelta, timezone

import pytest

from common.settings import SettingError
from common.web import AppError
from functions.notifications.chalicelib import settings
from functions.notifications.chalicelib.admin import forms
from functions.notifications.chalicelib.mailings import schedules
from functions.notifications.chalicelib.stats import reports

UTC = timezone.utc


def test_at_expression_is_utc_and_never_early():
    msk = timezone(timedelta(hours=3))
    assert schedules.at_expression(datetime(2030, 1, 1, 12, 0, 0, tzinfo=msk)) == "at(2030-01-01T09:00:00)"
    assert schedules.at_expression(datetime(2030, 1, 1, 9, 0, 0, 1, tzinfo=UTC)) == "at(2030-01-01T09:00:01)"


def test_settings_name_what_is_missing(monkeypatch):
    for name in ("NOTIFICATIONS_SEND_QUEUE_URL", "PROVIDER_BASE_URL", "PROVIDER_JWT"):
        monkeypatch.delenv(name, raising=False)
    settings.load.cache_clear()
    with pytest.raises(SettingError, match="NOTIFICATIONS_SEND_QUEUE_URL"):
        settings.load().need("send_queue_url", "provider_url", "provider_jwt")
    monkeypatch.setenv("NOTIFICATIONS_SEND_QUEUE_URL", "http://127.0.0.1:9/q")
    monkeypatch.setenv("PROVIDER_BASE_URL", "ftp://x")
    settings.load.cache_clear()
    with pytest.raises(SettingError, match="PROVIDER_BASE_URL"):
        settings.load()
    settings.load.cache_clear()


def test_daily_text_lists_the_days_mailings_with_totals():
    now = datetime(2030, 1, 2, 6, 0, tzinfo=UTC)
    counts = {"processing": 1, "sent": 5, "error": 2, "expired": 1, "total": 9}
    old = {"id": 1, "start": "2029-12-01T00:00:00+00:00", "end": "2029-12-02T00:00:00+00:00",
           "counts": dict.fromkeys(counts, 0)}
    recent = {"id": 2, "start": "2030-01-01T09:00:00+00:00", "end": "2030-01-01T21:00:00+00:00", "counts": counts}
    text = reports.daily_text([old, recent], now, now - timedelta(days=1))
    assert "Mailing 2 " in text and "Mailing 1 " not in text
    assert "sent 5, errors 2, expired 1, in progress 1" in text and "Total: 9 messages" in text
    assert "No mailing ran" in reports.daily_text([old], now, now - timedelta(days=1))


def test_mailing_form_reads_local_times_in_the_chosen_zone():
    body = forms.mailing_body({"start": "2030-01-01T09:00", "end": "2030-01-01T21:00", "zone": "Asia/Vladivostok",
                               "text": "Hi", "operator_codes": "916, 903", "tags": "", "window_start": "10:00",
                               "window_end": "20:00"})
    assert body["start"] == "2030-01-01T09:00:00+10:00" and body["end"] == "2030-01-01T21:00:00+10:00"
    assert body["filter"] == {"operator_codes": ["916", "903"], "tags": []}
    assert body["window"] == {"start": "10:00", "end": "20:00"}
    with pytest.raises(AppError):
        forms.mailing_body({"start": "x", "end": "y", "zone": "Europe/Moscow"})
    with pytest.raises(AppError):
        forms.fields(b"phone=7%00")
