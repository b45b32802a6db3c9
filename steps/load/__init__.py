"""Target kinds: each sub-package loads an upstream artifact into one kind of target."""
