"""A service's settings: ``AIVJ_SERVICE_*`` environment variables, else these defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aivj.home import state_dir


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIVJ_SERVICE_", frozen=True)

    name: str = "aivj"
    # Service data (key file, queues, logs): $AIVJ_HOME/services/<name> unless given.
    data_dir: Path | None = None
    require_api_key: bool = True
    rate_limit_per_minute: int = Field(default=120, ge=1)
    # Requests without a key on a service's tier routes (the market's free tier), per client address.
    free_rate_limit_per_minute: int = Field(default=30, ge=1)
    # Bytes a request body may have, counted as they arrive (a chunked body declares no length).
    max_body_bytes: int = Field(default=1 << 20, ge=1)

    def home(self) -> Path:
        return self.data_dir if self.data_dir is not None else state_dir("services") / self.name

    def keys_file(self) -> Path:
        return self.home() / "api_keys.json"
