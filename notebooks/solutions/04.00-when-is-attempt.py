def when_is_attempt(policy, n):
    """Seconds after the first attempt when attempt n is sent, if every attempt before it failed."""
    return sum(policy.delays[: n - 1])
