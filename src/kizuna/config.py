"""One settings object, read from ``KIZUNA_*`` environment variables."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime settings.

    ``KIZUNA_DATA_DIR``: where the default SQLite store and reports go
    (default ``./.kizuna``). ``KIZUNA_DB_URL``: SQLAlchemy URL of the store;
    defaults to ``sqlite:///<DATA_DIR>/kizuna.sqlite``; use
    ``postgresql+psycopg://user@host:5432/dbname`` for the multi-user store.
    ``KIZUNA_WORKERS``: processes/threads for heavy numeric work (default:
    every core).
    """

    model_config = SettingsConfigDict(env_prefix="KIZUNA_", extra="ignore")

    DATA_DIR: Path = Path(".kizuna")
    DB_URL: str | None = None
    WORKERS: int = 0

    def db_url(self) -> str:
        if self.DB_URL:
            return self.DB_URL
        return f"sqlite:///{(self.DATA_DIR / 'kizuna.sqlite').resolve()}"

    def workers(self) -> int:
        return self.WORKERS if self.WORKERS > 0 else (os.cpu_count() or 1)


def get_settings() -> Settings:
    """Fresh settings from the current environment (cheap; tests change the env)."""
    return Settings()
