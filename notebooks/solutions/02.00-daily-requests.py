def daily_requests(customers, interval_seconds):
    """Every customer asks once per interval, all day long: a day has 86,400 seconds."""
    return customers * 86_400 / interval_seconds


shops, events_each, deadline_seconds, interval_seconds = 2_000, 3_000, 120, 60
polls = daily_requests(shops, interval_seconds)  # 2,880,000 requests a day, each bringing two or so events
pushes = shops * events_each  # push: one request per event, 6,000,000 a day
keeps_deadline = interval_seconds <= deadline_seconds  # a poller makes an event wait at most one interval
decision = "poll" if keeps_deadline and polls < pushes else "push"
