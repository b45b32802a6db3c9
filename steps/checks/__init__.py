"""The ``check`` step: data-quality rules, quarantine of failing rows, a quality report."""
