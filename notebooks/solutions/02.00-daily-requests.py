def daily_requests(customers, interval_seconds):
    """Every customer asks once per interval, all day long."""
    return customers * 86_400 / interval_seconds
