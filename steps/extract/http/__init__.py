"""The ``extract-http`` source: page through a JSON HTTP API into an artifact."""
