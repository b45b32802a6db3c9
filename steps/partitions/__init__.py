"""``partitions``: the list of partitions a fanned-out step runs over, computed at run time."""
