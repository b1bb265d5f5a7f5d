"""Settings read once from the environment (`MUSTER_*`) into a typed Struct.

A bad value stops the program with one line naming the variable, never a
traceback: an operator at 3 a.m. should see what to fix.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import msgspec
import platformdirs

from domain.repeats import RepeatWindows
from domain.values import Value
from notifications.providers import Providers

PREFIX = "MUSTER_"
# Read by the test suite, not by the service; tolerated so it is no "unknown variable".
_TEST_ONLY = {"MUSTER_TEST_DATABASE_URL"}

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s/]+")]
Dsn = Annotated[str, msgspec.Meta(pattern=r"^postgres(ql)?://")]
Secret = Annotated[str, msgspec.Meta(min_length=32)]


class SettingsError(Exception):
    """A configuration value is wrong; the message names the variable."""


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class LogFormat(StrEnum):
    AUTO = "auto"  # text on a terminal, JSON lines otherwise
    JSON = "json"
    TEXT = "text"


class Settings(Value, kw_only=True, forbid_unknown_fields=True):
    """Everything Muster reads from its environment; field `x` is `MUSTER_X`."""

    database_url: Dsn | None = None
    data_dir: str = platformdirs.user_data_dir("muster")
    host: str = "127.0.0.1"
    port: Port = 8000
    public_url: Url | None = None
    jwt_secret: Secret | None = None
    access_token_ttl: Annotated[int, msgspec.Meta(ge=60, le=86400)] = 900
    refresh_token_ttl: Annotated[int, msgspec.Meta(ge=3600, le=366 * 86400)] = 60 * 86400
    # Seconds a browser stays signed in (its cookie's life): a school day, then a new code
    browser_session_ttl: Annotated[int, msgspec.Meta(ge=300, le=7 * 86400)] = 12 * 3600
    # Other web origins whose scripts may call the API (comma-separated); none by default
    cors_origins: str | None = None
    db_pool_size: Annotated[int, msgspec.Meta(ge=2, le=200)] = 10
    # Whether `muster serve` sends queued notifications from its own processes; false when
    # `muster worker` processes do, so that the API never waits behind a district's alerts
    dispatch: bool = True
    log_level: LogLevel = LogLevel.INFO
    log_format: LogFormat = LogFormat.AUTO
    metrics_token: Annotated[str, msgspec.Meta(min_length=16)] | None = None  # for /metrics
    fcm_credentials: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    sms_rate: Annotated[float, msgspec.Meta(gt=0, le=1000)] = 10.0  # SMS handed off per second
    # The caller ID of voice calls: MUSTER_TWILIO_FROM unless set; required with a
    # messaging service, which cannot place calls
    twilio_voice_from: str | None = None
    voice_rate: Annotated[float, msgspec.Meta(gt=0, le=100)] = 1.0  # calls placed per second
    # Seconds a real alert's recipient has to acknowledge before it is repeated on the next
    # channel (domain/repeats.py): the SRO, principals and district admins; everyone else
    repeat_after_leads: Annotated[int, msgspec.Meta(ge=10, le=3600)] = 60
    repeat_after_others: Annotated[int, msgspec.Meta(ge=10, le=3600)] = 120
    # Proxies whose X-Forwarded-For is believed: addresses or networks, comma-separated
    trusted_proxies: str | None = None
    # Seconds a client has to send a request's head (request line and headers)
    head_timeout: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0
    # Provider endpoints, for an emulator, a proxy, or the fakes of tests and benchmarks
    fcm_url: Url | None = None
    twilio_api_url: Url | None = None

    def __post_init__(self) -> None:
        for proxy in self.trusted_proxy_list:
            try:
                ipaddress.ip_network(proxy)
            except ValueError:
                raise ValueError(f"MUSTER_TRUSTED_PROXIES: {proxy!r} is not an address or "
                                 "network (e.g. 10.0.0.5, 10.0.0.0/24)") from None
        if self.fcm_credentials and not Path(self.fcm_credentials).expanduser().is_file():
            raise ValueError(f"MUSTER_FCM_CREDENTIALS: no such file {self.fcm_credentials}")
        if self.twilio_account_sid and not self.twilio_auth_token:
            raise ValueError("MUSTER_TWILIO_AUTH_TOKEN is required with MUSTER_TWILIO_ACCOUNT_SID")
        senders = [self.twilio_from, self.twilio_messaging_service_sid]
        if self.twilio_account_sid and sum(map(bool, senders)) != 1:
            raise ValueError("set one of MUSTER_TWILIO_FROM or "
                             "MUSTER_TWILIO_MESSAGING_SERVICE_SID with MUSTER_TWILIO_ACCOUNT_SID")
        if self.twilio_account_sid and not self.voice_from:  # calls must not go to the log
            raise ValueError("MUSTER_TWILIO_VOICE_FROM (a number of the account) is required "
                             "with MUSTER_TWILIO_MESSAGING_SERVICE_SID: a messaging service "
                             "cannot place calls")

    @property
    def voice_from(self) -> str | None:
        """The number calls come from, if Muster places calls through Twilio."""
        return self.twilio_voice_from or self.twilio_from

    @property
    def base_url(self) -> str:
        """Where phones and Twilio reach us: MUSTER_PUBLIC_URL or http://HOST:PORT."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        """Cookies are sent only over https when that is how we are reached."""
        return self.base_url.startswith("https://")

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in (self.cors_origins or "").split(",") if o.strip()]

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in (self.trusted_proxies or "").split(",") if p.strip()]

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    @property
    def repeat_windows(self) -> RepeatWindows:
        return RepeatWindows(leads=timedelta(seconds=self.repeat_after_leads),
                             others=timedelta(seconds=self.repeat_after_others))

    def providers(self) -> Providers:
        """What the notification senders need to know."""
        from api.routes.webhooks import TWILIO_KEYPRESS_PATH, TWILIO_STATUS_PATH, TWILIO_VOICE_PATH

        return Providers(
            fcm_credentials=self.fcm_credentials, twilio_account_sid=self.twilio_account_sid,
            twilio_auth_token=self.twilio_auth_token, twilio_from=self.twilio_from,
            twilio_messaging_service_sid=self.twilio_messaging_service_sid,
            sms_status_url=self.base_url + TWILIO_STATUS_PATH, sms_rate_per_s=self.sms_rate,
            twilio_voice_from=self.voice_from, voice_status_url=self.base_url + TWILIO_VOICE_PATH,
            voice_keypress_url=self.base_url + TWILIO_KEYPRESS_PATH,
            voice_rate_per_s=self.voice_rate,
            fcm_url=self.fcm_url, twilio_api_url=self.twilio_api_url)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Parse `MUSTER_*` variables (plus explicit overrides, e.g. CLI flags)."""
    environ = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for name, value in environ.items():
        if not name.startswith(PREFIX) or name in _TEST_ONLY or value == "":
            continue
        raw[name.removeprefix(PREFIX).lower()] = value
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(str(exc))) from None


def _explain(message: str) -> str:
    """Turn msgspec's `... - at `$.port`` into `MUSTER_PORT: ...`."""
    text, _, where = message.partition(" - at `$.")
    if where:
        return f"{PREFIX}{where.rstrip('`').upper()}: {text}"
    if text.startswith("Object contains unknown field `"):
        field = text.removeprefix("Object contains unknown field `").rstrip("`")
        return f"{PREFIX}{field.upper()}: unknown variable (check its spelling)"
    return text


def jwt_secret(settings: Settings) -> str:
    """The token-signing secret: MUSTER_JWT_SECRET, or one generated once in the data dir.

    Replicas behind a load balancer must share MUSTER_JWT_SECRET.
    """
    if settings.jwt_secret:
        return settings.jwt_secret
    path = settings.data_path / "jwt-secret"
    settings.data_path.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
