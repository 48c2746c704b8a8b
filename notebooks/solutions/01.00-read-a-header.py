event_name = rx.event(-1).headers["X-GitHub-Event"]
