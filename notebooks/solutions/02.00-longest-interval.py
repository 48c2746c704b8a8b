def longest_interval(within_seconds, share):
    """The longest poll interval that sees `share` of events within `within_seconds`.

    An event happens at a random moment between two polls, so its wait is spread evenly from 0 to one
    interval: the share seen within T seconds is T / interval. Keep that at `share` or more.
    """
    return within_seconds / share
