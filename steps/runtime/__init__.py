"""What every step shares: config base, store, artifacts, outputs, logs, errors."""
