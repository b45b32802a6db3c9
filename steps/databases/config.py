"""The connection part of every SQL step config: URL, password variable, Secret."""

import os
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from steps.databases.bounds import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_STATEMENT_TIMEOUT,
    Bounds,
)
from steps.databases.url import DatabaseUrl, DatabaseUrlError, parse_database_url
from steps.runtime.config import SecretEnv, StepConfig
from steps.runtime.errors import StepUsageError


class SecretRef(BaseModel):
    """A key of a Kubernetes Secret, exposed to the step as an environment variable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Name of the Kubernetes Secret.")
    key: str = Field(description="Key inside the Secret that holds the password.")


_BOUND_DEFAULTS = {
    "connect_timeout": DEFAULT_CONNECT_TIMEOUT,
    "lock_timeout": DEFAULT_LOCK_TIMEOUT,
    "statement_timeout": DEFAULT_STATEMENT_TIMEOUT,
}


class DatabaseStepConfig(StepConfig):
    """Fields and helpers shared by ``extract-sql`` and ``load-sql``."""

    url: str = Field(
        description=(
            "Connection URL without password: postgresql://user@host:port/db?options=..., "
            "mysql://user@host:port/db (MariaDB/MySQL) or sqlite:///path/file.db."
        )
    )
    password_env: str | None = Field(
        default=None,
        description="Environment variable holding the database password (never put it in url).",
    )
    password_secret: SecretRef | None = Field(
        default=None,
        description=(
            "Kubernetes Secret key rendered into password_env as a secretKeyRef; "
            "the local runner reads password_env from its own environment instead."
        ),
    )

    connect_timeout: float = Field(
        default=DEFAULT_CONNECT_TIMEOUT,
        gt=0,
        description="Seconds to wait for a connection (libpq connect_timeout, PyMySQL "
        "connect_timeout; whole seconds, rounded up). A connect_timeout in a PostgreSQL URL wins.",
    )
    lock_timeout: float = Field(
        default=DEFAULT_LOCK_TIMEOUT,
        ge=0,
        description="Seconds a statement waits for a lock another session holds before the "
        "step fails (exit 1, retried): PostgreSQL lock_timeout, MariaDB/MySQL "
        "lock_wait_timeout and innodb_lock_wait_timeout (whole seconds), SQLite busy_timeout. "
        "0 for no limit (MariaDB/MySQL: one year, SQLite: 24 days).",
    )
    statement_timeout: float = Field(
        default=DEFAULT_STATEMENT_TIMEOUT,
        ge=0,
        description="Seconds one statement (the whole COPY or SELECT of an extract, each "
        "load statement) may run before the step fails (exit 1, retried): PostgreSQL "
        "statement_timeout, MariaDB max_statement_time, MySQL max_execution_time (SELECTs "
        "only); 0 for no limit. Not applied to SQLite.",
    )

    @field_validator("url")
    @classmethod
    def _url_is_valid(cls, url: str) -> str:
        try:
            parse_database_url(url)
        except DatabaseUrlError as err:
            raise ValueError(str(err)) from None
        return url

    @model_validator(mode="after")
    def _secret_has_variable(self) -> "DatabaseStepConfig":
        if self.password_secret is not None and not self.password_env:
            raise ValueError(
                "password_secret needs password_env: the variable name the secret is exposed as"
            )
        return self

    @model_serializer(mode="wrap")
    def _bounds_only_when_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave bounds at their defaults out of the dump (the rendered ``--config``).

        The step reads the same defaults back, and pipelines that keep them render as
        before.
        """
        data: dict[str, Any] = handler(self)
        for name, default in _BOUND_DEFAULTS.items():
            if data.get(name) == default:
                del data[name]
        return data

    def bounds(self) -> Bounds:
        """The connect, lock and statement timeouts."""
        return Bounds(
            connect_timeout=self.connect_timeout,
            lock_timeout=self.lock_timeout,
            statement_timeout=self.statement_timeout,
        )

    def database_url(self) -> DatabaseUrl:
        """The parsed connection URL."""
        return parse_database_url(self.url)

    def password(self) -> str | None:
        """The password from ``password_env``; fails when the variable is not set."""
        if not self.password_env:
            return None
        value = os.environ.get(self.password_env)
        if value is None:
            raise StepUsageError(
                f"environment variable {self.password_env} (password_env) is not set; "
                f"set it to the password for {self.database_url().redacted()}"
            )
        return value

    def secret_envs(self) -> list[SecretEnv]:
        """The password Secret as an environment variable, when one is configured."""
        if self.password_secret is None or not self.password_env:
            return []
        return [
            SecretEnv(
                env=self.password_env,
                secret_name=self.password_secret.name,
                secret_key=self.password_secret.key,
            )
        ]
