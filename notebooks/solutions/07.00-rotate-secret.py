def secrets_for(phase, old, new):
    """The secrets the endpoint verifies with at each step of a rotation."""
    if phase == "before":
        return [old]  # only the old secret exists yet
    if phase == "overlap":
        return [new, old]  # either signature may arrive: accept both
    return [new]  # after the overlap: the old secret is retired
