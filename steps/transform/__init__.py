"""The ``transform`` step: DuckDB SQL over upstream artifacts, streamed into a new artifact."""
