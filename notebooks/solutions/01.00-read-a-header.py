# The newest request that carries GitHub's event header: other requests may have arrived after it.
github_ids = [event_id for event_id in rx.events().index if rx.event(event_id).header("X-GitHub-Event")]
event_name = rx.event(github_ids[-1]).header("X-GitHub-Event")
