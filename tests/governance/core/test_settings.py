"""Settings: environment prefix, TOML file, REELGUARD_HOME isolation, clear errors."""

from __future__ import annotations

import os
import stat

import pytest

from governance.core.errors import ConfigError, KeyMaterialError, StorageError
from governance.core.secrets import watermark_key
from governance.core.settings import get_settings
from governance.records.storage.db import get_engine, masked_url


def test_home_holds_database_and_keys(home):
    settings = get_settings()
    assert settings.home == home
    assert settings.resolved_database_url == f"sqlite:///{home / 'reelguard.db'}"
    assert settings.keys_path == home / "keys"
    settings.ensure_dirs()
    assert stat.S_IMODE(os.stat(settings.keys_path).st_mode) == 0o700


def test_environment_overrides_toml(home, monkeypatch):
    home.mkdir(parents=True)
    (home / "config.toml").write_text('[reelguard]\njurisdiction = "cn"\norganisation = "Studio A"\n')
    assert get_settings().jurisdiction == "cn"
    assert get_settings().organisation == "Studio A"
    monkeypatch.setenv("REELGUARD_JURISDICTION", "us-ca")
    assert get_settings().jurisdiction == "us-ca"


def test_malformed_toml_and_values_are_config_errors(home, monkeypatch):
    home.mkdir(parents=True)
    (home / "config.toml").write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="config.toml"):
        get_settings()
    (home / "config.toml").unlink()
    monkeypatch.setenv("REELGUARD_JURISDICTION", "mars")
    with pytest.raises(ConfigError, match="jurisdiction"):
        get_settings()


def test_two_homes_never_share_keys(tmp_path):
    a = get_settings(home=tmp_path / "a")
    b = get_settings(home=tmp_path / "b")
    assert watermark_key(a) != watermark_key(b)
    assert watermark_key(a) == watermark_key(a)
    key_file = a.keys_path / "watermark.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_malformed_watermark_key_is_refused(home):
    settings = get_settings()
    settings.ensure_dirs()
    (settings.keys_path / "watermark.key").write_bytes(b"short")
    with pytest.raises(KeyMaterialError, match="malformed"):
        watermark_key(settings)


def test_unreachable_database_is_a_clear_storage_error():
    url = "postgresql+psycopg://reelguard:s3cret@127.0.0.1:9/nowhere"
    with pytest.raises(StorageError) as raised:
        get_engine(url)
    message = str(raised.value)
    assert "unreachable" in message
    assert "s3cret" not in message  # passwords never leak into messages
    assert masked_url(url) in message


def test_unwritable_sqlite_location_is_a_storage_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="unreachable"):
        get_engine(f"sqlite:///{blocker / 'sub' / 'db.sqlite'}")
