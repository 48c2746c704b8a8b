event_header = "X-GitHub-Event"
