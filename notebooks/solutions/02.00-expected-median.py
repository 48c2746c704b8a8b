def expected_median(interval):
    """An event lands at a random moment between two polls: in the middle case it waits half an interval."""
    return interval / 2
