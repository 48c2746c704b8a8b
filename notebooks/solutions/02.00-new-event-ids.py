def new_event_ids(events_url, cursor):
    """Every event newer than `cursor`, oldest first, as a list of ids."""
    ids = []
    while True:
        page = requests.get(events_url, params={"limit": 10, "ending_before": cursor}, timeout=5).json()
        ids += [event["id"] for event in reversed(page["data"])]  # each page is newest first
        if page["data"]:
            cursor = page["data"][0]["id"]  # the newest event seen so far
        if not page["has_more"]:
            return ids
