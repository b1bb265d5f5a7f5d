"""Settings: read once from MUSTER_* variables; a bad value is one clear line."""

from __future__ import annotations

import pytest

from api.settings import Settings, SettingsError, jwt_secret, load_settings


def test_defaults_without_environment():
    """With no variables, Muster listens on 127.0.0.1:8000 over the embedded database."""
    s = load_settings({})
    assert (s.host, s.port, s.database_url) == ("127.0.0.1", 8000, None)
    assert s.base_url == "http://127.0.0.1:8000"
    assert s.trusted_proxy_list == [] and s.head_timeout == 10


def test_trusted_proxies_are_addresses_and_networks():
    s = load_settings({"MUSTER_TRUSTED_PROXIES": " 10.0.0.5, 10.1.0.0/16,::1 "})
    assert s.trusted_proxy_list == ["10.0.0.5", "10.1.0.0/16", "::1"]


def test_values_are_parsed_from_strings():
    """Numbers and URLs arrive as strings and are typed once."""
    s = load_settings({"MUSTER_PORT": "9000", "MUSTER_PUBLIC_URL": "https://muster.example/",
                       "MUSTER_DATABASE_URL": "postgresql://u@db/muster", "PATH": "/bin"})
    assert s.port == 9000 and s.base_url == "https://muster.example"


def test_repeat_windows_are_seconds_for_leads_and_for_others():
    """A real alert is repeated after 60 s to the leads, 120 s to the others, unless set."""
    from datetime import timedelta

    assert load_settings({}).repeat_windows.window(lead=True) == timedelta(seconds=60)
    windows = load_settings({"MUSTER_REPEAT_AFTER_LEADS": "30",
                             "MUSTER_REPEAT_AFTER_OTHERS": "300"}).repeat_windows
    assert (windows.leads, windows.others) == (timedelta(seconds=30), timedelta(seconds=300))


def test_overrides_win_over_the_environment():
    """CLI flags (overrides) beat variables; None means 'not given'."""
    s = load_settings({"MUSTER_PORT": "9000"}, port=9100, host=None)
    assert (s.port, s.host) == (9100, "127.0.0.1")


@pytest.mark.parametrize(("env", "message"), [
    ({"MUSTER_PORT": "eighty"}, "MUSTER_PORT: Expected `int`, got `str`"),
    ({"MUSTER_PORT": "0"}, "MUSTER_PORT: Expected `int` >= 1"),
    ({"MUSTER_DATABASE_URL": "mysql://x"}, "MUSTER_DATABASE_URL: Expected `str` matching"),
    ({"MUSTER_LOG_LEVEL": "loud"}, "MUSTER_LOG_LEVEL: Invalid enum value 'loud'"),
    ({"MUSTER_JWT_SECRET": "short"}, "MUSTER_JWT_SECRET: Expected `str` of length >= 32"),
    ({"MUSTER_DATABSE_URL": "postgresql://x"}, "MUSTER_DATABSE_URL: unknown variable"),
    ({"MUSTER_TRUSTED_PROXIES": "10.0.0.1, proxy.local"},
     "MUSTER_TRUSTED_PROXIES: 'proxy.local' is not an address or network"),
    ({"MUSTER_TRUSTED_PROXIES": "10.0.0.1/8"}, "MUSTER_TRUSTED_PROXIES: '10.0.0.1/8' is not"),
    ({"MUSTER_HEAD_TIMEOUT": "0"}, "MUSTER_HEAD_TIMEOUT: Expected `float` > 0"),
    ({"MUSTER_VOICE_RATE": "0"}, "MUSTER_VOICE_RATE: Expected `float` > 0"),
    ({"MUSTER_TWILIO_ACCOUNT_SID": "AC1", "MUSTER_TWILIO_AUTH_TOKEN": "t",
      "MUSTER_TWILIO_MESSAGING_SERVICE_SID": "MG1"},
     "MUSTER_TWILIO_VOICE_FROM (a number of the account) is required"),
    ({"MUSTER_REPEAT_AFTER_LEADS": "5"}, "MUSTER_REPEAT_AFTER_LEADS: Expected `int` >= 10"),
    ({"MUSTER_REPEAT_AFTER_OTHERS": "7200"},
     "MUSTER_REPEAT_AFTER_OTHERS: Expected `int` <= 3600"),
])
def test_bad_values_name_the_variable(env, message):
    """Each bad value is reported as one line that starts with the variable's name."""
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_calls_come_from_the_sms_number_unless_told_otherwise():
    """Calls are placed from MUSTER_TWILIO_FROM, or MUSTER_TWILIO_VOICE_FROM when set (the
    one way with a messaging service); Twilio posts their ends and keypresses to the
    public URL."""
    twilio = {"MUSTER_TWILIO_ACCOUNT_SID": "AC1", "MUSTER_TWILIO_AUTH_TOKEN": "t",
              "MUSTER_PUBLIC_URL": "https://muster.example"}
    sms_number = load_settings(twilio | {"MUSTER_TWILIO_FROM": "+15005550006"}).providers()
    assert (sms_number.twilio_voice_from, sms_number.voice_rate_per_s) == ("+15005550006", 1)
    assert sms_number.voice_status_url == "https://muster.example/v1/webhooks/twilio/voice"
    assert sms_number.voice_keypress_url == (
        "https://muster.example/v1/webhooks/twilio/voice/keypress")
    service = load_settings(twilio | {"MUSTER_TWILIO_MESSAGING_SERVICE_SID": "MG1",
                                      "MUSTER_TWILIO_VOICE_FROM": "+15125550100",
                                      "MUSTER_VOICE_RATE": "2.5"}).providers()
    assert (service.twilio_voice_from, service.voice_rate_per_s) == ("+15125550100", 2.5)


def test_test_only_variable_is_tolerated():
    """MUSTER_TEST_DATABASE_URL belongs to the test suite and is not an error."""
    assert load_settings({"MUSTER_TEST_DATABASE_URL": "postgresql://x"}).database_url is None


def test_generated_secret_is_kept_in_the_data_dir(tmp_path):
    """Without MUSTER_JWT_SECRET a secret is generated once and reused."""
    s = Settings(data_dir=str(tmp_path / "data"))
    first = jwt_secret(s)
    assert len(first) >= 32 and jwt_secret(s) == first
    assert (tmp_path / "data" / "jwt-secret").stat().st_mode & 0o077 == 0


def test_configured_secret_wins(tmp_path):
    """MUSTER_JWT_SECRET is used as given and nothing is written."""
    s = Settings(data_dir=str(tmp_path), jwt_secret="s" * 40)
    assert jwt_secret(s) == "s" * 40 and not (tmp_path / "jwt-secret").exists()
